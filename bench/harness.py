"""What every scenario shares: worlds and manifests, the emulator process, the CLI run, the journal.

The emulator always runs as its own process (`python -m bootstrap emulator`), so the client under
test and the server never share an interpreter or a GIL. The CLI also runs as its own process,
started and reaped by `bench/launch.py` so that its peak memory (ru_maxrss) is its own: reaped
straight from here it would carry this process's peak (see launch.py).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BOOTSTRAP = [PYTHON, "-m", "bootstrap"]
ACCOUNT = "012345-6789AB-CDEF01"
FOLDER = "folders/345678901234"
MODEL = "publishers/openai/models/gpt-oss-120b-maas"
SERVICES = ["aiplatform.googleapis.com", "cloudcommerceconsumerprocurement.googleapis.com"]
OWNER = {
    "email": "owner@bootstrap-emulator.iam.gserviceaccount.com",
    "tokens": ["emulator-owner"],
    "grants": {"*": ["*"]},
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def project_ids(prefix: str, count: int) -> list[str]:
    return [f"{prefix}-{index:05d}" for index in range(count)]


def world(
    *,
    converged: Sequence[str] = (),
    fresh: Sequence[str] = (),
    timing: Mapping[str, float] | None = None,
    quotas: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A world with converged projects (billing, APIs, model on) and fresh ones (nothing on)."""
    projects = [
        {
            "project_id": pid,
            "parent": FOLDER,
            "billing_account": ACCOUNT,
            "services": SERVICES,
            "models": [MODEL],
        }
        for pid in converged
    ] + [{"project_id": pid, "parent": FOLDER} for pid in fresh]
    return {
        "principals": [OWNER],
        "organizations": [{"id": "123456789012"}],
        "folders": [{"id": "345678901234", "parent": "organizations/123456789012"}],
        "billing_accounts": [{"id": ACCOUNT, "open": True, "link_quota": 100000}],
        "models": [{"name": MODEL, "locations": ["global"]}],
        "projects": projects,
        "timing": dict(timing or {}),
        "quotas": quotas or {"enabled": False},
    }


def manifest(ids: Sequence[str], *, smoke: bool = False) -> dict[str, Any]:
    """One model in one location per project; billing linked and the model enabled if missing."""
    return {
        "version": 1,
        "defaults": {
            "billing_account": ACCOUNT,
            "parent": FOLDER,
            "link_billing": True,
            "models": [{"model": "gpt-oss-120b", "locations": ["global"], "enable": True}],
        },
        "smoke_test": {"enabled": smoke, "max_tokens": 64, "timeout_s": 60},
        "projects": [{"project_id": pid} for pid in ids],
    }


def write_yaml(directory: Path, name: str, data: dict[str, Any]) -> Path:
    path = directory / name
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


class Emulator:
    """A `bootstrap emulator` process on a free loopback port, with its control API."""

    def __init__(
        self,
        world_file: Path,
        *,
        latency_ms: float = 0,
        time_scale: float = 1.0,
    ) -> None:
        self.port = free_port()
        self.latency_ms = latency_ms
        self.time_scale = time_scale
        self.base = f"http://127.0.0.1:{self.port}"
        self.host = f"127.0.0.1:{self.port}"
        command = [
            *BOOTSTRAP,
            "emulator",
            "--port",
            str(self.port),
            "--world",
            str(world_file),
            "--latency-ms",
            str(latency_ms),
            "--time-scale",
            str(time_scale),
            "--quiet",
        ]
        self.process = subprocess.Popen(command, stderr=subprocess.DEVNULL, cwd=ROOT)
        self.control = httpx.Client(base_url=self.base, timeout=60)
        deadline = time.monotonic() + 30
        while True:
            try:
                self.control.get("/_emulator/clock")
                return
            except httpx.TransportError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError("the emulator did not start") from None
                time.sleep(0.05)

    def journal(self) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = self.control.get("/_emulator/journal").json()["entries"]
        return entries

    def clear_journal(self) -> None:
        self.control.delete("/_emulator/journal")

    def reset(self) -> None:
        self.control.post("/_emulator/reset")

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "BOOTSTRAP_EMULATOR_HOST": self.host,
            "BOOTSTRAP_EMULATOR_TOKEN": "emulator-owner",
        }

    def close(self) -> None:
        self.control.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@contextmanager
def emulator(world_data: dict[str, Any], **options: float) -> Iterator[Emulator]:
    with tempfile.TemporaryDirectory(prefix="bench-world-") as tmp:
        path = write_yaml(Path(tmp), "world.yaml", world_data)
        server = Emulator(path, **options)
        try:
            yield server
        finally:
            server.close()


@dataclass(slots=True)
class CliRun:
    argv: list[str]
    wall_s: float
    maxrss_mb: float
    exit_code: int
    report: dict[str, Any] = field(default_factory=dict)
    stderr: str = ""


def run_cli(argv: Sequence[str], env: dict[str, str] | None = None) -> CliRun:
    """Run `bootstrap ARGV` as its own process: wall time, peak RSS, exit code, JSON report."""
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as tmp:
        out = Path(tmp) / "report.json"
        measured = Path(tmp) / "measured"
        full = [*BOOTSTRAP, *argv]
        if argv and argv[0] in ("plan", "apply", "audit", "smoke"):
            full += ["--format", "json", "--output", str(out)]
        process = subprocess.Popen(
            [sys.executable, "-m", "bench.launch", str(measured), *full],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        assert process.stderr is not None
        stderr = process.stderr.read().decode(errors="replace")
        process.wait()
        maxrss_kb, wall = measured.read_text().split()
        report = json.loads(out.read_text()) if out.exists() else {}
    return CliRun(
        argv=list(full),
        wall_s=float(wall),
        maxrss_mb=int(maxrss_kb) / 1024,
        exit_code=process.returncode,
        report=report,
        stderr=stderr[-4000:],
    )


class WorkNotDone(AssertionError):
    """The journal does not show the work the scenario claims to have measured."""


def project_of(path: str) -> str | None:
    parts = path.split("/")
    if "projects" in parts:
        index = parts.index("projects")
        if index + 1 < len(parts):
            return parts[index + 1].split(":")[0]
    return None


def assert_read(journal: list[dict[str, Any]], ids: Sequence[str], what: str) -> None:
    """Every project had its project, billing, services and model read, with answers of 200."""
    seen: dict[str, set[str]] = {}
    for entry in journal:
        pid = project_of(entry["path"])
        if pid is None or entry["status"] != 200:
            continue
        path = entry["path"]
        kind = (
            "billing"
            if path.endswith("/billingInfo")
            else "services"
            if "services:batchGet" in path
            else "probe"
            if path.endswith("/chat/completions")
            else "project"
            if path.rstrip("/").endswith(f"projects/{pid}")
            else "other"
        )
        seen.setdefault(pid, set()).add(kind)
    needed = {"project", "billing", "services", "probe"}
    missing = [pid for pid in ids if not needed <= seen.get(pid, set())]
    if missing:
        raise WorkNotDone(
            f"{what}: {len(missing)} of {len(ids)} projects were not fully read "
            f"(first: {missing[0]}, saw {sorted(seen.get(missing[0], set()))})"
        )


def assert_changed(journal: list[dict[str, Any]], ids: Sequence[str], what: str) -> None:
    """Every project got its billing link, API enable and enableModel answered 200."""
    changed: dict[str, set[str]] = {}
    for entry in journal:
        if not entry.get("mutating") or entry["status"] != 200:
            continue
        pid = project_of(entry["path"])
        path = entry["path"]
        kind = (
            "billing"
            if path.endswith("/billingInfo")
            else "model"
            if path.endswith(":enableModel")
            else "services"
            if ":batchEnable" in path or path.endswith(":enable")
            else "other"
        )
        if pid is not None:
            changed.setdefault(pid, set()).add(kind)
    needed = {"billing", "services", "model"}
    missing = [pid for pid in ids if not needed <= changed.get(pid, set())]
    if missing:
        raise WorkNotDone(
            f"{what}: {len(missing)} of {len(ids)} projects were not changed "
            f"(first: {missing[0]}, saw {sorted(changed.get(missing[0], set()))})"
        )


def world_state(server: Emulator) -> dict[str, Any]:
    data: dict[str, Any] = server.control.get("/_emulator/world").json()
    return data


def assert_converged_state(server: Emulator, ids: Sequence[str], what: str) -> None:
    """The emulator's own state agrees: billing linked, APIs on, model enabled."""
    projects = {p["project_id"]: p for p in world_state(server)["projects"]}
    bad = [
        pid
        for pid in ids
        if projects[pid].get("billing_account") != ACCOUNT
        or not set(SERVICES) <= set(projects[pid].get("services", []))
        or MODEL not in projects[pid].get("models", [])
    ]
    if bad:
        raise WorkNotDone(f"{what}: {len(bad)} projects not converged in the emulator: {bad[:3]}")


def count_by_api(journal: list[dict[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for entry in journal:
        path = entry["path"]
        api = (
            "cloudbilling"
            if "billingInfo" in path or "billingAccounts" in path
            else "serviceusage"
            if "/services" in path or "/operations/" in path
            else "aiplatform"
            if "publishers" in path or "chat/completions" in path
            else "resourcemanager"
        )
        counts[api] = counts.get(api, 0) + 1
    return counts
