"""The click options the commands share, each defined once: dates, report output, connection, shards."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import ParamSpec, TypeVar

import click

P = ParamSpec("P")
R = TypeVar("R")

FORMATS = ("table", "json", "junit", "markdown")


def parse_date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date; use YYYY-MM-DD") from None


_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(_ctx: click.Context, _param: click.Parameter, value: str) -> float:
    """`90`, `90s`, `10m`, `1h` -> seconds."""
    text = value.strip().lower()
    scale = _UNITS.get(text[-1:])
    number = text[:-1] if scale is not None else text
    try:
        seconds = float(number) * (scale or 1.0)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a duration; use e.g. 90s, 10m or 1h") from None
    if seconds < 0 or seconds != seconds:
        raise click.BadParameter(f"{value!r} must be zero or more")
    return seconds


def parse_processes(value: str) -> int | None:
    """`auto` -> None (the run decides: bootstrap.reconcile.processes), else a count from 1."""
    text = value.strip().lower()
    if text == "auto":
        return None
    if text.isdigit() and 1 <= int(text) <= 64:
        return int(text)
    raise click.BadParameter(f"{value!r} is not auto or a number of processes from 1 to 64")


# Reads an audit may leave out, each with its check reported as skipped (a literal tuple, so
# --help imports nothing): `policy`, the effective org policy reads (one per constraint);
# `quota`, the Cloud Quotas read of the models' limits (one paged list per project).
SKIPPABLE = ("policy", "quota")
skip_option = click.option(
    "--skip",
    "skip",
    multiple=True,
    type=click.Choice(SKIPPABLE),
    help="Leave out a group of reads; its check is reported as skipped. policy: the effective "
    "org policy reads (one per constraint and project). quota: the models' quota read (one "
    "Cloud Quotas list per project).",
)

as_of_option = click.option(
    "--as-of",
    "as_of",
    metavar="YYYY-MM-DD",
    callback=parse_date,
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


_CLOUD_OPTIONS = (
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
        if no_rate_limit and rate_limits:
            raise click.UsageError("give --rate-limit or --no-rate-limit, not both")
        cloud = CloudOptions(
            concurrency=concurrency,
            rate_limits=rate_limits,
            no_rate_limit=no_rate_limit,
            impersonate_service_account=impersonate_service_account,
            quota_project=quota_project,
        )
        return function(*args, cloud=cloud, **kwargs)

    decorated: Callable[..., R] = wrapper
    for decorator in reversed(_CLOUD_OPTIONS):
        decorated = decorator(decorated)
    return decorated


@dataclass(frozen=True, slots=True, kw_only=True)
class ShardRequest:
    """What the shard options asked for."""

    shard: str | None = None
    shard_count: int | None = None
    run_id: str | None = None


def shard_options(function: Callable[P, R]) -> Callable[P, R]:
    """--shard K/N (or a scheduler's variables), --shard-count for Indexed Jobs, --run-id."""
    function = click.option(
        "--run-id",
        metavar="ID",
        help="The run these shards belong to (recorded in the report; report merge checks it). "
        "Default: the CI's run id (GITHUB_RUN_ID, CLOUD_RUN_EXECUTION, BATCH_JOB_UID), else one "
        "derived from the projects, the command and the UTC date.",
    )(function)
    function = click.option(
        "--shard-count",
        type=click.IntRange(1, 10_000),
        metavar="N",
        help="The shard count of a Kubernetes Indexed Job (JOB_COMPLETION_INDEX gives the index).",
    )(function)
    return click.option(
        "--shard",
        metavar="K/N",
        help="Only the K-th of N shards of the projects (K from 1; contiguous ranges of the sorted "
        "ids, sizes within one). Defaults to the scheduler's variables: Cloud Run Jobs "
        "(CLOUD_RUN_TASK_INDEX/_COUNT), Cloud Batch (BATCH_TASK_INDEX/_COUNT), Kubernetes "
        "(JOB_COMPLETION_INDEX with --shard-count).",
    )(function)


def _service_account_member(
    _ctx: click.Context, _param: click.Parameter, value: str | None
) -> str | None:
    """`EMAIL` or `serviceAccount:EMAIL` -> `serviceAccount:EMAIL`; anything else is refused."""
    if value is None:
        return None
    email = value.removeprefix("serviceAccount:")
    if "@" not in email or not email.endswith(".gserviceaccount.com"):
        raise click.BadParameter(
            f"{value!r} is not a service account; give NAME@PROJECT.iam.gserviceaccount.com"
        )
    return f"serviceAccount:{email}"


smoke_as_option = click.option(
    "--smoke-as",
    metavar="EMAIL",
    callback=_service_account_member,
    help="Run every smoke test as this service account (overrides the manifests' smoke_as), "
    "with a token minted through IAM Credentials: proves the workload's access, not yours. "
    "You need roles/iam.serviceAccountTokenCreator on it; every other call stays yours.",
)
