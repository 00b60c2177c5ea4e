"""Hostile and broken clients against the gateway, with scripted integrations (see test_gateway_semantics).

RFC 6455 violations, API Gateway's frame-size limit, what `$disconnect` is told, frames a closed
connection left behind, one client's share of the workers, and malformed HTTP requests.
"""

import asyncio
import base64
import contextlib
import json
import logging
import os
import socket
import struct

import aiohttp
import pytest
import websockets

from tests.e2e.test_gateway_semantics import OK, GatewayLimits, ScriptedLambdas, api_with, function, serving

FRAME_LIMIT = 32 * 1024  # API Gateway's WebSocket frame size quota


def _open_raw_websocket(host: str) -> socket.socket:
    """A WebSocket handshake by hand, so the test can send frames no library would."""
    address, port = host.split(":")
    raw = socket.create_connection((address, int(port)), timeout=3)
    key = base64.b64encode(os.urandom(16)).decode("ascii")
    raw.sendall(
        (
            f"GET /dev HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode("ascii")
    )
    answer = b""
    while b"\r\n\r\n" not in answer:
        answer += raw.recv(4096)
    assert answer.startswith(b"HTTP/1.1 101"), answer
    return raw


def _frame(opcode: int, payload: bytes, *, masked: bool = True, final: bool = True) -> bytes:
    head = bytes([(0x80 if final else 0) | opcode])
    length = len(payload)
    mask_bit = 0x80 if masked else 0
    if length < 126:
        head += bytes([mask_bit | length])
    elif length < 65536:
        head += bytes([mask_bit | 126]) + struct.pack("!H", length)
    else:
        head += bytes([mask_bit | 127]) + struct.pack("!Q", length)
    if not masked:
        return head + payload
    mask = os.urandom(4)
    return head + mask + bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload))


def _fragmented(opcode: int, payload: bytes, size: int) -> bytes:
    """One message as a first frame and continuation frames of `size` bytes each."""
    chunks = [payload[index : index + size] for index in range(0, len(payload), size)]
    return b"".join(
        _frame(0x0 if index else opcode, chunk, final=index == len(chunks) - 1) for index, chunk in enumerate(chunks)
    )


def _close_code_received(raw: socket.socket) -> int | None:
    """Read until the server's close frame (unmasked, as a server's must be); its status code."""
    data = b""
    with contextlib.suppress(TimeoutError, ConnectionError):
        while True:
            chunk = raw.recv(65536)
            if not chunk:
                break
            data += chunk
    position = 0
    while position + 2 <= len(data):
        opcode, length = data[position] & 0x0F, data[position + 1] & 0x7F
        position += 2
        if length == 126:
            length, position = struct.unpack("!H", data[position : position + 2])[0], position + 2
        elif length == 127:
            length, position = struct.unpack("!Q", data[position : position + 8])[0], position + 8
        if opcode == 0x8:
            return struct.unpack("!H", data[position : position + 2])[0] if length >= 2 else None
        position += length
    return None


def _disconnect_status(lambdas: ScriptedLambdas) -> int:
    return lambdas.events["disconnect"][-1]["requestContext"]["disconnectStatusCode"]


def _abuse(raw_frames: bytes) -> tuple[int | None, int]:
    """Send raw frames on a fresh connection; the close code the client got, and what $disconnect got."""
    lambdas = ScriptedLambdas({"default": OK, "disconnect": OK})

    async def scenario():
        async with serving(api_with({"$default": False, "$disconnect": False}), lambdas) as host:
            raw = await asyncio.to_thread(_open_raw_websocket, host)
            raw.sendall(raw_frames)
            received = await asyncio.to_thread(_close_code_received, raw)
            raw.close()
            for _ in range(100):
                if lambdas.events["disconnect"]:
                    break
                await asyncio.sleep(0.05)
            return received

    received = asyncio.run(scenario())
    return received, _disconnect_status(lambdas)


def test_unmasked_client_frame_closes_with_1002_and_disconnect_says_so():
    """RFC 6455 section 5.1: a server MUST close the connection on an unmasked client frame."""
    assert _abuse(_frame(0x1, b'{"action":"x"}', masked=False)) == (1002, 1002)


@pytest.mark.parametrize(
    ("frames", "code"),
    [
        pytest.param(_frame(0x1, b"\xff\xfe not UTF-8"), 1007, id="invalid-utf8-text"),
        pytest.param(_frame(0x2, b"x" * (FRAME_LIMIT + 1)), 1009, id="frame-over-32KB"),
        pytest.param(
            _fragmented(0x2, b"x" * (128 * 1024 + 1), FRAME_LIMIT), 1009, id="message-over-128KB-in-32KB-frames"
        ),
    ],
)
def test_disconnect_reports_the_close_code_the_client_received(frames, code):
    assert _abuse(frames) == (code, code)


def test_single_frame_over_32_kb_closes_with_1009():
    """API Gateway: 'WebSocket frame size 32 KB'; larger frames close the connection with 1009."""
    lambdas = ScriptedLambdas({"default": OK})

    async def scenario():
        async with serving(api_with({"$default": False}), lambdas) as host:
            client = await websockets.connect(f"ws://{host}/dev", max_size=None)
            await client.send("x" * (FRAME_LIMIT + 1))
            with pytest.raises(websockets.ConnectionClosed):
                await asyncio.wait_for(client.recv(), 5)
            return client.close_code

    assert asyncio.run(scenario()) == 1009
    assert lambdas.events["default"] == []


def test_message_over_32_kb_in_frames_of_32_kb_is_routed_whole():
    """The 128 KB message limit is per message: a fragmented message up to it is one route event."""
    lambdas = ScriptedLambdas({"default": OK})
    body = "y" * (100 * 1024)

    async def scenario():
        async with serving(api_with({"$default": False}), lambdas) as host:
            client = await websockets.connect(f"ws://{host}/dev", max_size=None)
            await client.send(body[index : index + FRAME_LIMIT] for index in range(0, len(body), FRAME_LIMIT))
            for _ in range(100):
                if lambdas.events["default"]:
                    break
                await asyncio.sleep(0.05)
            await client.close()

    asyncio.run(scenario())
    assert [event["body"] for event in lambdas.events["default"]] == [body]


def test_frames_of_a_closed_connection_are_not_routed_after_it_closed():
    """Frames read but not yet routed when the client goes are dropped, not routed for minutes after."""
    released = asyncio.Event()
    lambdas = ScriptedLambdas({"default": OK, "disconnect": OK}, hold={"default": released})

    async def scenario():
        async with serving(api_with({"$default": False, "$disconnect": False}), lambdas) as host:
            flooder = await websockets.connect(f"ws://{host}/dev", close_timeout=1)
            for number in range(50):
                await flooder.send(f"frame {number}")
            await asyncio.sleep(0.5)
            routed_before_close = len(lambdas.events["default"])
            await flooder.close()
            for _ in range(60):  # $disconnect runs once the gateway has seen the close
                if lambdas.events["disconnect"]:
                    break
                await asyncio.sleep(0.05)
            released.set()
            await asyncio.sleep(1)
            return routed_before_close

    routed_before_close = asyncio.run(scenario())
    assert routed_before_close < 50
    assert len(lambdas.events["default"]) == routed_before_close


class PooledLambdas(ScriptedLambdas):
    """Like a function's worker pool: at most `workers` invocations at once, the rest wait in line."""

    def __init__(self, answers, *, workers: int, seconds: float):
        super().__init__(answers)
        self._slots = asyncio.Semaphore(workers)
        self._seconds = seconds

    async def invoke(self, spec, event, *, queue_timeout=None):
        async with self._slots:
            self.events[spec.name].append(event)
            await asyncio.sleep(self._seconds)
            return self.answers[spec.name]


def test_a_flooding_client_does_not_starve_another():
    """Connections take turns for a function's workers: a bystander's frame is not queued behind a flood."""

    async def scenario():
        lambdas = PooledLambdas({"default": OK}, workers=2, seconds=0.05)
        limits = GatewayLimits(route_concurrency=2)
        async with serving(api_with({"$default": False}), lambdas, limits=limits) as host:
            flooder = await websockets.connect(f"ws://{host}/dev")
            bystander = await websockets.connect(f"ws://{host}/dev")
            for number in range(40):
                await flooder.send(f"flood {number}")
            await asyncio.sleep(0.2)
            routed_when_sent = len(lambdas.events["default"])
            await bystander.send("bystander")
            while not any(event["body"] == "bystander" for event in lambdas.events["default"]):
                await asyncio.sleep(0.02)
            await flooder.close()
            await bystander.close()
        bodies = [event["body"] for event in lambdas.events["default"]]
        return bodies.index("bystander") - routed_when_sent

    # Flood frames routed after the bystander's frame arrived and before it: at most the ones that
    # had a worker already (2), not every flood frame waiting in line.
    assert asyncio.run(scenario()) <= 2


@pytest.mark.parametrize(
    ("path", "status", "error_type"),
    [
        ("/%00", 404, None),
        ("/" + "a" * 300, 404, None),
        ("/2015-03-31/functions/route/invocations", 400, "InvalidRequestContentException"),
    ],
    ids=["nul-byte", "segment-over-255", "deep-json"],
)
def test_malformed_http_requests_get_clean_errors_not_tracebacks(path, status, error_type, tmp_path, caplog):
    (tmp_path / "index.html").write_text("<p>chat</p>")
    deep = b"[" * 100_000 + b"]" * 100_000
    lambdas = ScriptedLambdas({"route": OK})
    spec = function("route")
    functions = {"route": spec}

    async def scenario():
        async with (
            serving(api_with({"$default": False}), lambdas, web_dir=tmp_path, find_function=functions.get) as host,
            aiohttp.ClientSession() as http,
        ):
            request = http.post if "invocations" in path else http.get
            url = aiohttp.client.URL(f"http://{host}{path}", encoded=True)
            response = await request(url, data=deep if "invocations" in path else None)
            return response.status, response.headers.get("x-amzn-ErrorType"), await response.text()

    with caplog.at_level(logging.ERROR, logger="aiohttp"):
        answered, answered_type, body = asyncio.run(scenario())
    assert (answered, answered_type) == (status, error_type)
    assert "message" in json.loads(body)
    assert not [record for record in caplog.records if record.exc_info], "no traceback is logged"
