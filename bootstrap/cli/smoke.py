"""`bootstrap smoke`: only the streaming smoke tests (read only: no change is ever sent)."""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

import click

from bootstrap.cli import runtime
from bootstrap.cli.options import (
    CloudOptions,
    ShardRequest,
    as_of_option,
    cloud_options,
    parse_duration,
    report_options,
    shard_options,
    smoke_as_option,
)
from bootstrap.cli.paths import ExistingPath
from bootstrap.cli.progress import RetryRelay, progress
from bootstrap.cli.runtime import guarded
from bootstrap.cli.wiring import (
    check_inputs,
    connect,
    emit_report,
    load_desired,
    select_shard,
    stop_if_unreachable,
    today,
)

if TYPE_CHECKING:
    from bootstrap.manifest.desired import DesiredProject
    from bootstrap.report.model import RunReport
    from bootstrap.report.run import RunInfo
    from bootstrap.smoke.suite import SmokeOptions


@click.command()
@click.argument("manifests", nargs=-1, required=True, type=ExistingPath())
@click.option(
    "--check",
    "checks",
    multiple=True,
    type=click.Choice(["tools", "json"]),
    help="Extra checks: a tool-calling round trip, structured JSON output.",
)
@click.option(
    "--wait-ready",
    metavar="DURATION",
    callback=parse_duration,
    default="0",
    help="First wait up to DURATION (e.g. 90s, 10m) per model for changes still propagating "
    "(the model answering as if billing or its APIs were off), then stream.",
)
@smoke_as_option
@shard_options
@as_of_option
@cloud_options
@report_options
@guarded
def smoke(
    manifests: tuple[str, ...],
    checks: tuple[str, ...],
    wait_ready: float,
    smoke_as: str | None,
    shard: str | None,
    shard_count: int | None,
    run_id: str | None,
    as_of: dt.date | None,
    cloud: CloudOptions,
    fmt: str,
    outputs: tuple[str, ...],
) -> None:
    """Stream one chat completion from each project x model x location in the manifests.

    Passes only when content streams, a finish reason arrives and the stream ends with [DONE].
    Records time to first token and tokens per second. Exit 0 all passed, 1 any failed.
    """
    from bootstrap.smoke.suite import SmokeOptions

    check_inputs(outputs)  # before the first request: a lost report costs a run
    date = today(as_of)
    desired = load_desired(manifests, date)
    request = ShardRequest(shard=shard, shard_count=shard_count, run_id=run_id)
    projects, run = select_shard(desired.projects, request, os.environ, command="smoke", date=date)
    options = SmokeOptions(
        enabled=True, settings=desired.smoke, checks=frozenset(checks), smoke_as=smoke_as
    )
    report = _stream(cloud, projects, options, as_of=date, wait_ready_s=wait_ready, run=run)
    emit_report(report, fmt, outputs)
    sys.exit(report.exit_code)


def _stream(
    cloud: CloudOptions,
    projects: Sequence[DesiredProject],
    options: SmokeOptions,
    *,
    as_of: dt.date,
    wait_ready_s: float,
    run: RunInfo,
) -> RunReport:
    """Connect, run the smoke job under the progress view and return its report."""
    from bootstrap.clock import is_virtual
    from bootstrap.jobs.pipelines import run_smoke_job

    clock = runtime.cancellable_clock()
    relay = RetryRelay()
    connection = connect(cloud, as_of=as_of, clock=clock, on_retry_event=relay)
    # No per-project steps here: the view shows the smoke phase's own bar (streams done).
    with progress([], label="smoke", relay=relay, virtual=is_virtual(clock)) as on_event:
        report = run_smoke_job(
            connection,
            projects,
            smoke=options,
            concurrency=cloud.concurrency,
            as_of=as_of,
            clock=clock,
            wait_ready_s=wait_ready_s,
            run=run,
            on_event=on_event,
        )
    stop_if_unreachable(connection)
    return report
