"""End-to-end fixtures: the real CLI (in process, click's runner) against the emulator over HTTP.

Waits are fast-forwarded: the CLI's clock is a FastForwardClock that moves the emulator's
virtual clock instead of sleeping, so operations, propagation lags and retry delays pass in
milliseconds while every request still crosses a real socket.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from bootstrap.cli import cli
from bootstrap.clock import FastForwardClock
from bootstrap.emulator.inprocess import Emulator
from tests.e2e.e2e_support import DESTRUCTIVE, Invoke, Run


@pytest.fixture
def invoke(emulator: Emulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Invoke]:
    monkeypatch.setenv("BOOTSTRAP_EMULATOR_HOST", emulator.host)
    monkeypatch.setenv("BOOTSTRAP_EMULATOR_TOKEN", "emulator-owner")
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    clock = FastForwardClock(emulator.advance)
    monkeypatch.setattr("bootstrap.cli.runtime.make_clock", lambda: clock)
    counter = iter(range(1000))

    def run(*args: str, report: bool = True, token: str | None = None) -> Run:
        if token is not None:
            monkeypatch.setenv("BOOTSTRAP_EMULATOR_TOKEN", token)
        extra: list[str] = []
        path = tmp_path / f"report-{next(counter)}.json"
        if report:
            extra = ["--output", str(path)]
        result = CliRunner().invoke(cli, [*args, *extra], catch_exceptions=False)
        data = json.loads(path.read_text()) if report and path.exists() else None
        return Run(result.exit_code, result.stdout, result.stderr, data)

    yield run
    # Whatever a test did, the tool never disabled, unlinked or deleted anything.
    for entry in emulator.journal():
        assert not any(word in entry["path"] for word in DESTRUCTIVE), entry
