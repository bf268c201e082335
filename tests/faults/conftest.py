"""Fault-suite fixtures: the real CLI (in process, click's runner) against the emulator, with every
run recorded and checked against the journal invariants when the test ends.

One emulator per test module (`emulator_server`), reset before each test (`emulator`). The CLI's
clock is a FastForwardClock: every wait (backoff, polling, rate limiting, readiness gates) moves
the emulator's virtual clock instead of sleeping, so both sides agree on the time and nothing
sleeps through a delay.

When a test that used `cli` ends, its teardown (i) checks every recorded run against
`faults_support.violations` and (ii) unless the test is marked `diverges`, proves that the last
applied manifest converges: with faults cleared and operations allowed to finish, a fault-free
`plan` exits 0, after at most one more `apply`.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from faults_support import Run, violations

from bootstrap.cli import cli as bootstrap_cli
from bootstrap.clock_fast import FastForwardClock
from bootstrap.emulator.inprocess import Emulator

DEFAULT_TIMING = {
    "operation_polls": 1,
    "operation_seconds": 0,
    "service_propagation_s": 2,
    "billing_propagation_s": 1,
}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "diverges(reason): the test's end state is not meant to converge"
    )


WorldEdit = Callable[[Callable[[dict[str, Any]], None]], None]


@pytest.fixture
def world(emulator: Emulator) -> WorldEdit:
    """Edit the emulator's world in place: `world(lambda w: ...)`."""

    def edit(change: Callable[[dict[str, Any]], None]) -> None:
        current = emulator.get_world()
        change(current)
        emulator.put_world(current)

    return edit


@pytest.fixture
def manifest(tmp_path: Path) -> Callable[[str], str]:
    counter = iter(range(1000))

    def write(text: str) -> str:
        path = tmp_path / f"manifest-{next(counter)}.yaml"
        path.write_text(textwrap.dedent(text))
        return str(path)

    return write


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


@pytest.fixture
def cli(
    emulator: Emulator,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> Iterator[Harness]:
    monkeypatch.setenv("BOOTSTRAP_EMULATOR_HOST", emulator.host)
    monkeypatch.setenv("BOOTSTRAP_EMULATOR_TOKEN", "emulator-owner")
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    clock = FastForwardClock(emulator.advance)
    monkeypatch.setattr("bootstrap.cli.common.make_clock", lambda: clock)
    harness = Harness(emulator, monkeypatch, tmp_path)
    yield harness
    harness.check_invariants()
    if request.node.get_closest_marker("diverges") is None:
        harness.converge()
