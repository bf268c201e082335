"""`bootstrap emulator`: run the offline Google Cloud emulator in the foreground.

Heavy imports (uvicorn, the emulator app) happen inside the command so `bootstrap --help`
stays fast.
"""

from __future__ import annotations

from pathlib import Path

import click

LOOPBACK_HOSTS = {"127.0.0.1", "::1", "localhost"}


@click.command("emulator")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8790, show_default=True, type=int, help="Port to bind (0: any).")
@click.option("--world", "world_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--faults", "faults_file", type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--latency-ms", default=0.0, type=float, help="Delay added to every API request.")
@click.option("--time-scale", default=1.0, type=float, help="Virtual clock speed (x real time).")
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
    import yaml

    from bootstrap.emulator.server import bind, build_app, build_server

    if host not in LOOPBACK_HOSTS:
        click.echo(
            f"warning: binding {host}; the emulator has no real security and its control API "
            "must not be reachable from other machines.",
            err=True,
        )
    faults = yaml.safe_load(faults_file.read_text(encoding="utf-8")) if faults_file else None
    app = build_app(
        world_file,
        faults=faults,
        latency_ms=latency_ms,
        time_scale=time_scale,
        seed=seed,
        quiet=quiet,
    )
    sock = bind(host, port)
    bound = sock.getsockname()[1]
    click.echo(
        f"bootstrap emulator on http://{host}:{bound} (export BOOTSTRAP_EMULATOR_HOST={host}:{bound})",
        err=True,
    )
    build_server(app).run(sockets=[sock])
