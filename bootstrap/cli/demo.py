"""`bootstrap demo`: the main job on the embedded emulator (what `make demo` runs)."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from bootstrap.cli.options import CloudOptions
from bootstrap.cli.paths import ExistingPath
from bootstrap.cli.progress import RetryRelay, progress
from bootstrap.cli.runtime import guarded
from bootstrap.cli.wiring import connect, emit_report, load_desired

if TYPE_CHECKING:
    from bootstrap.exitcodes import Command
    from bootstrap.manifest.desired import SmokeSettings
    from bootstrap.reconcile.options import RunOptions
    from bootstrap.report.model import RunReport
    from bootstrap.smoke.suite import SmokeOptions

    # One demo step: its name, command, run options, smoke options and what it is for.
    _Step = tuple[str, Command, RunOptions, SmokeOptions, str]


@click.command()
@click.argument("manifest", required=False, type=ExistingPath(dir_okay=False))
@click.option(
    "--output",
    "outputs",
    multiple=True,
    default=("demo-report.json", "demo-report.xml"),
    show_default=True,
    metavar="FILE",
    help="Where to write the final audit report (format from the extension). Repeatable.",
)
@guarded
def demo(manifest: str | None, outputs: tuple[str, ...]) -> None:
    """Plan, apply and audit the demo manifest on the embedded emulator, smoke tests included.

    Starts the offline emulator with its default world (no cloud account needed), shows the
    plan, applies it, audits every project with a streaming smoke test, prints the table and
    writes the report files. Waits are fast-forwarded on the emulator's virtual clock. Exit 0
    when every project ended as the demo world was designed to.
    """
    from bootstrap.catalog import today_utc
    from bootstrap.jobs.demo import demo_manifest

    path = Path(manifest) if manifest else demo_manifest()
    if path is None:
        raise click.UsageError(
            "the demo manifest (manifests/demo.yaml in the repository) was not found here or "
            "next to the installed package: pass its path as MANIFEST"
        )
    date = today_utc()
    report = _plan_apply_audit(path, date, outputs)
    _conclude(report, outputs)


def _plan_apply_audit(path: Path, date: dt.date, outputs: tuple[str, ...]) -> RunReport:
    """The three steps on one emulator, each with its table; the audit's report is returned."""
    from bootstrap.clock import FastForwardClock
    from bootstrap.exitcodes import Command
    from bootstrap.jobs.demo import emulator_environment
    from bootstrap.jobs.pipelines import run_job

    desired = load_desired([str(path)], date)
    projects = list(desired.projects)
    steps = _steps(date, desired.smoke)
    with emulator_environment() as advance:
        clock = FastForwardClock(advance)
        relay = RetryRelay()
        cloud = connect(
            CloudOptions(no_rate_limit=True), as_of=date, clock=clock, on_retry_event=relay
        )
        ids = [p.project_id for p in projects]
        for number, (name, command, options, smoke, purpose) in enumerate(steps, start=1):
            click.secho(f"\n{number}/3 bootstrap {name} {path}  — {purpose}", bold=True)
            with progress(ids, label=name, relay=relay, virtual=True) as on_event:
                report = run_job(
                    command,
                    cloud,
                    projects,
                    options=options,
                    smoke=smoke,
                    clock=clock,
                    on_event=on_event,
                )
            emit_report(report, "table", outputs if command is Command.AUDIT else ())
    return report


def _steps(date: dt.date, settings: SmokeSettings) -> tuple[_Step, ...]:
    """plan, apply, audit: each step's command, options and purpose (only the audit streams)."""
    from bootstrap.exitcodes import Command
    from bootstrap.reconcile.options import RunOptions
    from bootstrap.smoke.suite import SmokeOptions

    no_smoke = SmokeOptions(enabled=False, settings=settings)
    return (
        ("plan", Command.PLAN, RunOptions(as_of=date), no_smoke, "what would change (read only)"),
        ("apply", Command.APPLY, RunOptions(as_of=date, apply=True), no_smoke, "make it so"),
        (
            "audit",
            Command.AUDIT,
            RunOptions(as_of=date),
            SmokeOptions(enabled=True, settings=settings),
            "prove it, with streaming smoke tests",
        ),
    )


def _conclude(report: RunReport, outputs: tuple[str, ...]) -> None:
    """Say whether every project ended as the demo world designed it; exit 1 when not."""
    from bootstrap.jobs.demo import expected_summary, mismatches

    problems = mismatches(report)
    click.echo()
    if problems:
        click.secho("The demo did not end as designed:", fg="red", bold=True)
        for problem in problems:
            click.echo(f"  - {problem}")
        sys.exit(1)
    click.secho("Every project ended as the demo world designed it:", fg="green", bold=True)
    for line in expected_summary():
        click.echo(f"  {line}")
    click.echo(f"Reports: {', '.join(outputs)}")
