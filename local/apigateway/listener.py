"""The runtime's listening socket, with a cap on open TCP connections.

The WebSocket cap (`--max-connections`) counts clients once they ask for an upgrade; a socket that
never sends a request would still hold an open file. Beyond the cap plus room for the runtime's own
HTTP traffic (Step Functions' Lambda tasks and posts, handlers posting to @connections), a new TCP connection
is answered 503 and closed as it is accepted, so open files never run out.
"""

import asyncio
import json
import socket
from collections.abc import Callable

from aiohttp import web

_REFUSAL_BODY = json.dumps({"message": "Service Unavailable: too many open connections"}).encode()
_REFUSAL = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
    + f"Content-Length: {len(_REFUSAL_BODY)}\r\nConnection: close\r\n\r\n".encode()
    + _REFUSAL_BODY
)


# As aiohttp's sites listen.
_BACKLOG = 128


class _Refusal(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport.write(_REFUSAL)
        transport.close()


class CappedListener:
    """Serves an aiohttp runner's application on a listening socket, through aiohttp's public API only
    (``runner.server``, the protocol factory, and its ``connections``); connections accepted beyond
    ``max_open`` are refused at once. Stop it before ``runner.cleanup()``, as aiohttp stops its sites."""

    def __init__(self, runner: web.BaseRunner, sock: socket.socket, *, max_open: int, on_cap: Callable[[int], None]):
        self._runner = runner
        self._sock = sock
        self._max_open = max_open
        self._on_cap = on_cap
        self._capped = False
        self._server: asyncio.AbstractServer | None = None

    async def start(self) -> None:
        server = self._runner.server
        self._server = await asyncio.get_running_loop().create_server(
            lambda: self._protocol(server), sock=self._sock, backlog=_BACKLOG
        )

    async def stop(self) -> None:
        """Stop accepting (the socket is closed); connections already open are the runner's to close."""
        if self._server is not None:
            self._server.close()
            self._server = None

    def _protocol(self, server: web.Server) -> asyncio.BaseProtocol:
        if len(server.connections) < self._max_open:
            self._capped = False
            return server()
        if not self._capped:
            self._capped = True
            self._on_cap(self._max_open)
        return _Refusal()
