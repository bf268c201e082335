"""`--processes`: a read-only audit split over forked worker processes, run as a real CLI process
(`python -m bootstrap`, real time) against the emulator over HTTP. The split run must report
exactly what one process reports, observe every project once, count every request, and stop
every worker on Ctrl-C."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import signal
import struct
import subprocess
import sys
import termios
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from bootstrap.emulator.inprocess import Emulator
from tests.cli.cli_support import FOLDER, Cli, scale_world
from tests.cli.test_cli_inventory import findings
from tests.faults.faults_support import interrupt, spawn_cli, wait_for_request

COUNT = 36
QUOTAS = "/quotaInfos"
PROBE = r"/chat/completions$"


@pytest.fixture
def fleet(emulator: Emulator) -> Emulator:
    world = scale_world(emulator.get_world(), COUNT)
    world["timing"].update(operation_polls=0, operation_seconds=0, service_propagation_s=0)
    emulator.put_world(world)
    emulator.clear_journal()
    return emulator


def _audit(emulator: Emulator, tmp_path: Path, *args: str) -> tuple[int, dict[str, Any], str]:
    path = tmp_path / f"report-{len(list(tmp_path.iterdir()))}.json"
    child = spawn_cli(
        emulator,
        "audit", "--parent", f"folders/{FOLDER}", "--no-smoke", "--inventory", "asset",
        "--output", str(path), *args,
    )  # fmt: skip
    stdout, stderr = child.communicate(timeout=120)
    assert "Traceback" not in stdout + stderr, stderr
    return child.returncode, json.loads(path.read_text()), stderr


def _quota_reads(emulator: Emulator) -> Counter[str]:
    """Projects by how many quota lists were sent for them (one per observed project)."""
    return Counter(e["path"].split("/")[3] for e in emulator.journal() if QUOTAS in e["path"])


@pytest.mark.realtime
def test_a_split_audit_reports_what_one_process_reports(fleet: Emulator, tmp_path: Path) -> None:
    code_one, one, _ = _audit(fleet, tmp_path, "--processes", "1")
    reads_one = _quota_reads(fleet)
    fleet.clear_journal()
    code_split, split, log = _audit(fleet, tmp_path, "--processes", "3")
    reads_split = _quota_reads(fleet)
    cards = [
        e
        for e in fleet.journal()
        if e["path"].endswith("/publishers/openai/models/gpt-oss-120b-maas")
    ]
    assert code_split == code_one == 2
    assert findings(split) == findings(one)
    assert split["summary"]["processes"] == 3 and "processes" not in one["summary"]
    # Every project observed exactly once, by one worker; the parent counted what they sent.
    # (A project being deleted may have its quota read cancelled before it is sent.)
    active = {p["project_id"] for p in one["projects"] if "deleting" not in p["project_id"]}
    for reads in (reads_one, reads_split):
        assert set(reads.values()) == {1} and active <= set(reads)
    assert split["summary"]["requests"] == len(fleet.journal())
    assert len(cards) == 1, "the model card is read once, before the split, not once a worker"
    assert split["summary"]["inventory_projects"] == one["summary"]["inventory_projects"] > 0
    # Each project's progress line was shown once, relayed by the parent.
    for project in one["projects"]:
        assert log.count(f" {project['project_id']} ") == 1, project["project_id"]


@pytest.mark.realtime
def test_ctrl_c_stops_every_worker(fleet: Emulator) -> None:
    # Every probe takes 3 s to answer its first token, so the workers are mid-run when it comes.
    fleet.put_world(
        {**fleet.get_world(), "timing": {**fleet.get_world()["timing"], "ttft_ms": 3000}}
    )
    child = spawn_cli(
        fleet, "audit", "--parent", f"folders/{FOLDER}", "--no-smoke", "--processes", "2",
        "--concurrency", "2",
    )  # fmt: skip
    stdout, stderr = interrupt(child, when=lambda: wait_for_request(fleet, PROBE))
    assert child.returncode == 130, stderr
    assert "Traceback" not in stdout + stderr and "Interrupted" in stderr, stderr
    sent = len(fleet.journal())
    time.sleep(4)  # a worker left running would send its next probe within this
    assert len(fleet.journal()) == sent


def _take_the_terminal() -> None:
    """In the child: a session of its own whose controlling terminal is its stderr (the pty),
    so a Ctrl-C typed there reaches its whole process group, workers included, as in a shell."""
    os.setsid()
    fcntl.ioctl(2, termios.TIOCSCTTY, 0)
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _on_a_terminal(emulator: Emulator, *args: str) -> tuple[subprocess.Popen[bytes], int]:
    """`python -m bootstrap ARGS` with stderr on a pseudo-terminal (100 x 30), so the live
    progress view draws; the process and the terminal's other side."""
    primary, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    env |= {"BOOTSTRAP_EMULATOR_HOST": emulator.host, "BOOTSTRAP_EMULATOR_TOKEN": "emulator-owner"}
    child = subprocess.Popen(
        [sys.executable, "-m", "bootstrap", *args],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=secondary,
        preexec_fn=_take_the_terminal,
    )
    os.close(secondary)
    return child, primary


def _drawn(child: subprocess.Popen[bytes], primary: int) -> tuple[int, str]:
    """Every byte drawn on the terminal until every process holding it has closed it; then the
    exit code."""
    drawn = bytearray()
    try:
        while True:
            try:
                chunk = os.read(primary, 65536)
            except OSError:  # EIO: the other side is closed
                break
            if not chunk:
                break
            drawn += chunk
        return child.wait(timeout=120), drawn.decode(errors="replace")
    finally:
        os.close(primary)
        if child.poll() is None:
            child.kill()


@pytest.mark.realtime
def test_a_run_drawing_live_progress_on_a_terminal_splits_too(
    fleet: Emulator, tmp_path: Path
) -> None:
    """The live view stops its redraws (a thread) for the moment of the fork, so a terminal
    run splits as a CI run does, and reports the same."""
    _, one, _ = _audit(fleet, tmp_path, "--processes", "1")
    path = tmp_path / "terminal.json"
    terminal = _on_a_terminal(
        fleet,
        "audit", "--parent", f"folders/{FOLDER}", "--no-smoke", "--inventory", "asset",
        "--processes", "3", "--output", str(path),
    )  # fmt: skip
    code, drawn = _drawn(*terminal)
    split = json.loads(path.read_text())
    assert code == 2, drawn
    assert split["summary"]["processes"] == 3
    assert findings(split) == findings(one)
    assert "Traceback" not in drawn
    assert "\x1b[?25l" in drawn and "audit" in drawn  # the live view drew (cursor hidden)


@pytest.mark.realtime
def test_ctrl_c_typed_on_the_terminal_stops_the_run_and_every_worker(fleet: Emulator) -> None:
    """On a terminal, Ctrl-C reaches the parent and the workers at once (one process group)."""
    fleet.put_world(
        {**fleet.get_world(), "timing": {**fleet.get_world()["timing"], "ttft_ms": 3000}}
    )
    child, primary = _on_a_terminal(
        fleet, "audit", "--parent", f"folders/{FOLDER}", "--no-smoke", "--processes", "2",
        "--concurrency", "2",
    )  # fmt: skip
    wait_for_request(fleet, PROBE)
    os.write(primary, b"\x03")  # Ctrl-C, as typed
    code, drawn = _drawn(child, primary)
    assert code == 130, drawn
    assert "Traceback" not in drawn and "Interrupted" in drawn
    sent = len(fleet.journal())
    time.sleep(4)  # a worker left running would send its next probe within this
    assert len(fleet.journal()) == sent


def test_processes_must_be_auto_or_a_count(cli: Cli) -> None:
    result = cli("audit", "--parent", f"folders/{FOLDER}", "--processes", "two")
    assert result.exit_code == 1
    assert "'two' is not auto or a number of processes from 1 to 64" in result.stderr
