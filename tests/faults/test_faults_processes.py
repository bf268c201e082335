"""Cases 56 and 57 (reliability-notes §5): Ctrl-C during an operation wait, and two concurrent
applies. Both need a real process: the CLI runs as `python -m bootstrap` against the in-process
emulator (its port is reachable from the child), on real time.

Our design differs from the note's suggestion: no run journal and no per-project lock. Ctrl-C
names the operations still running and a rerun re-reads the truth; two concurrent runs are
safe because every change is idempotent and re-read before any re-send, and Service Usage
itself refuses a second activation while one is running.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bootstrap.emulator.inprocess import Emulator
from tests.faults.faults_support import (
    MODEL,
    Harness,
    Run,
    WorldEdit,
    spawn_cli,
    violations,
    wait_for_request,
)

Manifest = Callable[[str], str]
ENABLE = r"services(:batchEnable|/[^/]+:enable)$"
APIS = """\
version: 1
projects:
  - project_id: demo-api-disabled
    models: [{model: gpt-oss-120b, locations: [global], enable: true}]
"""


@pytest.mark.realtime
def test_case_56_sigint_during_an_operation_wait_exits_130_naming_it(
    cli: Harness, manifest: Manifest, emulator: Emulator, world: WorldEdit
) -> None:
    world(lambda w: w["timing"].update(operation_polls=10**6))
    path = manifest(APIS)
    before = emulator.get_world()
    child = spawn_cli(emulator, "apply", path, "--yes", "--no-smoke")
    try:
        wait_for_request(emulator, ENABLE)
        time.sleep(0.5)  # now sleeping between operation polls
        sent = time.monotonic()
        child.send_signal(signal.SIGINT)
        stdout, stderr = child.communicate(timeout=10)
        took = time.monotonic() - sent
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 130, stderr
    assert took < 2.0, f"took {took:.2f} s to stop"
    assert "Traceback" not in stdout + stderr
    assert "Interrupted" in stderr and "operations/acat.p2-100000000003-" in stderr, stderr
    interrupted = Run(
        command="apply",
        args=("apply", path),
        exit_code=130,
        stdout=stdout,
        stderr=stderr,
        report=None,
        journal=emulator.journal(),
        before=before,
        after=emulator.get_world(),
    )
    assert violations(interrupted) == []
    # The rerun, once Google has finished the operation, completes the work without resending.
    emulator.advance(31)
    world(lambda w: w["timing"].update(operation_polls=1))
    rerun = cli("apply", path, "--yes", "--no-smoke")
    assert rerun.exit_code == 0, rerun.output
    first = next(e for e in interrupted.journal if e["method"] == "POST" and "enable" in e["path"])
    assert [e for e in rerun.journal if e["path"] == first["path"]] == []


@pytest.mark.realtime
def test_case_57_two_concurrent_applies_both_converge_without_duplicates(
    cli: Harness, manifest: Manifest, emulator: Emulator, world: WorldEdit
) -> None:
    def setup(w: dict[str, Any]) -> None:
        w["timing"].update(operation_polls=2)
        for project in w["projects"]:
            if project["project_id"] == "demo-api-disabled":
                project["models"] = [MODEL]  # only the APIs are left to change

    world(setup)
    path = manifest(APIS)
    before = emulator.get_world()
    children = [spawn_cli(emulator, "apply", path, "--yes", "--no-smoke") for _ in range(2)]
    outputs = []
    try:
        for child in children:
            outputs.append(child.communicate(timeout=90))
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
    for child, (stdout, stderr) in zip(children, outputs, strict=True):
        assert child.returncode == 0, stdout + stderr
        assert "Traceback" not in stdout + stderr
    journal = emulator.journal()
    enables = [e for e in journal if e["mutating"]]
    # Service Usage refused the second activation while the first was running ...
    assert any(e["status"] == 400 for e in enables), enables
    # ... and every API was enabled by exactly one operation. (A request that lands after the
    # other run's operation finished is answered by the no-op operation and changes nothing.)
    operations = emulator.get_world()["operations"]
    started = Counter(
        service
        for op in operations
        if op["kind"] in ("su_enable", "su_batch")
        for service in op["payload"]["services"]
    )
    assert started and set(started.values()) == {1}, started
    combined = Run(
        command="concurrent",
        args=(),
        exit_code=0,
        stdout="",
        stderr="",
        report=None,
        journal=journal,
        before=before,
        after=emulator.get_world(),
    )
    assert violations(combined) == []
    assert cli("plan", path).exit_code == 0


def test_subprocess_cli_is_the_installed_module(tmp_path: Path) -> None:
    """The children above run this checkout's code (python -m bootstrap)."""
    result = subprocess.run(
        [sys.executable, "-m", "bootstrap", "--version"], capture_output=True, text=True
    )
    assert result.returncode == 0 and "bootstrap" in result.stdout
