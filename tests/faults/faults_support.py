"""The fault suite's shared values: Google-shaped error bodies, fault rules, and the `Harness`
that runs the CLI in process and checks every run against the journal invariants.

The run record (`Run`) and the invariants (`violations`) live in `bootstrap.emulator.invariants`,
so the chaos soak (`python -m bench.chaos`) checks the very same rules without pytest; they are
re-exported here for the tests.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bootstrap.cli import cli as bootstrap_cli
from bootstrap.emulator.inprocess import Emulator
from bootstrap.emulator.invariants import Run, violations
from tests.error_payloads import envelope, error_info, retry_info

TOKEN_PATTERNS = ("ya29.", "1//", "AIza", "-----BEGIN PRIVATE KEY-----", "Authorization:")
CREDENTIAL_PATH = "/home/u/.config/gcloud/application_default_credentials.json"

ACCOUNT = "012345-6789AB-CDEF01"
CLOSED_ACCOUNT = "0FEDCB-A98765-432101"
MODEL = "publishers/openai/models/gpt-oss-120b-maas"
AIPLATFORM = "aiplatform.googleapis.com"
PROCUREMENT = "cloudcommerceconsumerprocurement.googleapis.com"


UNAVAILABLE = envelope(503, "UNAVAILABLE", "The service is currently unavailable.")
ACTIVATION_IN_PROGRESS = envelope(
    400,
    "FAILED_PRECONDITION",
    "Another activation or deactivation is in progress for service(s) "
    "'aiplatform.googleapis.com'. Please retry later.",
)
PRECONDITION = envelope(400, "FAILED_PRECONDITION", "Precondition check failed.")
BILLING_NOT_FOUND = envelope(
    400,
    "FAILED_PRECONDITION",
    "Precondition check failed.",
    error_info("UREQ_PROJECT_BILLING_NOT_FOUND", "serviceusage.googleapis.com"),
    {
        "@type": "type.googleapis.com/google.rpc.PreconditionFailure",
        "violations": [
            {
                "type": "googleapis.com/billing-enabled",
                "subject": "?error_code=390001&services=aiplatform.googleapis.com",
                "description": "Billing account for project '100000000002' is not found. "
                "Billing must be enabled for activation of service(s) "
                "'aiplatform.googleapis.com' to proceed.",
            }
        ],
    },
)
BILLING_QUOTA = envelope(
    400,
    "FAILED_PRECONDITION",
    "Precondition check failed.",
    {
        "@type": "type.googleapis.com/google.rpc.QuotaFailure",
        "violations": [
            {"subject": f"billingAccounts/{ACCOUNT}", "description": "Cloud billing quota exceeded"}
        ],
    },
)


def rate_limited(delay: str, *, service: str = "cloudbilling.googleapis.com") -> dict[str, Any]:
    return envelope(
        429,
        "RESOURCE_EXHAUSTED",
        "Quota exceeded for quota metric 'Write requests' and limit 'Write requests per minute'.",
        error_info(
            "RATE_LIMIT_EXCEEDED",
            service=service,
            quota_metric=f"{service}/write_requests",
            quota_limit="WritesPerMinutePerProject",
        ),
        retry_info(delay),
    )


def service_disabled(service: str, consumer: str) -> dict[str, Any]:
    return envelope(
        403,
        "PERMISSION_DENIED",
        f"{service} has not been used in project {consumer} before or it is disabled.",
        error_info(
            "SERVICE_DISABLED",
            service=service,
            consumer=f"projects/{consumer}",
            activationUrl=f"https://console.developers.google.com/apis/api/{service}/overview?project={consumer}",
        ),
    )


def rule(path: str, *, method: str | None = None, **fields: Any) -> dict[str, Any]:
    """A fault rule matching `path` (regex) and `method`; the rest are the rule's keys."""
    match: dict[str, Any] = {"path": path}
    if method:
        match["method"] = method
    return {"match": match, **fields}


def respond(path: str, status: int, body: Any, *, method: str | None = None, **kw: Any) -> Any:
    return rule(path, method=method, action="respond", status=status, body=body, **kw)


DEFAULT_TIMING = {
    "operation_polls": 1,
    "operation_seconds": 0,
    "service_propagation_s": 2,
    "billing_propagation_s": 1,
}

WorldEdit = Callable[[Callable[[dict[str, Any]], None]], None]


class Harness:
    """Runs the CLI in process and keeps every run with its slice of the journal."""

    def __init__(self, emulator: Emulator, monkeypatch: pytest.MonkeyPatch, tmp: Path) -> None:
        self.emulator = emulator
        self.monkeypatch = monkeypatch
        self.tmp = tmp
        self.runs: list[Run] = []
        self._counter = iter(range(10_000))

    def __call__(self, *args: str, token: str | None = None, report: bool = True) -> Run:
        if token is not None:
            self.monkeypatch.setenv("BOOTSTRAP_EMULATOR_TOKEN", token)
        path = self.tmp / f"report-{next(self._counter)}.json"
        extra = ["--output", str(path)] if report else []
        start = len(self.emulator.journal())
        before = self.emulator.get_world()
        result = CliRunner().invoke(bootstrap_cli, [*args, *extra], catch_exceptions=False)
        journal = self.emulator.journal()[start:]
        data = json.loads(path.read_text()) if report and path.exists() else None
        run = Run(
            command=args[0],
            args=tuple(args),
            exit_code=result.exit_code,
            stdout=result.stdout,
            stderr=result.stderr,
            report=data,
            journal=journal,
            before=before,
            after=self.emulator.get_world(),
            rules=self.emulator.faults()["rules"],
        )
        self.runs.append(run)
        return run

    def check_invariants(self) -> None:
        problems = [
            f"{r.command} #{i}: {p}" for i, r in enumerate(self.runs) for p in violations(r)
        ]
        assert not problems, "\n".join(problems)

    def converge(self) -> None:
        """Faults gone, operations allowed to finish: plan is 0 after at most one more apply."""
        applied = [r for r in self.runs if r.command == "apply"]
        if not applied:
            return
        manifests = [a for a in applied[-1].args if a.endswith(".yaml")]
        self.emulator.clear_faults()
        current = self.emulator.get_world()
        current["timing"].update(DEFAULT_TIMING)
        for op in current.get("operations", []):
            op["polls_needed"] = 0
        self.emulator.put_world(current)
        self.emulator.advance(31)  # past the unobserved-settle time of any pending operation
        owner = "emulator-owner"
        first = self("plan", *manifests, token=owner)
        if first.exit_code != 0:
            again = self("apply", *manifests, "--yes", "--no-smoke", token=owner)
            assert again.exit_code == 0, again.output
            final = self("plan", *manifests, token=owner)
            assert final.exit_code == 0, final.output
        self.check_invariants()


def leaked(text: str) -> list[str]:
    """The token patterns (and the credential path) found in `text`."""
    found = [p for p in TOKEN_PATTERNS if p in text]
    if CREDENTIAL_PATH in text:
        found.append(CREDENTIAL_PATH)
    return found


def times(entries: list[dict[str, Any]]) -> list[float]:
    """The journal entries' (virtual clock) times, in seconds."""
    return [
        dt.datetime.fromisoformat(e["time"].replace("Z", "+00:00")).timestamp() for e in entries
    ]


def spawn_cli(emulator: Emulator, *args: str) -> subprocess.Popen[str]:
    """`python -m bootstrap ARGS` in a real process against the emulator, so a test can send it
    SIGINT; no GITHUB_* variables leak in from the machine running the tests."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    env |= {
        "BOOTSTRAP_EMULATOR_HOST": emulator.host,
        "BOOTSTRAP_EMULATOR_TOKEN": "emulator-owner",
        "NO_COLOR": "1",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "bootstrap", *args],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # A child of a non-interactive shell may inherit SIGINT ignored; restore the default so
        # Python installs its KeyboardInterrupt handler, as in a terminal.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def wait_for_request(emulator: Emulator, pattern: str, timeout_s: float = 30.0) -> None:
    """Until the journal has a request whose path matches `pattern` (AssertionError after
    `timeout_s`)."""
    deadline = time.monotonic() + timeout_s
    while not any(re.search(pattern, e["path"]) for e in emulator.journal()):
        assert time.monotonic() < deadline, f"no request matching {pattern} within {timeout_s} s"
        time.sleep(0.05)


def interrupt(
    child: subprocess.Popen[str], *, when: Callable[[], None], timeout_s: float = 15.0
) -> tuple[str, str]:
    """Ctrl-C (SIGINT) to `child` once `when()` returns; its stdout and stderr. The child is
    killed if anything goes wrong before it has ended."""
    try:
        when()
        child.send_signal(signal.SIGINT)
        return child.communicate(timeout=timeout_s)
    finally:
        if child.poll() is None:
            child.kill()
