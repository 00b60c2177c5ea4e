"""Each reach into aiohttp's internals (local/apigateway/aiohttp_internals.py), against a real aiohttp
server and client on loopback: if aiohttp moves what the gateway relies on, one of these fails."""

import asyncio

import aiohttp
import pytest
from aiohttp import WSCloseCode, WSMsgType, web
from aiohttp.http_websocket import WebSocketError

from local.apigateway.aiohttp_internals import AiohttpChanged, put_before_frame_parser, require_aiohttp


def test_another_aiohttp_release_is_refused_naming_what_to_check():
    with pytest.raises(AiohttpChanged, match=r"aiohttp 3\.99\.0 is installed.*aiohttp_internals\.py.*3\.14\.5"):
        require_aiohttp("3.99.0")


class Recording:
    """Stands before aiohttp's frame parser: keeps the bytes, hands them on; or, told to, fails the
    connection through the reader as aiohttp's parser does."""

    def __init__(self, parser, reader, *, fail_with: WebSocketError | None = None):
        self._parser = parser
        self._reader = reader
        self._fail_with = fail_with
        self.received = b""

    def feed_data(self, data: bytes) -> tuple[bool, bytes]:
        self.received += bytes(data)
        if self._fail_with is not None:
            self._reader.set_exception(self._fail_with)
            return True, b""
        return self._parser.feed_data(data)

    def feed_eof(self) -> None:
        self._parser.feed_eof()


async def exchange(fail_with: WebSocketError | None = None) -> tuple[list, list, list]:
    """One client sends "hello" to a server whose frame parser has a Recording before it: what the
    Recording got, what the server's socket yielded, what the client received."""
    recordings, server_saw = [], []

    async def websocket(request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)

        def recording(parser, reader):
            recordings.append(Recording(parser, reader, fail_with=fail_with))
            return recordings[-1]

        put_before_frame_parser(socket, request, recording)
        async for message in socket:
            server_saw.append((message.type, message.data))
            if message.type == WSMsgType.TEXT:
                await socket.send_str(f"echo {message.data}")
        return socket

    app = web.Application()
    app.router.add_get("/", websocket)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    client_got = []
    try:
        async with aiohttp.ClientSession() as session, session.ws_connect(f"http://127.0.0.1:{port}/") as client:
            await client.send_str("hello")
            message = await asyncio.wait_for(client.receive(), 5)
            client_got.append((message.type, message.data))
            await client.close()
    finally:
        await runner.cleanup()
    return recordings, server_saw, client_got


def test_the_parser_put_before_aiohttps_gets_the_clients_frames_and_hands_them_on():
    # Reach-in: the request handler's _payload_parser.
    recordings, server_saw, client_got = asyncio.run(exchange())

    (recording,) = recordings
    first, second = recording.received[0], recording.received[1]
    assert (first & 0x0F, second & 0x80, second & 0x7F) == (0x1, 0x80, len("hello")), "a masked text frame header"
    assert server_saw[0] == (WSMsgType.TEXT, "hello")
    assert client_got == [(WSMsgType.TEXT, "echo hello")]


def test_an_error_given_to_the_reader_closes_the_connection_with_its_code():
    # Reach-in: the WebSocket response's _reader.
    error = WebSocketError(WSCloseCode.PROTOCOL_ERROR, "Client frames must be masked")

    _, server_saw, client_got = asyncio.run(exchange(fail_with=error))

    assert server_saw == [(WSMsgType.ERROR, error)]
    assert client_got == [(WSMsgType.CLOSE, WSCloseCode.PROTOCOL_ERROR)]
