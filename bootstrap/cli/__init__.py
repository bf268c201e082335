"""The `bootstrap` command line: a click group whose subcommands are imported only when run.

`bootstrap --help` lists commands from the table below without importing them, so it stays fast
(google clients, openai, pydantic, yaml, rich and uvicorn load only inside the commands that use
them). This package is the only place that prints to the terminal or exits.

Exit codes: 0 ok / converged; 1 error (invalid input or usage, auth, API or smoke failure);
2 changes pending or audit findings; 3 a person must act (e.g. accept model terms in the console);
130 interrupted. When a run has several outcomes the first of 1, 3, 2, 0 wins.
"""

from __future__ import annotations

import atexit
import gc
import importlib
import sys
from typing import Any

import click

from bootstrap import __version__

# name -> (module, attribute, one-line help shown by `bootstrap --help`)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "validate": ("bootstrap.cli.validate", "validate", "Check manifests and report every problem."),
    "schema": ("bootstrap.cli.validate", "schema", "Print the manifest's JSON Schema."),
    "plan": ("bootstrap.cli.reconcile", "plan", "Show what apply would change (read only)."),
    "apply": ("bootstrap.cli.reconcile", "apply", "Make projects match their manifests."),
    "audit": (
        "bootstrap.cli.reconcile",
        "audit",
        "Report how far projects are from ready (read only).",
    ),
    "smoke": (
        "bootstrap.cli.smoke",
        "smoke",
        "Stream a chat completion from each model (read only).",
    ),
    "env": ("bootstrap.cli.env", "env", "Print what an application needs to call a model."),
    "report": ("bootstrap.cli.report", "report", "Work with saved reports (merge shards)."),
    "shards": ("bootstrap.cli.shards", "shards", "Print the shards of an N-way run (CI matrix)."),
    "emulator": ("bootstrap.cli.emulator", "emulator", "Run the offline Google Cloud emulator."),
    "demo": ("bootstrap.cli.demo", "demo", "Plan, apply and audit the demo world on the emulator."),
}

EXIT_CODES_HELP = (
    "Exit codes: 0 ok/converged, 1 error, 2 changes pending or audit findings, "
    "3 a person must act, 130 interrupted (precedence 1, 3, 2, 0)."
)


class LazyGroup(click.Group):
    """A group that imports a subcommand's module only when that subcommand runs."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module_name, attribute, _ = entry
        command = getattr(importlib.import_module(module_name), attribute)
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][2]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(
    cls=LazyGroup,
    epilog=EXIT_CODES_HELP,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="bootstrap")
def cli() -> None:
    """Make Google Cloud projects ready to call OpenAI's gpt-oss models on Vertex AI, and prove it.

    Manifests (YAML) say which projects and which models in which locations are wanted; plan shows
    the difference, apply closes it, audit and smoke prove it. Set BOOTSTRAP_EMULATOR_HOST to run
    against the offline emulator instead of Google Cloud.
    """


def usage_line(error: click.UsageError) -> str:
    """Click's usage error as one line: what is wrong, then where the help is."""
    command = error.ctx.command_path if error.ctx is not None else "bootstrap"
    return f"error: {' '.join(error.format_message().split())} (see {command} --help)"


def main(argv: list[str] | None = None) -> Any:
    """Console entry point. Click's usage errors exit 1, so that 2 always means 'changes pending'."""
    _skip_the_final_collection()
    try:
        # In non-standalone mode click returns the code given to ctx.exit() instead of exiting.
        code = cli.main(args=argv, prog_name="bootstrap", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
    except click.UsageError as error:
        click.echo(usage_line(error), err=True)
        sys.exit(1)
    except click.ClickException as error:
        error.show()
        sys.exit(1)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)


def _skip_the_final_collection() -> None:
    """At exit the interpreter runs a last garbage collection over every object the run built:
    half a second after a 1,000-project audit, spent after the report is out. Frozen objects are
    left out of it; what the run opened is closed or flushed by then (reports are written whole,
    the interpreter flushes stdout and stderr itself). Once per process, however often `main`
    runs in it (tests call it in process)."""
    global _EXIT_HOOKED
    if not _EXIT_HOOKED:
        atexit.register(gc.freeze)
        _EXIT_HOOKED = True


_EXIT_HOOKED = False
