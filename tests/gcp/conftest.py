"""Fixtures for the cloud access layer: the in-process emulator and a GcpCloud pointed at it on a
virtual clock that moves the emulator's clock by the same amount."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bootstrap.clock import VirtualClock
from bootstrap.emulator.inprocess import Emulator
from bootstrap.emulator.pytest_plugin import emulator, emulator_env, emulator_server
from bootstrap.gcp.client import GcpCloud, connect
from bootstrap.gcp.settings import settings_from_env

__all__ = ["emulator", "emulator_env", "emulator_server"]


@pytest.fixture
def clock(emulator: Emulator) -> VirtualClock:
    return VirtualClock(on_advance=emulator.advance)


@pytest.fixture
def cloud(emulator: Emulator, clock: VirtualClock) -> Iterator[GcpCloud]:
    settings = settings_from_env(
        env={"BOOTSTRAP_EMULATOR_HOST": emulator.host}, clock=clock, seed=0
    )
    cloud = connect(settings)
    yield cloud
    cloud.close()
