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

from collections.abc import Iterator
from pathlib import Path

import pytest

from bootstrap.clock import FastForwardClock
from bootstrap.emulator.inprocess import Emulator
from tests.faults.faults_support import Harness


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "diverges(reason): the test's end state is not meant to converge"
    )


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
    monkeypatch.setattr("bootstrap.cli.runtime.make_clock", lambda: clock)
    harness = Harness(emulator, monkeypatch, tmp_path)
    yield harness
    harness.check_invariants()
    if request.node.get_closest_marker("diverges") is None:
        harness.converge()
