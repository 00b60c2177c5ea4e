"""The WebSocket API's client connections: one open connection, and the registry of open ones."""

import asyncio
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field

from aiohttp import WSCloseCode, web

from local.apigateway.events import ClientInfo

# Frames of one client admitted by the stage's throttle and not yet answered. Reading stops at the
# limit, so it must leave room for the throttle to see a flood: frames are throttled as they are
# read, as API Gateway throttles them on arrival, whatever the pace of the local workers.
MAX_IN_FLIGHT_PER_CONNECTION = 100
SEND_TIMEOUT_SECONDS = 5
CLOSE_TIMEOUT_SECONDS = 5
CONNECT_ANSWER_GRACE_SECONDS = 1


@dataclass
class Connection:
    client: ClientInfo
    socket: web.WebSocketResponse
    transport: asyncio.BaseTransport | None
    send_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # Frames of this client being routed at once; reading pauses at the limit (back-pressure).
    in_flight: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(MAX_IN_FLIGHT_PER_CONNECTION))
    server_close: tuple[int, str] | None = None
    # Set once the client is gone (its TCP connection ended, or its socket closed): frames of it
    # not yet given to an integration are dropped from then on.
    gone: asyncio.Event = field(default_factory=asyncio.Event)
    dropped: int = 0
    throttled: int = 0

    async def reserve(self) -> bool:
        """Wait for room among this client's frames being routed; False if the client went meanwhile."""
        if self.gone.is_set():
            return False
        if not self.in_flight.locked():
            await self.in_flight.acquire()
            return True
        acquiring = asyncio.ensure_future(self.in_flight.acquire())
        going = asyncio.ensure_future(self.gone.wait())
        await asyncio.wait({acquiring, going}, return_when=asyncio.FIRST_COMPLETED)
        going.cancel()
        if acquiring.done() and not acquiring.cancelled():
            if not self.gone.is_set():
                return True
            self.in_flight.release()
        acquiring.cancel()
        return False

    async def close(self, code: int, reason: str) -> None:
        self.server_close = (code, reason)
        try:
            await asyncio.wait_for(self.socket.close(code=code, message=reason.encode("utf-8")), CLOSE_TIMEOUT_SECONDS)
        except TimeoutError:
            self.abort(reason)

    def abort(self, reason: str) -> None:
        """Drop the TCP connection at once: for a client that stopped reading."""
        self.server_close = self.server_close or (WSCloseCode.ABNORMAL_CLOSURE, reason)
        if self.transport is not None:
            self.transport.abort()

    def disconnect_status(self) -> tuple[int, str]:
        """Status code and reason for $disconnect, worded like API Gateway's disconnectReason."""
        if self.server_close is not None:
            return self.server_close
        code = self.socket.close_code
        if code is None or code < 1000:
            code = WSCloseCode.ABNORMAL_CLOSURE
        return code, f"Client-side close frame status code '{code}'"

    async def send(self, data: bytes | str) -> None:
        """Send one frame; a client that does not take it within SEND_TIMEOUT_SECONDS is dropped."""
        async with self.send_lock:
            try:
                await asyncio.wait_for(self._send(data), SEND_TIMEOUT_SECONDS)
            except TimeoutError:
                self.abort("the client stopped reading")
                raise ConnectionResetError("the client stopped reading") from None

    async def _send(self, data: bytes | str) -> None:
        if isinstance(data, bytes):
            try:
                data = data.decode("utf-8")
            except UnicodeDecodeError:
                await self.socket.send_bytes(data)
                return
        await self.socket.send_str(data)


class Connections:
    """The open connections by id, and the ids whose $connect is still being answered."""

    def __init__(self):
        self._open: dict[str, Connection] = {}
        self._connecting: dict[str, asyncio.Future] = {}  # connection id -> done once $connect is answered

    @contextlib.contextmanager
    def connecting(self, connection_id: str) -> Iterator[None]:
        """While $connect is being answered: a post to this id waits for the answer (see ``get_after_connect``)."""
        opened = asyncio.get_running_loop().create_future()
        self._connecting[connection_id] = opened
        try:
            yield
        finally:
            del self._connecting[connection_id]
            opened.set_result(None)

    def add(self, connection: Connection) -> None:
        self._open[connection.client.connection_id] = connection

    def remove(self, connection_id: str) -> None:
        self._open.pop(connection_id, None)

    def get(self, connection_id: str) -> Connection | None:
        return self._open.get(connection_id)

    def all(self) -> list[Connection]:
        return list(self._open.values())

    def __bool__(self) -> bool:
        return bool(self._open)

    def __len__(self) -> int:
        """Open connections and those whose $connect is being answered."""
        return len(self._open) + len(self._connecting)

    async def get_after_connect(self, connection_id: str) -> Connection | None:
        """The open connection; one whose $connect answer is still on its way is waited for briefly.

        Inside one event loop the handshake's post can overtake the $connect function's answer,
        which over AWS's network practically never happens. A $connect that rejects, or takes longer
        than the grace, still leaves the post with 410, as on AWS.
        """
        opening = self._connecting.get(connection_id)
        if opening is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(opening), CONNECT_ANSWER_GRACE_SECONDS)
        return self._open.get(connection_id)
