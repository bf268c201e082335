"""CLI fixtures: the console entry point in process against the emulator over HTTP.

Waits are fast-forwarded through the emulator's virtual clock (FastForwardClock), so operation
polls and retry delays pass without sleeping. $GITHUB_STEP_SUMMARY and $GITHUB_ENV are cleared
so a CI runner's own values never leak into (or receive) the tests' output.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bootstrap.clock import FastForwardClock
from bootstrap.emulator.inprocess import Emulator
from tests.cli.cli_support import Cli, CliResult, run_cli


@pytest.fixture
def cli_env(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    monkeypatch.setenv("BOOTSTRAP_EMULATOR_HOST", emulator.host)
    monkeypatch.setenv("BOOTSTRAP_EMULATOR_TOKEN", "emulator-owner")
    for name in (
        "GITHUB_STEP_SUMMARY",
        "GITHUB_ENV",
        "CLOUD_RUN_TASK_INDEX",
        "CLOUD_RUN_TASK_COUNT",
        "CLOUD_RUN_EXECUTION",
        "BATCH_TASK_INDEX",
        "BATCH_TASK_COUNT",
        "BATCH_JOB_UID",
        "JOB_COMPLETION_INDEX",
        "GITHUB_RUN_ID",
        "GITHUB_RUN_ATTEMPT",
    ):
        monkeypatch.delenv(name, raising=False)
    clock = FastForwardClock(emulator.advance)
    monkeypatch.setattr("bootstrap.cli.runtime.make_clock", lambda: clock)
    return emulator


@pytest.fixture
def cli(cli_env: Emulator) -> Iterator[Cli]:
    """`cli("audit", "manifests/demo.yaml")` -> CliResult, against the emulator."""

    def run(*args: str, stdin: str | None = None) -> CliResult:
        return run_cli(args, stdin=stdin)

    yield run


@pytest.fixture
def write_manifest(tmp_path: Path) -> Callable[[str], str]:
    counter = iter(range(1000))

    def write(text: str) -> str:
        path = tmp_path / f"manifest-{next(counter)}.yaml"
        path.write_text(text)
        return str(path)

    return write
