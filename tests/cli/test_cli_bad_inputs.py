"""Every input a person can get wrong ends in one line and exit 1, never a traceback.

Each case runs the real entry point (`python -m bootstrap ...`) in a subprocess, as a person or a
CI step would, so nothing the test harness does (click's runner, monkeypatching) can hide a
traceback. Cloud commands point BOOTSTRAP_EMULATOR_HOST at a port where nothing listens: every
case must stop on its input before the first request, or it would fail on the dead endpoint
instead and the expected words would be missing.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

MANIFEST = """\
version: 1
projects:
  - project_id: bad-inputs-demo
    models: [{model: gpt-oss-120b, locations: [global]}]
"""


@dataclass(frozen=True)
class Case:
    args: tuple[str, ...]
    expect: str  # words the one stderr line must contain
    env: dict[str, str] = field(default_factory=dict)
    lines: int = 1  # validate also prints its count of errors


def _cases(tmp: Path, busy_port: int) -> dict[str, Case]:
    manifest = tmp / "m.yaml"
    manifest.write_text(MANIFEST)
    regular = tmp / "regular-file"
    regular.write_text("x")
    (tmp / "world.yaml").write_text("bogus_key: 1\n")
    (tmp / "faults.yaml").write_text("rules:\n  - action: explode\n")
    (tmp / "broken.yaml").write_text("rules: [\n")
    m = str(manifest)
    missing = str(tmp / "no-such-dir" / "file")
    emulator = ("emulator", "--quiet", "--port", "0")
    return {
        "port in use": Case(("emulator", "--port", str(busy_port)), f"cannot listen on 127.0.0.1:{busy_port}"),
        "world unknown key": Case((*emulator, "--world", str(tmp / "world.yaml")), "unknown keys ['bogus_key']"),
        "faults unknown action": Case((*emulator, "--faults", str(tmp / "faults.yaml")), "unknown action 'explode'"),
        "faults not yaml": Case((*emulator, "--faults", str(tmp / "broken.yaml")), "--faults"),
        "time scale negative": Case((*emulator, "--time-scale", "-1"), "--time-scale"),
        "latency negative": Case((*emulator, "--latency-ms", "-5"), "--latency-ms"),
        "emulator host garbage": Case(("plan", m), "BOOTSTRAP_EMULATOR_HOST='garbage' is not HOST:PORT", {"BOOTSTRAP_EMULATOR_HOST": "garbage"}),
        "step summary missing dir": Case(("plan", m), "does not exist", {"GITHUB_STEP_SUMMARY": missing}),
        "step summary is a dir": Case(("plan", m), "it is a directory", {"GITHUB_STEP_SUMMARY": str(tmp)}),
        "github env missing dir": Case(("env", m, "--project", "bad-inputs-demo", "--format", "github"), "$GITHUB_ENV", {"GITHUB_ENV": missing}),
        "github env is a dir": Case(("env", m, "--project", "bad-inputs-demo", "--format", "github"), "it is a directory", {"GITHUB_ENV": str(tmp)}),
        "output under a file": Case(("plan", m, "--output", str(regular / "r.json")), "is a file, not a directory"),
        "output is a dir": Case(("plan", m, "--output", str(tmp / "dir.json")), "it is a directory"),
        "output unknown format": Case(("plan", m, "--output", str(tmp / "r.yaml")), "Name it .json"),
        "manifest endless": Case(("validate", "/dev/zero"), "limited to 1 MiB", lines=2),
        "unknown option": Case(("plan", m, "--frobnicate"), "No such option"),
    }  # fmt: skip


@pytest.fixture(scope="module")
def busy_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        yield sock.getsockname()[1]


@pytest.fixture(scope="module")
def dead_host() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{sock.getsockname()[1]}"  # closed again: nothing listens there


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory, busy_port: int) -> dict[str, Case]:
    tmp = tmp_path_factory.mktemp("bad-inputs")
    (tmp / "dir.json").mkdir()
    return _cases(tmp, busy_port)


def _run(case: Case, dead_host: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "BOOTSTRAP_"))}
    env.update({"BOOTSTRAP_EMULATOR_HOST": dead_host, "NO_COLOR": "1", **case.env})
    return subprocess.run(
        [sys.executable, "-m", "bootstrap", *case.args],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )


# The table's keys, spelled out so that pytest can name each case before the table is built.
CASE_NAMES = [
    "port in use",
    "world unknown key",
    "faults unknown action",
    "faults not yaml",
    "time scale negative",
    "latency negative",
    "emulator host garbage",
    "step summary missing dir",
    "step summary is a dir",
    "github env missing dir",
    "github env is a dir",
    "output under a file",
    "output is a dir",
    "output unknown format",
    "manifest endless",
    "unknown option",
]


@pytest.mark.parametrize("name", CASE_NAMES)
def test_bad_input_is_one_line_and_exit_1(
    name: str, cases: dict[str, Case], dead_host: str
) -> None:
    case = cases[name]
    result = _run(case, dead_host)
    lines = result.stderr.strip().splitlines()
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    assert result.returncode == 1, result.stdout + result.stderr
    assert 1 <= len(lines) <= case.lines, result.stderr
    assert case.expect in lines[0], result.stderr
    assert len(lines[0]) < 400, lines[0]
    # Stopped on its input: the dead endpoint was never tried.
    assert "nothing answered" not in result.stderr


def test_the_table_covers_every_case(cases: dict[str, Case]) -> None:
    assert sorted(cases) == sorted(CASE_NAMES)


def test_sys_output_is_refused_before_work(dead_host: str) -> None:
    if not Path("/sys/kernel").is_dir():
        pytest.skip("no /sys here")
    case = Case(("plan", "manifests/demo.yaml", "--output", "/sys/kernel/r.json"), "/sys/kernel")
    result = _run(case, dead_host)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert case.expect in result.stderr and "does not accept new files" in result.stderr
