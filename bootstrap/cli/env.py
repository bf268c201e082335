"""`bootstrap env`: what an application needs to call a model: dotenv, shell, GitHub env, JSON.

`shell` is for `eval "$(bootstrap env ... --format shell)"`: `export KEY='value'` lines, quoted
safely, so a child process sees the variables; `dotenv` stays plain `KEY=value` for docker's
`--env-file` and systemd's `EnvironmentFile=`.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shlex
from typing import TYPE_CHECKING

import click

from bootstrap.cli.options import as_of_option
from bootstrap.cli.runtime import fail, guarded
from bootstrap.cli.wiring import check_inputs, load_desired, today

if TYPE_CHECKING:
    from bootstrap.manifest.desired import Desired


@click.command()
@click.argument("manifests", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--project", "project_id", required=True, help="A project id from the manifests.")
@click.option("--model", "model_ref", help="Model alias (default: the project's first model).")
@click.option("--location", help="Location (default: the model's first location).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["dotenv", "shell", "github", "json"]),
    default="dotenv",
    show_default=True,
    help="shell prints `export KEY='value'` lines for eval; dotenv plain KEY=value lines "
    "(docker --env-file, systemd); github appends to the file named by $GITHUB_ENV.",
)
@as_of_option
@guarded
def env(
    manifests: tuple[str, ...],
    project_id: str,
    model_ref: str | None,
    location: str | None,
    fmt: str,
    as_of: dt.date | None,
) -> None:
    """Print OPENAI_BASE_URL, the model id, project and location for an application.

    In a shell: eval "$(bootstrap env MANIFEST --project P --format shell)".
    The API key is a Google access token, never printed: use
    OPENAI_API_KEY=$(gcloud auth print-access-token).
    """
    check_inputs((), summary=False, env_file=fmt == "github")
    desired = load_desired(manifests, today(as_of))
    values = app_values(desired, project_id, model_ref, location)
    if fmt == "json":
        click.echo(json.dumps(values, indent=2))
        return
    if fmt == "shell":
        click.echo(shell_exports(values), nl=False)
        return
    lines = "".join(f"{key}={value}\n" for key, value in values.items())
    if fmt == "github":
        _append_github_env(lines)
        click.echo(f"Appended {', '.join(values)} to $GITHUB_ENV.", err=True)
        return
    click.echo(lines, nl=False)


def app_values(
    desired: Desired, project_id: str, model_ref: str | None, location: str | None
) -> dict[str, str]:
    """The variables an OpenAI-compatible client needs for one project, model and location."""
    from bootstrap.catalog import endpoint_host, openai_base_url

    project = next((p for p in desired.projects if p.project_id == project_id), None)
    if project is None:
        fail(f"project {project_id} is not in the manifests; add it or check the id")
    models = [m for m in project.models if model_ref in (None, m.alias, m.ref)]
    if not models:
        fail(f"{project_id} has no model {model_ref!r} in the manifests")
    model = models[0]
    chosen = location or model.locations[0]
    if chosen not in model.locations:
        fail(f"{project_id} wants {model.alias} in {', '.join(model.locations)}, not {chosen}")
    emulator = os.environ.get("BOOTSTRAP_EMULATOR_HOST")
    root = f"http://{emulator}" if emulator else f"https://{endpoint_host(chosen)}"
    return {
        "OPENAI_BASE_URL": openai_base_url(project_id, chosen, api_root=root),
        "OPENAI_MODEL": model.request_model,
        "GOOGLE_CLOUD_PROJECT": project_id,
        "GOOGLE_CLOUD_LOCATION": chosen,
    }


def shell_exports(values: dict[str, str]) -> str:
    """`export KEY='value'` lines a POSIX shell can eval: every value single-quoted, so `$`,
    backquotes, spaces and newlines stay literal, and a `'` inside is written as `'"'"'`."""
    return "".join(f"export {key}={_single_quoted(value)}\n" for key, value in values.items())


def _single_quoted(value: str) -> str:
    quoted = shlex.quote(value)
    return quoted if quoted.startswith("'") else f"'{quoted}'"


def _append_github_env(lines: str) -> None:
    target = os.environ.get("GITHUB_ENV")
    if not target:
        fail("--format github needs $GITHUB_ENV (it is set inside GitHub Actions steps)")
    try:
        with open(target, "a", encoding="utf-8") as handle:
            handle.write(lines)
    except OSError as error:  # checked before; this is what changed since
        fail(f"could not append to $GITHUB_ENV ({target}): {error.strerror or error}")
