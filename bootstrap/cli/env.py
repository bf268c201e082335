"""`bootstrap env`: what an application needs to call a model: dotenv, shell, GitHub env, JSON,
or a Python client.

`shell` is for `eval "$(bootstrap env ... --format shell)"`: `export KEY='value'` lines, quoted
safely, so a child process sees the variables; `dotenv` stays plain `KEY=value` for docker's
`--env-file` and systemd's `EnvironmentFile=`. No format ever prints a token or recommends a
fixed one: each says how the application gets and refreshes tokens (bootstrap.cli.app_snippet).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shlex
from typing import TYPE_CHECKING

import click

from bootstrap.cli.app_snippet import AUTH_HOW, comment_lines, python_snippet
from bootstrap.cli.options import as_of_option
from bootstrap.cli.paths import ExistingPath
from bootstrap.cli.runtime import fail, guarded
from bootstrap.cli.wiring import check_inputs, load_desired, today

if TYPE_CHECKING:
    from bootstrap.manifest.desired import Desired


@click.command()
@click.argument("manifests", nargs=-1, required=True, type=ExistingPath())
@click.option("--project", "project_id", required=True, help="A project id from the manifests.")
@click.option("--model", "model_ref", help="Model alias (default: the project's first model).")
@click.option("--location", help="Location (default: the model's first location).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["dotenv", "shell", "github", "json", "python"]),
    default="dotenv",
    show_default=True,
    help="shell prints `export KEY='value'` lines for eval; dotenv plain KEY=value lines "
    "(docker --env-file, systemd); github appends to the file named by $GITHUB_ENV; python a "
    "client (openai SDK + google-auth) that refreshes its token before it expires.",
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
    The API key is a Google access token that lives about an hour, never printed: the
    application should get it from Application Default Credentials and refresh it (--format
    python prints a client that does).
    """
    check_inputs((), summary=False, env_file=fmt == "github")
    desired = load_desired(manifests, today(as_of))
    values = app_values(desired, project_id, model_ref, location)
    if fmt == "json":
        click.echo(json.dumps({**values, "auth": AUTH_HOW}, indent=2))
        return
    if fmt == "python":
        click.echo(python_snippet(values), nl=False)
        return
    if fmt == "shell":
        click.echo(comment_lines() + shell_exports(values), nl=False)
        return
    lines = "".join(f"{key}={value}\n" for key, value in values.items())
    if fmt == "github":
        _append_github_env(lines)
        click.echo(f"Appended {', '.join(values)} to $GITHUB_ENV. {AUTH_HOW}", err=True)
        return
    click.echo(comment_lines() + lines, nl=False)


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
