"""`bootstrap validate` and `bootstrap schema`: check manifests, print the JSON Schema.

pydantic and yaml are imported inside the commands so that `bootstrap --help` stays fast.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from bootstrap.cli.options import parse_date
from bootstrap.cli.paths import STDIN, ExistingPath
from bootstrap.exitcodes import ExitCode

if TYPE_CHECKING:
    from bootstrap.manifest.loader import LoadResult


def desired_as_json(desired: Any) -> str:
    """The merged desired state as JSON (dataclasses to dicts, plus each project's services)."""
    data = dataclasses.asdict(desired)
    for project, values in zip(desired.projects, data["projects"], strict=True):
        values["services"] = list(project.services)
    return json.dumps(data, indent=2, ensure_ascii=False)


@click.command()
@click.argument("paths", nargs=-1, required=True, type=ExistingPath(allow_dash=True))
@click.option("--show", is_flag=True, help="Print the merged desired state as JSON on stdout.")
@click.option(
    "--as-of",
    metavar="YYYY-MM-DD",
    callback=parse_date,
    help="Check model lifecycles as of this date (UTC) instead of today.",
)
@click.pass_context
def validate(ctx: click.Context, paths: tuple[str, ...], show: bool, as_of: dt.date | None) -> None:
    """Check manifests (files, or directories of *.yaml/*.yml; - reads one from stdin) and
    report every problem.

    Problems go to stderr as FILE:LINE:COL: message (hint: ...). Exit 0 when there is no error
    (warnings allowed), 1 otherwise.
    """
    from bootstrap.catalog import today_utc
    from bootstrap.manifest.diagnostics import Severity

    result = _load(paths, as_of or today_utc())
    for diagnostic in result.diagnostics:
        click.echo(diagnostic.render(), err=True)
    errors = sum(d.severity is Severity.ERROR for d in result.diagnostics)
    warnings = len(result.diagnostics) - errors
    if result.desired is None:
        click.echo(
            f"{errors} error(s), {warnings} warning(s) in {len(result.files)} file(s).", err=True
        )
        ctx.exit(ExitCode.ERROR)
    projects = len(result.desired.projects)
    summary = f"{len(result.files)} file(s), {projects} project(s) valid; {warnings} warning(s)."
    click.echo(summary, err=True)
    if show:
        click.echo(desired_as_json(result.desired))
    ctx.exit(ExitCode.OK)


def _load(paths: tuple[str, ...], as_of: dt.date) -> LoadResult:
    """load_manifests(paths); `-` is stdin, copied to a temporary file (the loader reads files)
    and named `-` again in every diagnostic and source."""
    from bootstrap.manifest.loader import MAX_BYTES, load_manifests

    if STDIN not in paths:
        return load_manifests(paths, as_of=as_of)
    with tempfile.TemporaryDirectory(prefix="bootstrap-validate-") as folder:
        copy = Path(folder) / "stdin.yaml"
        # One byte over the limit is enough for the loader to refuse an endless stream.
        copy.write_bytes(sys.stdin.buffer.read(MAX_BYTES + 1))
        given = [str(copy) if path == STDIN else path for path in dict.fromkeys(paths)]
        result = load_manifests(given, as_of=as_of)

    def named(file: str) -> str:
        return STDIN if file == str(copy) else file

    diagnostics = tuple(replace(d, file=named(d.file)) for d in result.diagnostics)
    desired = result.desired
    if desired is not None:
        desired = replace(desired, sources=tuple(named(s) for s in desired.sources))
    return replace(result, diagnostics=diagnostics, desired=desired)


@click.command()
def schema() -> None:
    """Print the manifest's JSON Schema (the repository keeps it in manifest.schema.json)."""
    from bootstrap.manifest.schema import json_schema_text

    click.echo(json_schema_text(), nl=False)
