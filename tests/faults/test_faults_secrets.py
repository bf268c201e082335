"""Cases 54 and 55 (reliability-notes §5, issue 6 item 6): with a bearer token shaped like a real
one and errors whose details carry a credential file path, nothing any command produces (stdout,
stderr, every report format, the emulator's request log) contains a token pattern, and the path
is redacted. The tool writes no log files of its own; its logs are stderr.

This module runs its own emulator with its request log on (quiet=False), printed to the test
process's stderr, which `capfd` captures.
"""

from __future__ import annotations

import random
import string
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bootstrap.clock import FastForwardClock
from bootstrap.emulator.inprocess import Emulator
from tests.faults.faults_support import (
    ACCOUNT,
    CREDENTIAL_PATH,
    Harness,
    envelope,
    error_info,
    leaked,
    respond,
    rule,
)

TOKEN = "ya29." + "".join(random.Random(6).choices(string.ascii_letters + string.digits, k=120))
LEAKY = {
    "error": {
        "code": 403,
        "message": f"Permission denied. credential_source: {CREDENTIAL_PATH}",
        "status": "PERMISSION_DENIED",
        "details": [
            error_info(
                "IAM_PERMISSION_DENIED",
                permission="billing.resourceAssociations.create",
                credential_source=CREDENTIAL_PATH,
            ),
            {
                "@type": "type.googleapis.com/google.rpc.DebugInfo",
                "detail": f"Authorization: Bearer {TOKEN} credential_source={CREDENTIAL_PATH}",
            },
        ],
    }
}
UNAUTHENTICATED = envelope(
    401,
    "UNAUTHENTICATED",
    f"Request had invalid authentication credentials (credential_source: {CREDENTIAL_PATH}).",
    error_info("ACCESS_TOKEN_EXPIRED", credential_source=CREDENTIAL_PATH),
)
MANIFEST = f"""\
version: 1
smoke_test: {{timeout_s: 10}}
projects:
  - project_id: demo-no-billing
    billing_account: {ACCOUNT}
    link_billing: true
    models: [{{model: gpt-oss-120b, locations: [global], enable: true}}]
  - project_id: demo-ready
    models: [{{model: gpt-oss-120b, locations: [global]}}]
"""


@pytest.fixture(scope="module")
def loud() -> Iterator[Emulator]:
    with Emulator(quiet=False) as running:
        yield running


@pytest.fixture
def secret_cli(
    loud: Emulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[Harness]:
    loud.reset()
    world = loud.get_world()
    world["principals"].append(
        {"email": "ci@example.iam.gserviceaccount.com", "tokens": [TOKEN], "grants": {"*": ["*"]}}
    )
    loud.put_world(world)
    monkeypatch.setenv("BOOTSTRAP_EMULATOR_HOST", loud.host)
    monkeypatch.setenv("BOOTSTRAP_EMULATOR_TOKEN", TOKEN)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    clock = FastForwardClock(loud.advance)
    monkeypatch.setattr("bootstrap.cli.runtime.make_clock", lambda: clock)
    harness = Harness(loud, monkeypatch, tmp_path)
    yield harness
    harness.check_invariants()


def _outputs(tmp_path: Path, name: str) -> list[str]:
    args = []
    for ext in ("json", "xml", "md", "txt"):
        args += ["--output", str(tmp_path / f"{name}.{ext}")]
    return args


FAULTS: dict[str, list[dict[str, Any]]] = {
    "clean": [],
    "403-with-credential-path": [respond(r"/billingInfo$", 403, LEAKY, method="PUT", times=-1)],
    "401-twice": [respond(r"/billingInfo$", 401, UNAUTHENTICATED, times=-1)],
    "probe-403": [respond(r"/chat/completions$", 403, LEAKY, times=-1)],
    "stream-broken": [rule(r"/chat/completions$", action="sse_error_after", events=2, body=LEAKY)],
}


@pytest.mark.parametrize("faults", list(FAULTS), ids=list(FAULTS))
def test_case_54_55_no_token_or_credential_path_in_anything_produced(
    secret_cli: Harness,
    loud: Emulator,
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
    faults: str,
) -> None:
    path = tmp_path / "manifest.yaml"
    path.write_text(MANIFEST)
    if FAULTS[faults]:
        loud.add_faults({"rules": FAULTS[faults]})
    runs = [
        secret_cli("plan", str(path), *_outputs(tmp_path, "plan")),
        secret_cli("apply", str(path), "--yes", "--check", "tools", *_outputs(tmp_path, "apply")),
        secret_cli("audit", str(path), *_outputs(tmp_path, "audit")),
        secret_cli("smoke", str(path), *_outputs(tmp_path, "smoke")),
    ]
    if faults != "clean":
        assert any(run.exit_code != 0 for run in runs), "the failure path was exercised"
    produced = [run.stdout + run.stderr for run in runs]
    produced += [
        p.read_text() for p in tmp_path.iterdir() if p.suffix in (".json", ".xml", ".md", ".txt")
    ]
    captured = capfd.readouterr()
    produced.append(captured.out + captured.err)  # the emulator's request log included
    assert "/v1/projects/demo-no-billing/billingInfo" in captured.err + "".join(produced), (
        "the emulator's request log was captured"
    )
    for text in produced:
        assert leaked(text) == [], leaked(text)
    if faults == "403-with-credential-path":
        # the error body was read (its permission is named), its path and token were not kept
        assert "billing.resourceAssociations.create" in runs[1].output
