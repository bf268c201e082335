"""What the reconciling commands share: options, loading, connecting, progress and report output.

Heavy modules (rich, the gcp layer, the loader) are imported inside the functions that use them
so that importing this module costs little.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import wraps
from typing import TYPE_CHECKING, NoReturn, ParamSpec, TypeVar

import click

from bootstrap.errors import BootstrapError
from bootstrap.exitcodes import ExitCode

if TYPE_CHECKING:
    from bootstrap.clock import Clock
    from bootstrap.cloud.protocol import Cloud
    from bootstrap.manifest.desired import Desired, DesiredProject
    from bootstrap.report.model import RunReport

P = ParamSpec("P")
R = TypeVar("R")

FORMATS = ("table", "json", "junit", "markdown")


def _parse_date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date; use YYYY-MM-DD") from None


as_of_option = click.option(
    "--as-of",
    "as_of",
    metavar="YYYY-MM-DD",
    callback=_parse_date,
    help="Judge model lifecycles (deprecated, retired) as of this UTC date. Default: today.",
)


def report_options(function: Callable[P, R]) -> Callable[P, R]:
    function = click.option(
        "--output",
        "outputs",
        multiple=True,
        metavar="FILE",
        help="Also write the report to FILE; the format follows the extension "
        "(.json, .xml = JUnit, .md, .txt). Repeatable.",
    )(function)
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(FORMATS),
        default="table",
        show_default=True,
        help="Report format on stdout.",
    )(function)


@dataclass(frozen=True, slots=True, kw_only=True)
class CloudOptions:
    concurrency: int = 16
    rate_limits: tuple[str, ...] = ()
    no_rate_limit: bool = False
    impersonate_service_account: str | None = None
    quota_project: str | None = None


def cloud_options(function: Callable[..., R]) -> Callable[..., R]:
    """Adds the connection options and passes them to the command as one `cloud=CloudOptions`."""

    @wraps(function)
    def wrapper(
        *args: object,
        concurrency: int,
        rate_limits: tuple[str, ...],
        no_rate_limit: bool,
        impersonate_service_account: str | None,
        quota_project: str | None,
        **kwargs: object,
    ) -> R:
        cloud = CloudOptions(
            concurrency=concurrency,
            rate_limits=rate_limits,
            no_rate_limit=no_rate_limit,
            impersonate_service_account=impersonate_service_account,
            quota_project=quota_project,
        )
        return function(*args, cloud=cloud, **kwargs)

    decorated: Callable[..., R] = wrapper
    for decorator in reversed(
        (
            click.option(
                "--concurrency",
                type=click.IntRange(1, 256),
                default=16,
                show_default=True,
                help="Requests in flight at most.",
            ),
            click.option(
                "--rate-limit",
                "rate_limits",
                multiple=True,
                metavar="API.KIND=N/min",
                help="Client-side limit, e.g. serviceusage.read=600/min (repeatable). "
                "N/Ws (or N/Wmin) is a quota of N per window W, the burst included. "
                "Defaults follow Google's documented default quotas.",
            ),
            click.option(
                "--no-rate-limit",
                is_flag=True,
                help="No client-side rate limits (for organisations with raised quotas).",
            ),
            click.option(
                "--impersonate-service-account",
                metavar="EMAIL",
                help="Act as this service account (needs roles/iam.serviceAccountTokenCreator).",
            ),
            click.option(
                "--quota-project",
                metavar="PROJECT_ID",
                help="Bill API quota to this project instead of the credentials' default.",
            ),
        )
    ):
        decorated = decorator(decorated)
    return decorated


def make_clock() -> Clock:
    """The clock every command waits on. Tests replace this function to fast-forward waits."""
    from bootstrap.clock import SystemClock

    return SystemClock()


CANCEL = threading.Event()  # set on Ctrl-C; every wait of the running command then ends


def cancellable_clock() -> Clock:
    """make_clock(), wrapped so that Ctrl-C in the main thread stops every worker's waits."""
    from bootstrap.cancel import CancellableClock

    CANCEL.clear()
    return CancellableClock(make_clock(), CANCEL)


def fail(message: str) -> NoReturn:
    """Print an expected error without a traceback and exit 1."""
    click.echo(f"error: {message}", err=True)
    sys.exit(int(ExitCode.ERROR))


def guarded(function: Callable[P, R]) -> Callable[P, R]:
    """Expected failures print one sentence (no traceback); Ctrl-C exits 130."""

    @wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return function(*args, **kwargs)
        except BootstrapError as error:
            from bootstrap.redact import redact

            click.echo(f"error: {redact(error.failure.sentence())}", err=True)
            sys.exit(int(ExitCode.ERROR))
        except KeyboardInterrupt as interrupt:
            CANCEL.set()
            _interrupted(interrupt)

    return wrapper


def _interrupted(interrupt: KeyboardInterrupt) -> NoReturn:
    """Say what is still running, then exit 130 at once (even if a worker is mid-request)."""
    operations = list(getattr(interrupt, "operations", ()))
    single = getattr(interrupt, "operation_name", None)
    if single:
        operations.append(single)
    if operations:
        click.echo("Interrupted. Still running on Google's side (a rerun picks them up):", err=True)
        for operation in operations:
            click.echo(f"  {operation}", err=True)
    else:
        click.echo("Interrupted; nothing was left half-done that a rerun cannot finish.", err=True)
    sys.stdout.flush()
    sys.stderr.flush()
    if any(
        t.is_alive() and not t.daemon
        for t in threading.enumerate()
        if t is not threading.main_thread()
    ):
        # A worker blocked in an HTTP call would hold the exit for its timeout: don't wait.
        os._exit(int(ExitCode.INTERRUPTED))
    sys.exit(int(ExitCode.INTERRUPTED))


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


shard_option = click.option(
    "--shard",
    metavar="K/N",
    help="Only the K-th of N deterministic shards of the projects (K from 1). "
    "Defaults to CLOUD_RUN_TASK_INDEX/CLOUD_RUN_TASK_COUNT when set.",
)


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
