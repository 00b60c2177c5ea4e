"""RFC 6455 frame headers of every client frame, checked before aiohttp's WebSocket reader assembles messages.

aiohttp's reader serves clients and servers alike, so it accepts unmasked frames, and it limits
whole messages only. Two rules apply to single frames:
- RFC 6455, section 5.1: a server MUST close the connection on an unmasked client frame (1002).
- API Gateway: "WebSocket frame size 32 KB"; a larger message must come in several frames, and a
  larger frame closes the connection with 1009 (AWS docs, "Quotas for configuring and running a
  WebSocket API in API Gateway"). The 128 KB limit is per message, checked by the reader.
"""

from collections.abc import Callable

from aiohttp import WSCloseCode, web
from aiohttp.http_websocket import WebSocketError

from local.apigateway.aiohttp_internals import put_before_frame_parser

MAX_FRAME_BYTES = 32 * 1024


class ClientFrameCheck:
    """Stands in front of aiohttp's parser: passes the bytes through, frame by frame, until a frame
    breaks a rule; then the reader's queue gets the error, as for the reader's own protocol errors."""

    def __init__(self, parser, queue, *, on_eof: Callable[[], None] = lambda: None):
        self._parser = parser
        self._queue = queue
        self._on_eof = on_eof
        self._partial_header = b""  # the start of a frame header, held back until it is whole
        self._payload_left = 0
        self._failed = False

    def feed_data(self, data: bytes) -> tuple[bool, bytes]:
        if self._failed:
            return True, b""
        data = self._partial_header + bytes(data)
        error, checked = self._scan(data)
        self._partial_header = b"" if error else data[checked:]
        eof, tail = self._parser.feed_data(data[:checked]) if checked else (False, b"")
        if error is None or eof:
            return eof, tail
        self._failed = True
        self._queue.set_exception(error)
        return True, b""

    def feed_eof(self) -> None:
        """The TCP connection ended: frames still buffered are the last ones."""
        self._parser.feed_eof()
        self._on_eof()

    def _scan(self, data: bytes) -> tuple[WebSocketError | None, int]:
        """The first rule broken in `data`, and how many bytes of it are checked and fine (the rest
        is the start of a header not whole yet, or the frame that broke the rule)."""
        position = 0
        while position < len(data):
            if self._payload_left:
                step = min(self._payload_left, len(data) - position)
                position += step
                self._payload_left -= step
                continue
            header = data[position : position + 14]
            needed = _header_length(header)
            if needed is None or len(header) < needed:
                return None, position
            masked, length = _masked_and_length(header)
            if not masked:
                return WebSocketError(WSCloseCode.PROTOCOL_ERROR, "Client frames must be masked"), position
            if length > MAX_FRAME_BYTES:
                message = f"Frame of {length} bytes exceeds the {MAX_FRAME_BYTES} byte frame size limit"
                return WebSocketError(WSCloseCode.MESSAGE_TOO_BIG, message), position
            position += needed
            self._payload_left = length
        return None, position


def check_client_frames(socket: web.WebSocketResponse, request: web.BaseRequest, *, on_eof: Callable[[], None]) -> None:
    """Put the check in front of aiohttp's frame parser for this connection, once ``socket.prepare(request)``
    has installed it. ``on_eof`` is called when the client's TCP connection ends, even while its frames
    wait to be read."""
    put_before_frame_parser(socket, request, lambda parser, queue: ClientFrameCheck(parser, queue, on_eof=on_eof))


def _header_length(header: bytes) -> int | None:
    if len(header) < 2:
        return None
    extended = {126: 2, 127: 8}.get(header[1] & 0x7F, 0)
    mask = 4 if header[1] & 0x80 else 0
    return 2 + extended + mask


def _masked_and_length(header: bytes) -> tuple[bool, int]:
    masked = bool(header[1] & 0x80)
    length = header[1] & 0x7F
    if length >= 126:
        size = 2 if length == 126 else 8
        length = int.from_bytes(header[2 : 2 + size], "big")
    return masked, length
