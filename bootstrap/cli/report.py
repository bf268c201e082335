"""`bootstrap report merge`: join shard reports into one."""

from __future__ import annotations

import json
import sys

import click

from bootstrap.cli.options import report_options
from bootstrap.cli.paths import ExistingPath
from bootstrap.cli.runtime import fail, guarded
from bootstrap.cli.wiring import check_inputs, emit_report


@click.group()
def report() -> None:
    """Work with saved JSON reports."""


@report.command()
@click.argument("files", nargs=-1, required=True, type=ExistingPath(dir_okay=False))
@click.option(
    "--allow-partial",
    is_flag=True,
    help="Merge even when shards are missing; the result says partial and which shards, and "
    "exits 1 (it proves nothing about the missing shards' projects).",
)
@report_options
@guarded
def merge(files: tuple[str, ...], allow_partial: bool, fmt: str, outputs: tuple[str, ...]) -> None:
    """Merge the JSON reports of shards (--shard K/N) into one report.

    Refuses a set that misses a shard, repeats one, or mixes runs or project lists, naming
    what is wrong. The exit code is the merged run's: the first of 1, 3, 2, 0 among the shards.
    """
    from bootstrap.report.json_report import report_from_json
    from bootstrap.report.merge import merge_reports

    check_inputs(
        outputs, cloud=False
    )  # before reading: a merge whose result cannot be written is wasted
    reports = []
    for name in files:
        try:
            with open(name, encoding="utf-8") as handle:
                reports.append(report_from_json(json.load(handle)))
        except (OSError, ValueError, KeyError, TypeError) as error:
            fail(f"{name} is not a bootstrap JSON report ({error}); write one with --output x.json")
    try:
        merged = merge_reports(reports, allow_partial=allow_partial)
    except ValueError as error:
        fail(str(error))
    emit_report(merged, fmt, outputs)
    sys.exit(merged.exit_code)
