"""What is checked before the first cloud request: the report's destinations, and the endpoint.

A report that cannot be written must not cost a run (an apply would leave changes behind whose
report is lost): the emulator's journal proves no request was sent. A dead endpoint must stop a
run after its first refused attempts, naming the endpoint and how it was chosen, instead of
retrying every call of every project for a minute.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bootstrap.emulator.inprocess import Emulator
from tests.cli.cli_support import Cli

PROJECTS = 30


def _manifest(count: int) -> str:
    lines = ["version: 1", "projects:"]
    for index in range(count):
        lines += [
            f"  - project_id: dead-endpoint-{index:02d}",
            "    models: [{model: gpt-oss-120b, locations: [global]}]",
        ]
    return "\n".join(lines) + "\n"


@pytest.fixture
def dead_host() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{sock.getsockname()[1]}"  # closed again: nothing listens there


@pytest.mark.parametrize(
    "target",
    ["under-a-file/r.json", "a-directory.json", "report.yaml"],
)
def test_an_unusable_output_stops_apply_before_any_request(
    cli: Cli, cli_env: Emulator, tmp_path: Path, target: str
) -> None:
    (tmp_path / "under-a-file").write_text("a regular file")
    (tmp_path / "a-directory.json").mkdir()
    result = cli("apply", "manifests/demo.yaml", "--yes", "--output", str(tmp_path / target))
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("error: ") and len(result.stderr.splitlines()) == 1
    assert "pass --format" not in result.stderr  # --format does not choose a file's format
    assert cli_env.journal() == []


def test_an_unusable_step_summary_stops_audit_before_any_request(
    cli: Cli, cli_env: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "missing" / "summary.md"))
    result = cli("audit", "manifests/demo.yaml")
    assert result.exit_code == 1 and "GITHUB_STEP_SUMMARY" in result.stderr, result.output
    assert cli_env.journal() == []


def test_a_usable_output_in_a_new_directory_is_written(
    cli: Cli, cli_env: Emulator, tmp_path: Path
) -> None:
    target = tmp_path / "new" / "dir" / "plan.json"
    result = cli("plan", "manifests/demo.yaml", "--output", str(target))
    assert "error:" not in result.stderr, result.stderr  # (the demo world plans exit 1)
    assert target.is_file() and cli_env.journal() != []
    assert list(target.parent.iterdir()) == [target]  # the writability probe left nothing


def test_a_dead_endpoint_stops_a_30_project_audit_after_its_first_refusals(
    tmp_path: Path, dead_host: str
) -> None:
    manifest = tmp_path / "thirty.yaml"
    manifest.write_text(_manifest(PROJECTS))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "BOOTSTRAP_"))}
    env.update({"BOOTSTRAP_EMULATOR_HOST": dead_host, "NO_COLOR": "1"})
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "bootstrap", "audit", str(manifest)],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    took = time.monotonic() - started
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: nothing answered at "), last
    assert f"{dead_host} (from BOOTSTRAP_EMULATOR_HOST)" in last
    assert "first 3 requests failed to connect (connection refused)" in last
    # Before: 115 s of retries. Most of what is left is importing the Google and OpenAI clients.
    assert took < 40, f"took {took:.1f} s"


def test_a_dead_endpoint_costs_attempts_not_seconds(tmp_path: Path, dead_host: str) -> None:
    """Counted in process: the whole 30-project audit sends only the first refused attempts."""
    from bootstrap.clock import SystemClock
    from bootstrap.exitcodes import Command
    from bootstrap.gcp.client import connect
    from bootstrap.gcp.reachability import REFUSED_LIMIT
    from bootstrap.gcp.settings import settings_from_env
    from bootstrap.jobs.pipelines import run_job
    from bootstrap.manifest.desired import SmokeSettings
    from bootstrap.manifest.loader import load_manifests
    from bootstrap.reconcile.options import RunOptions
    from bootstrap.smoke.suite import SmokeOptions

    concurrency = 16
    today = dt.date.today()
    manifest = tmp_path / "thirty.yaml"
    manifest.write_text(_manifest(PROJECTS))
    desired = load_manifests([manifest], as_of=today).desired
    assert desired is not None and len(desired.projects) == PROJECTS
    env = {"BOOTSTRAP_EMULATOR_HOST": dead_host}
    clock = SystemClock()
    cloud = connect(settings_from_env(env=env, clock=clock, concurrency=concurrency))
    started = time.monotonic()
    run_job(
        Command.AUDIT,
        cloud,
        desired.projects,
        options=RunOptions(as_of=today, findings=True, preflight=False),
        smoke=SmokeOptions(enabled=False, settings=SmokeSettings()),
        clock=clock,
    )
    took = time.monotonic() - started
    sent = sum(cloud.stats.requests.values())
    assert cloud.unreachable is not None
    # Attempts already on their way when the limit was reached may still be refused.
    assert REFUSED_LIMIT <= sent <= concurrency, cloud.stats.requests
    assert took < 10, f"took {took:.1f} s"
