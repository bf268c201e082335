"""Record a bench run: bench/results/latest.json and the table in docs/benchmarks.md.

The Markdown table goes between two marker comments, so the prose around it is kept.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

BEGIN = "<!-- bench:begin -->"
END = "<!-- bench:end -->"


def write_json(record: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2) + "\n")


def table(record: dict[str, Any]) -> str:
    machine = record["machine"]
    lines = [
        f"Measured {record['date']} on {machine['cores']} cores, {machine['memory_gb']} GB, "
        f"Python {machine['python']} ({machine['platform']}); command `{record['command']}`, "
        f"{record['total_s']} s in all.",
        "",
        "| scenario | figure | value | target | met |",
        "|---|---|---|---|---|",
    ]
    for result in record["scenarios"]:
        for target in result["targets"]:
            met = "yes" if target["met"] else "**no**"
            lines.append(
                f"| {result['scenario']} | {target['name']} | {target['value']} "
                f"| {target['target']} | {met} |"
            )
        if not result["targets"]:
            lines.append(f"| {result['scenario']} | (no figures) | | | **no** |")
    lines += ["", "| scenario | measured | figures |", "|---|---|---|"]
    for result in record["scenarios"]:
        figures = ", ".join(f"{k} = {v}" for k, v in result["figures"].items())
        when = result.get("measured", record["date"])
        lines.append(f"| {result['scenario']} | {when} | {figures} |")
    load = record.get("emulator_load", {}).get("output", [])
    if load:
        lines += [
            "",
            "Emulator throughput (`bench/emulator_load.py --requests 5000`): " + "; ".join(load),
        ]
    return "\n".join(lines)


def write_markdown(record: dict[str, Any], path: Path) -> None:
    text = path.read_text() if path.exists() else f"# Benchmarks\n\n{BEGIN}\n{END}\n"
    if BEGIN not in text or END not in text:
        text = text.rstrip("\n") + f"\n\n{BEGIN}\n{END}\n"
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    path.write_text(f"{head}{BEGIN}\n{table(record)}\n{END}{tail}")
