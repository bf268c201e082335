"""Shared test setup: the emulator's fixtures (`emulator_server`, `emulator`, `emulator_env`),
plus editing its world and writing manifests for a test."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bootstrap.emulator.inprocess import Emulator

pytest_plugins = ["bootstrap.emulator.pytest_plugin"]

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
    """Write a manifest (dedented) to a fresh file of this test; returns its path."""
    counter = iter(range(1000))

    def write(text: str) -> str:
        path = tmp_path / f"manifest-{next(counter)}.yaml"
        path.write_text(textwrap.dedent(text))
        return str(path)

    return write
