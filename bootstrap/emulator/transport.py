"""Below ASGI: the uvicorn protocol that exposes each request's transport to the app, so the
`reset` and `sse_break_after` faults can drop a connection with a TCP RST instead of answering.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

TRANSPORT_KEY = "emulator.transport"


class EmulatorHttpProtocol(HttpToolsProtocol):
    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        # The ASGI task has been created but not started, so the scope can still be extended.
        self.scope[TRANSPORT_KEY] = self.transport  # type: ignore[literal-required]


async def reset_connection(scope: dict[str, Any]) -> None:
    """Abort the connection with RST (SO_LINGER 0), then let uvicorn notice it is gone."""
    transport = scope.get(TRANSPORT_KEY)
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()
    # connection_lost runs on the next loop iterations; after it uvicorn skips its own 500.
    await asyncio.sleep(0)
    await asyncio.sleep(0)
