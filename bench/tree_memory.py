"""The memory of a whole split audit: the CLI and its worker processes together.

The benchmarks' peak-memory figures are `ru_maxrss` (bench/launch.py): the largest single
process, which for a run split over worker processes (bootstrap/reconcile/processes.py) leaves
the others out. This samples every process of the CLI's tree from /proc five times a second and
reports the peak of their summed Pss (each page they share counted once) and of their summed Rss
(shared pages counted in each: an upper bound).

Usage: .venv/bin/python -m bench.tree_memory [PROJECTS] [-- EXTRA CLI ARGS]; scenario 7's world
(95% converged) with quotas off and no latency, `audit --parent ... --inventory asset`.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import harness as h
from bench import scenarios


def _tree(pid: int) -> list[int]:
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    return [pid, *(p for child in children for p in _tree(int(child)))]


def _rollup(pid: int) -> dict[str, float]:
    """Rss and Pss of one process in MB (0 once it has ended)."""
    found = {"Rss": 0.0, "Pss": 0.0}
    try:
        lines = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
    except OSError:
        return found
    for line in lines:
        key, _, rest = line.partition(":")
        if key in found:
            found[key] = int(rest.split()[0]) / 1024
    return found


def measure(count: int, extra: list[str]) -> dict[str, float]:
    world, _drift = scenarios.org_world(count, quotas={"enabled": False})
    peak = {"Pss": 0.0, "Rss": 0.0, "processes": 0.0}
    with tempfile.TemporaryDirectory() as tmp, h.emulator(world, latency_ms=0) as emu:
        command = [
            *h.BOOTSTRAP, "audit", "--parent", scenarios.ORG, "--no-smoke", "--no-rate-limit",
            "--inventory", "asset", "--output", str(Path(tmp) / "report.json"), *extra,
        ]  # fmt: skip
        child = subprocess.Popen(
            command, cwd=h.ROOT, env=emu.env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        while child.poll() is None:
            pids = _tree(child.pid)
            rollups = [_rollup(pid) for pid in pids]
            pss = sum(r["Pss"] for r in rollups)
            if pss > peak["Pss"]:
                rss = sum(r["Rss"] for r in rollups)
                peak = {"Pss": pss, "Rss": rss, "processes": float(len(pids))}
            time.sleep(0.2)
    return peak


def main() -> None:
    args = sys.argv[1:]
    extra = args[args.index("--") + 1 :] if "--" in args else []
    plain = args[: args.index("--")] if "--" in args else args
    count = int(plain[0]) if plain else 10_000
    peak = measure(count, extra)
    print(
        f"{count} projects {' '.join(extra)}: peak Pss {peak['Pss']:.1f} MB, "
        f"Rss {peak['Rss']:.1f} MB summed over {peak['processes']:.0f} processes"
    )


if __name__ == "__main__":
    main()
