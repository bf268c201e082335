"""Building and running the uvicorn server around the emulator app: shared by the CLI and the
in-process handle. Shutdown is bounded: open or stalled streams are cancelled after a second.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import uvicorn

from bootstrap.emulator.app import EmulatorApp
from bootstrap.emulator.faults import Faults
from bootstrap.emulator.state import Store
from bootstrap.emulator.transport import EmulatorHttpProtocol
from bootstrap.emulator.world import load_world_source


def build_app(
    world: dict[str, Any] | str | Path | None = None,
    *,
    faults: dict[str, Any] | None = None,
    latency_ms: float = 0,
    time_scale: float = 1.0,
    seed: int = 0,
    quiet: bool = True,
) -> EmulatorApp:
    store = Store(load_world_source(world), time_scale=time_scale, seed=seed)
    rules = Faults(seed=seed)
    if faults:
        rules.add(faults)
    return EmulatorApp(store, faults=rules, latency_ms=latency_ms, quiet=quiet)


def build_server(app: EmulatorApp) -> uvicorn.Server:
    config = uvicorn.Config(
        app,
        http=EmulatorHttpProtocol,
        lifespan="off",
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=1,
        timeout_keep_alive=30,
        backlog=4096,
    )
    return uvicorn.Server(config)


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(4096)
    sock.set_inheritable(True)
    return sock
