"""`make bench`: run the scenarios, print each figure against its target, record the results.

    .venv/bin/python -m bench [SCENARIO ...]      (1-7 or names; default all)

Writes bench/results/latest.json and the table in docs/benchmarks.md (between its markers). A run
of some scenarios keeps the others' last results (each result says when it was measured), so
re-running one scenario never wipes the record of the rest.
Exit 1 when a scenario's work was not done (the journal did not show it) or it crashed; a missed
target is printed as MISSED and recorded, and does not change the exit code.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import harness as h
from bench import scenarios as s
from bench.report import write_json, write_markdown

SCENARIOS: dict[str, Callable[[Path], dict[str, Any]]] = {
    "1": s.audit_converged,
    "2": s.apply_fresh,
    "3": s.by_hand,
    "4": s.quota_bound_run,
    "5": s.startup,
    "6": s.smoke_throughput,
    "7": s.org_scale,
}


def machine() -> dict[str, Any]:
    pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    return {
        "cores": os.cpu_count(),
        "memory_gb": round(pages / 2**30, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def emulator_load() -> dict[str, Any]:
    """The emulator's own throughput (bench/emulator_load.py), a smaller run."""
    done = subprocess.run(
        [sys.executable, str(h.ROOT / "bench" / "emulator_load.py"), "--requests", "5000"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=h.ROOT,
    )
    return {"output": done.stdout.strip().splitlines(), "exit_code": done.returncode}


def show(result: dict[str, Any]) -> None:
    print(f"\n== {result['scenario']} ({result['seconds']:.0f} s)")
    for key, value in result["figures"].items():
        print(f"   {key}: {value}")
    for target in result["targets"]:
        mark = "met" if target["met"] else "MISSED"
        print(f"   {target['name']}: {target['value']} (target {target['target']}) {mark}")


def with_earlier(
    results: list[dict[str, Any]], latest: Path, chosen: list[str]
) -> list[dict[str, Any]]:
    """This run's results, then (when only some scenarios ran) the last recorded results of the
    others, in scenario order; a failed run of a scenario replaces its earlier result too."""
    if set(chosen) >= set(SCENARIOS) or not latest.is_file():
        return results
    record = json.loads(latest.read_text())
    kept = [
        {"measured": record.get("date", ""), **r}
        for r in record.get("scenarios", [])
        if _number(r) not in chosen
    ]
    return sorted([*results, *kept], key=_number)


def _number(result: dict[str, Any]) -> str:
    """`"4. quota-bound"` or `"4: FAILED"` -> `"4"`."""
    return str(result["scenario"]).split(".")[0].split(":")[0]


def compile_bytecode() -> None:
    """Measure the tool as installed: pip compiles a wheel's modules when it installs them, while
    a checkout under PYTHONDONTWRITEBYTECODE=1 compiles every module on every start (`make
    bytecode` does the same)."""
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(h.ROOT / "bootstrap")],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def main(argv: list[str]) -> int:
    chosen = argv or list(SCENARIOS)
    compile_bytecode()
    started = dt.datetime.now(dt.UTC)
    results: list[dict[str, Any]] = []
    broken: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        for key in chosen:
            began = time.perf_counter()
            try:
                result = SCENARIOS[key](Path(tmp))
            except Exception as error:  # a crash or missing work is reported, then the next runs
                traceback.print_exc()
                result = s.new_result(f"{key}: FAILED", error=str(error)[:2000])
                broken.append(key)
            result["seconds"] = round(time.perf_counter() - began, 1)
            result["measured"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
            show(result)
            results.append(result)
    load = emulator_load()
    print("\n== emulator throughput (bench/emulator_load.py --requests 5000)")
    for line in load["output"]:
        print(f"   {line}")
    latest = h.ROOT / "bench" / "results" / "latest.json"
    record = {
        "date": started.isoformat(timespec="seconds"),
        "machine": machine(),
        "command": "make bench  (.venv/bin/python -m bench " + " ".join(argv) + ")",
        "total_s": round((dt.datetime.now(dt.UTC) - started).total_seconds(), 1),
        "scenarios": with_earlier(results, latest, chosen),
        "emulator_load": load,
    }
    write_json(record, latest)
    write_markdown(record, h.ROOT / "docs" / "benchmarks.md")
    missed = [t["name"] for r in results for t in r["targets"] if not t["met"]]
    print(f"\ntotal {record['total_s']} s; targets missed: {len(missed)}")
    if broken:
        print(f"WORK NOT DONE or crashed in scenario(s): {', '.join(broken)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
