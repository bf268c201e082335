"""Opt-in pytest fixtures: `emulator_server` (one emulator per test module, default world),
`emulator` (the same, reset before each test) and `emulator_env` (also points
BOOTSTRAP_EMULATOR_HOST / BOOTSTRAP_EMULATOR_TOKEN at it).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bootstrap.emulator.inprocess import Emulator


@pytest.fixture(scope="module")
def emulator_server() -> Iterator[Emulator]:
    with Emulator() as running:
        yield running


@pytest.fixture
def emulator(emulator_server: Emulator) -> Iterator[Emulator]:
    emulator_server.reset()
    yield emulator_server


@pytest.fixture
def emulator_env(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    monkeypatch.setenv("BOOTSTRAP_EMULATOR_HOST", emulator.host)
    monkeypatch.setenv("BOOTSTRAP_EMULATOR_TOKEN", "emulator-owner")
    yield emulator
