"""Every command honours BOOTSTRAP_EMULATOR_HOST and BOOTSTRAP_EMULATOR_TOKEN: its requests reach
the emulator as the principal the token belongs to, and a wrong token is a classified failure
(exit 1, UNAUTHENTICATED, a remedy), never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bootstrap.emulator.inprocess import Emulator
from tests.cli.cli_support import OWNER, VIEWER, Cli, read_json

DEMO = "manifests/demo.yaml"


@pytest.mark.parametrize(
    ("args", "token", "principal"),
    [
        (("plan", DEMO), "emulator-viewer", VIEWER),
        (("audit", DEMO), "emulator-viewer", VIEWER),
        (("audit", "--parent", "folders/345678901234"), "emulator-viewer", VIEWER),
        (("smoke", DEMO), "emulator-viewer", VIEWER),
        (("apply", DEMO, "--yes", "--no-smoke"), "emulator-owner", OWNER),
    ],
    ids=["plan", "audit", "audit-parent", "smoke", "apply"],
)
def test_requests_reach_the_emulator_as_the_tokens_principal(
    cli: Cli,
    cli_env: Emulator,
    monkeypatch: pytest.MonkeyPatch,
    args: tuple[str, ...],
    token: str,
    principal: str,
) -> None:
    monkeypatch.setenv("BOOTSTRAP_EMULATOR_TOKEN", token)
    result = cli(*args, "--format", "json")
    assert "Traceback" not in result.output
    assert json.loads(result.stdout)["command"] == args[0]
    journal = cli_env.journal()
    assert journal, "no request reached the emulator"
    assert {entry["principal"] for entry in journal} == {principal}


def test_apply_writes_as_the_owner(cli: Cli, cli_env: Emulator) -> None:
    cli("apply", DEMO, "--yes", "--no-smoke")
    writes = [e for e in cli_env.journal() if e["mutating"]]
    assert writes and {e["principal"] for e in writes} == {OWNER}


def test_env_prints_the_emulators_http_base_url(cli: Cli, cli_env: Emulator) -> None:
    result = cli("env", DEMO, "--project", "demo-ready", "--format", "json")
    assert result.exit_code == 0, result.output
    values = json.loads(result.stdout)
    assert values["OPENAI_BASE_URL"] == (
        f"http://{cli_env.host}/v1/projects/demo-ready/locations/global/endpoints/openapi"
    )


def test_the_env_base_url_answers_a_chat_completion(cli: Cli, cli_env: Emulator) -> None:
    from openai import OpenAI

    values = json.loads(cli("env", DEMO, "--project", "demo-ready", "--format", "json").stdout)
    client = OpenAI(base_url=values["OPENAI_BASE_URL"], api_key="emulator-viewer")
    answer = client.chat.completions.create(
        model=values["OPENAI_MODEL"], messages=[{"role": "user", "content": "hi"}], max_tokens=64
    )
    assert answer.choices[0].message.content
    assert cli_env.journal()[-1]["principal"] == VIEWER


@pytest.mark.parametrize(
    "args",
    [
        ("plan", DEMO),
        ("apply", DEMO, "--yes"),
        ("audit", DEMO),
        ("smoke", DEMO),
    ],
    ids=["plan", "apply", "audit", "smoke"],
)
def test_a_wrong_token_is_unauthenticated_with_a_remedy_and_no_traceback(
    cli: Cli,
    cli_env: Emulator,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    args: tuple[str, ...],
) -> None:
    monkeypatch.setenv("BOOTSTRAP_EMULATOR_TOKEN", "not-a-token")
    path = tmp_path / "report.json"
    result = cli(*args, "--output", str(path))
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "not-a-token" not in result.output + path.read_text()
    # Reads refused are unknown (could not be read), never judged as off; a smoke stream refused
    # is a failed check.
    failed = [
        check
        for project in read_json(path)["projects"]
        for check in project["checks"]
        if check["status"] in ("failed", "unknown")
    ]
    assert failed and {c["cause"] for c in failed} == {"UNAUTHENTICATED"}
    # Against the emulator the fix is the token variable, not a Google login (the control-plane
    # commands; the smoke test classifies its own 401s and still names the Google login).
    if args[0] != "smoke":
        assert all("BOOTSTRAP_EMULATOR_TOKEN" in c["remedy"] for c in failed)
    assert "UNAUTHENTICATED" in result.stdout
    assert {e["status"] for e in cli_env.journal()} == {401}
    assert not any(e["mutating"] for e in cli_env.journal())


def test_a_wrong_token_on_discovery_is_one_sentence_and_exit_1(
    cli: Cli, cli_env: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BOOTSTRAP_EMULATOR_TOKEN", "not-a-token")
    result = cli("audit", "--parent", "folders/345678901234")
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert result.stderr.startswith("error: The credentials were rejected")
    assert "Fix: " in result.stderr
