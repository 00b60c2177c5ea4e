"""The runtime's listening socket, with a cap on open TCP connections.

The WebSocket cap (`--max-connections`) counts clients once they ask for an upgrade; a socket that
never sends a request would still hold an open file. Beyond the cap plus room for the runtime's own
HTTP traffic (Step Functions' Lambda tasks, handlers posting to @connections), a new TCP connection
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


class _Refusal(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport.write(_REFUSAL)
        transport.close()


class CappedSockSite(web.SockSite):
    """aiohttp's SockSite, whose accepted connections beyond `max_open` are refused at once."""

    def __init__(self, runner: web.BaseRunner, sock: socket.socket, *, max_open: int, on_cap: Callable[[int], None]):
        super().__init__(runner, sock)
        self._max_open = max_open
        self._on_cap = on_cap
        self._capped = False

    async def start(self) -> None:
        await web.BaseSite.start(self)  # registers the site with its runner, as SockSite.start does
        server = self._runner.server
        self._server = await asyncio.get_running_loop().create_server(
            lambda: self._protocol(server), sock=self._sock, backlog=self._backlog
        )

    def _protocol(self, server: web.Server) -> asyncio.BaseProtocol:
        if len(server.connections) < self._max_open:
            self._capped = False
            return server()
        if not self._capped:
            self._capped = True
            self._on_cap(self._max_open)
        return _Refusal()
