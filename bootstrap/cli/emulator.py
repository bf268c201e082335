"""`bootstrap emulator`: run the offline Google Cloud emulator in the foreground.

Heavy imports (uvicorn, the emulator app) happen inside the command so `bootstrap --help`
stays fast.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from bootstrap.cli.paths import ExistingPath
from bootstrap.cli.runtime import fail

T = TypeVar("T")

LOOPBACK_HOSTS = {"127.0.0.1", "::1", "localhost"}

# What a wrong world or faults file raises while it is read and checked (yaml's errors are
# ValueErrors' cousins; a missing key is a KeyError, a list where a mapping belongs a TypeError).
_BAD_INPUT = (OSError, ValueError, KeyError, TypeError, AttributeError, re.error)


@click.command("emulator")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option(
    "--port",
    default=8790,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port to bind (0: any).",
)
@click.option(
    "--world",
    "world_file",
    type=ExistingPath(dir_okay=False, as_path=True),
    metavar="FILE",
    help="Initial state, YAML or JSON (organizations, folders, projects, billing accounts, "
    "models, behaviour knobs; docs/emulator.md, World schema). Default: the built-in world.",
)
@click.option(
    "--faults",
    "faults_file",
    type=ExistingPath(dir_okay=False, as_path=True),
    metavar="FILE",
    help="Fault rules to inject, YAML or JSON (docs/emulator.md, Faults). Default: none.",
)
@click.option(
    "--latency-ms",
    default=0.0,
    type=click.FloatRange(min=0),
    help="Delay added to every API request.",
)
@click.option(
    "--time-scale",
    default=1.0,
    type=click.FloatRange(min=0, min_open=True),
    help="Virtual clock speed (x real time, more than 0).",
)
@click.option("--seed", default=0, type=int, help="Seed for generated ids and fault probabilities.")
@click.option("--quiet", is_flag=True, help="Do not log one line per request.")
def emulator(
    host: str,
    port: int,
    world_file: Path | None,
    faults_file: Path | None,
    latency_ms: float,
    time_scale: float,
    seed: int,
    quiet: bool,
) -> None:
    """Serve Resource Manager, Service Usage, Billing, Vertex AI and the chat route on one port.

    Clients: BOOTSTRAP_EMULATOR_HOST=HOST:PORT and BOOTSTRAP_EMULATOR_TOKEN=emulator-owner.
    Control API (loopback only): /_emulator/{reset,world,faults,journal,clock}.
    """
    from bootstrap.emulator.server import build_app, build_server

    if host not in LOOPBACK_HOSTS:
        click.echo(
            f"warning: binding {host}; the emulator has no real security and its control API "
            "must not be reachable from other machines.",
            err=True,
        )
    faults = _checked("--faults", faults_file, lambda: _faults(faults_file, seed))
    app = _checked(
        "--world",
        world_file,
        lambda: build_app(
            world_file,
            faults=faults,
            latency_ms=latency_ms,
            time_scale=time_scale,
            seed=seed,
            quiet=quiet,
        ),
    )
    build_server(app).run(sockets=[_listen(host, port)])


def _listen(host: str, port: int) -> Any:
    """The bound socket, announced with the variable clients need; a busy port is one line."""
    from bootstrap.emulator.server import bind

    try:
        sock = bind(host, port)
    except OSError as error:
        fail(
            f"cannot listen on {host}:{port} ({error.strerror or error}); pass another --port "
            "(0 picks a free one) or stop what is using it"
        )
    bound = sock.getsockname()[1]
    click.echo(
        f"bootstrap emulator on http://{host}:{bound} (export BOOTSTRAP_EMULATOR_HOST={host}:{bound})",
        err=True,
    )
    return sock


def _faults(path: Path | None, seed: int) -> dict[str, Any] | None:
    """The faults file's rules, checked by parsing them as the emulator will."""
    import yaml

    from bootstrap.emulator.faults import Faults

    if path is None:
        return None
    faults = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(faults, dict):
        raise ValueError('a faults file must hold {"rules": [...]}')
    Faults(seed=seed).add(faults)
    return faults


def _checked(option: str, path: Path | None, load: Callable[[], T]) -> T:
    """`load()`, or one line naming the option and file and what is wrong in it, then exit 1."""
    import yaml

    try:
        return load()
    except (*_BAD_INPUT, yaml.YAMLError) as error:
        what = f"missing key {error}" if isinstance(error, KeyError) else str(error)
        said = " ".join(what.split())[:300]
        fail(f"{option} {path}: {said}; fix the file (the format is in docs/emulator.md)")
