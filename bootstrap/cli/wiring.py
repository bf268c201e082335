"""The steps the commands share between options and output: load, shard, connect, report, confirm.

Heavy modules (rich, the gcp layer, the loader) are imported inside the functions that use them
so that importing this module costs little.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import click

from bootstrap.cli.options import CloudOptions
from bootstrap.cli.runtime import fail
from bootstrap.exitcodes import ExitCode

if TYPE_CHECKING:
    from bootstrap.clock import Clock
    from bootstrap.cloud.protocol import Cloud
    from bootstrap.manifest.desired import Desired, DesiredProject
    from bootstrap.report.model import RunReport


def today(as_of: dt.date | None) -> dt.date:
    from bootstrap.catalog import today_utc

    return as_of or today_utc()


def load_desired(paths: Sequence[str], as_of: dt.date) -> Desired:
    """Load and validate manifests; print every diagnostic; exit 1 when any is an error."""
    from bootstrap.manifest.loader import load_manifests

    result = load_manifests(paths, as_of=as_of)
    for diagnostic in result.diagnostics:
        click.echo(diagnostic.render(), err=True)
    if result.desired is None:
        fail("the manifests above have errors; nothing was read or changed in the cloud")
    assert result.desired is not None
    return result.desired


def select_shard(
    projects: Sequence[DesiredProject], spec: str | None, env: Mapping[str, str]
) -> list[DesiredProject]:
    """The K-th of N deterministic shards (sha256 of the project id).

    `--shard K/N` counts K from 1; Cloud Run jobs set CLOUD_RUN_TASK_INDEX (from 0) and
    CLOUD_RUN_TASK_COUNT, which are used when --shard is not given.
    """
    from bootstrap.jobs.shard import in_shard, parse_shard

    if spec is not None:
        try:
            index, count = parse_shard(spec)
        except ValueError as error:
            raise click.BadParameter(str(error), param_hint="--shard") from None
    elif "CLOUD_RUN_TASK_COUNT" in env:
        # A bad value must stop the run: an index past the count would select no project and
        # report the shard compliant.
        task_index, task_count = env.get("CLOUD_RUN_TASK_INDEX", "0"), env["CLOUD_RUN_TASK_COUNT"]
        try:
            index, count = parse_shard(f"{int(task_index) + 1}/{int(task_count)}")
        except ValueError:
            raise click.UsageError(
                f"CLOUD_RUN_TASK_INDEX={task_index!r} and CLOUD_RUN_TASK_COUNT={task_count!r} "
                "must be integers with 0 <= index < count (or pass --shard K/N)"
            ) from None
    else:
        return list(projects)
    return [p for p in projects if in_shard(p.project_id, index=index, count=count)]


def connect(options: CloudOptions, *, as_of: dt.date, clock: Clock | None = None) -> Cloud:
    from bootstrap.clock import SystemClock
    from bootstrap.gcp.client import connect as gcp_connect
    from bootstrap.gcp.ratelimit import parse_rate_limit_window
    from bootstrap.gcp.settings import settings_from_env

    rate_limits: dict[str, float] | None = None
    capacities: dict[str, float] = {}
    if options.no_rate_limit:
        rate_limits = {}
    elif options.rate_limits:
        try:
            parsed = [parse_rate_limit_window(spec) for spec in options.rate_limits]
        except ValueError as error:
            raise click.BadParameter(str(error), param_hint="--rate-limit") from None
        rate_limits = {key: rate for key, rate, _ in parsed}
        capacities = {key: size for key, _, size in parsed if size is not None}
    settings = settings_from_env(
        concurrency=options.concurrency,
        rate_limits=rate_limits,
        rate_capacities=capacities or None,
        impersonate_service_account=options.impersonate_service_account,
        quota_project=options.quota_project,
        clock=clock or SystemClock(),
        as_of=as_of,
    )
    return gcp_connect(settings)


def emit_report(report: RunReport, fmt: str, outputs: Sequence[str]) -> None:
    """Print the report in `fmt`, write each --output, append to $GITHUB_STEP_SUMMARY if set."""
    from bootstrap.report.outputs import append_step_summary, parse_outputs, write_outputs
    from bootstrap.report.render import Format, render

    color = sys.stdout.isatty() and "NO_COLOR" not in os.environ
    width = 80
    if fmt == "table" and sys.stdout.isatty():
        width = max(80, min(os.get_terminal_size().columns, 120))
    click.echo(render(report, Format(fmt), width=width, color=color), nl=False)
    try:
        write_outputs(report, parse_outputs(outputs, None))
    except (OSError, ValueError) as error:
        fail(f"could not write the report: {error}")
    append_step_summary(report, os.environ)


def confirm_apply(yes: bool, change_count: int) -> None:
    """Ask before writing, on a TTY; refuse without --yes when nobody can answer."""
    if yes or change_count == 0:
        return
    if not sys.stdin.isatty():
        fail("apply changes the cloud and stdin is not a terminal; rerun with --yes to confirm")
    if not click.confirm(f"Apply {change_count} change(s)?", default=False, err=True):
        click.echo("Nothing changed.", err=True)
        sys.exit(int(ExitCode.CHANGES))
