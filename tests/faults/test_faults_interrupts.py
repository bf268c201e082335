"""Ctrl-C while a mutation is on the wire: the message lists it as "may have been applied" and
never claims that nothing was left half-done (the emulator applies it after the client left).

A real process, as in test_faults_processes: SIGINT reaches only a real main thread.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import pytest

from bootstrap.emulator.inprocess import Emulator
from tests.faults.faults_support import interrupt, spawn_cli

APIS = """\
version: 1
projects:
  - project_id: demo-api-disabled
    models: [{model: gpt-oss-120b, locations: [global], enable: true}]
"""
ENABLE = r"services(:batchEnable|/[^/]+:enable)$"


def _fired(emulator: Emulator) -> bool:
    return any(rule["fired"] for rule in emulator.faults()["rules"])


@pytest.mark.realtime
def test_sigint_with_a_mutation_in_flight_lists_it_as_maybe_applied(
    emulator: Emulator, manifest: Callable[[str], str]
) -> None:
    # The enable is held on the wire (delayed, then served: it lands after the interrupt).
    emulator.add_faults(
        {"rules": [{"match": {"path": ENABLE}, "action": "delay", "delay_ms": 4000}]}
    )
    child = spawn_cli(emulator, "apply", manifest(APIS), "--yes", "--no-smoke")

    def enable_on_the_wire() -> None:
        deadline = time.monotonic() + 30
        while not _fired(emulator):
            if time.monotonic() > deadline or child.poll() is not None:
                child.kill()
                raise AssertionError(f"the enable was never sent: {child.communicate()}")
            time.sleep(0.05)

    stdout, stderr = interrupt(child, when=enable_on_the_wire, timeout_s=10)
    assert child.returncode == 130, stderr
    assert "Traceback" not in stdout + stderr
    assert "may have been applied: run plan to see" in stderr, stderr
    assert re.search(
        r"serviceusage\.services\.(batchEnable|enable) for project demo-api-disabled", stderr
    )
    assert "nothing was left half-done" not in stderr
