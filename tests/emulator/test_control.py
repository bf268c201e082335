"""The control API: world round-trip (created projects and operations included), reset, clock,
and the CLI's warning for non-loopback hosts."""

from __future__ import annotations

import socket
from typing import Any

import requests
from click.testing import CliRunner

from bootstrap.emulator.inprocess import Emulator

HEADERS = {"Authorization": "Bearer emulator-owner"}


def test_world_round_trip_and_reset(emulator: Emulator) -> None:
    created = requests.post(
        f"{emulator.base_url}/v3/projects",
        json={"projectId": "round-trip"},
        headers=HEADERS,
        timeout=5,
    ).json()
    dumped: dict[str, Any] = emulator.get_world()
    assert any(p["project_id"] == "round-trip" for p in dumped["projects"])
    assert [op["name"] for op in dumped["operations"]] == [created["name"]]
    emulator.put_world(dumped)
    assert emulator.get_world() == dumped
    polled = requests.get(
        f"{emulator.base_url}/v3/{created['name']}", headers=HEADERS, timeout=5
    ).json()
    assert polled["done"] and polled["response"]["projectId"] == "round-trip"
    assert all(not e["path"].startswith("/_emulator") for e in emulator.journal())
    emulator.reset()
    world = emulator.get_world()
    assert not world["operations"] and all(
        p["project_id"] != "round-trip" for p in world["projects"]
    )
    assert emulator.journal() == [] and emulator.faults() == {"rules": []}


def test_clock_advance_moves_journal_time(emulator: Emulator) -> None:
    emulator.advance(3600)
    requests.get(f"{emulator.base_url}/v3/projects/demo-ready", headers=HEADERS, timeout=5)
    assert emulator.journal()[0]["time"].startswith("2026-11-25T13:00:")


def test_cli_warns_on_non_loopback_host() -> None:
    from bootstrap.cli.emulator import emulator as command

    with socket.socket() as busy:  # the port is taken, so the command stops after warning
        busy.bind(("0.0.0.0", 0))
        busy.listen(1)
        port = str(busy.getsockname()[1])
        result = CliRunner().invoke(command, ["--host", "0.0.0.0", "--port", port])
    assert "warning: binding 0.0.0.0" in result.output
    assert result.exit_code == 1 and "cannot listen on 0.0.0.0" in result.output
