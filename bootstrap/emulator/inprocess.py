"""The in-process handle: `with Emulator() as emu:` runs a real uvicorn server on an ephemeral
loopback port in a background thread; every method talks to the control API over HTTP.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

DEFAULT_TOKEN = "emulator-owner"


class Emulator:
    """A running emulator; use as a context manager (or call start/stop)."""

    def __init__(
        self,
        world: dict[str, Any] | str | Path | None = None,
        *,
        faults: dict[str, Any] | None = None,
        latency_ms: float = 0,
        time_scale: float = 1.0,
        seed: int = 0,
        quiet: bool = True,
    ) -> None:
        from bootstrap.emulator.server import bind, build_app, build_server

        self.app = build_app(
            world,
            faults=faults,
            latency_ms=latency_ms,
            time_scale=time_scale,
            seed=seed,
            quiet=quiet,
        )
        self._server = build_server(self.app)
        self._socket = bind("127.0.0.1", 0)
        self.port: int = self._socket.getsockname()[1]
        self.host = f"127.0.0.1:{self.port}"
        self.base_url = f"http://{self.host}"
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> Emulator:
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._socket]},
            name="emulator",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the emulator did not start")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        # force_exit skips waiting for open or stalled streams; their tasks are cancelled.
        self._server.should_exit = True
        self._server.force_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._socket.close()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- control API -----------------------------------------------------------------------------
    def _control(self, method: str, name: str, payload: Any = None) -> Any:
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(
            f"{self.base_url}/_emulator/{name}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"{}")

    def reset(self) -> None:
        """Back to the initial world; clears faults, journal, quota counters and operations."""
        self._control("POST", "reset")

    def get_world(self) -> dict[str, Any]:
        result: dict[str, Any] = self._control("GET", "world")
        return result

    def put_world(self, world: dict[str, Any]) -> None:
        self._control("PUT", "world", world)

    def add_faults(self, spec: dict[str, Any]) -> None:
        self._control("POST", "faults", spec)

    def faults(self) -> dict[str, Any]:
        result: dict[str, Any] = self._control("GET", "faults")
        return result

    def clear_faults(self) -> None:
        self._control("DELETE", "faults")

    def journal(self) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = self._control("GET", "journal")["entries"]
        return entries

    def clear_journal(self) -> None:
        self._control("DELETE", "journal")

    def advance(self, seconds: float) -> None:
        """Move the virtual clock forward (operations, lags, quotas, model dates)."""
        self._control("POST", "clock", {"advance_s": seconds})
