"""API Gateway's limits and edge cases, on a runtime with short idle and lifetime limits."""

import asyncio
import json
import socket
import time

import pytest
import websockets
from botocore.exceptions import ClientError

from tests.e2e.conftest import running_local_runtime

IDLE_SECONDS = 2
LIFETIME_SECONDS = 5


@pytest.fixture(scope="module")
def short_lived_runtime(tmp_path_factory):
    options = ("--idle-timeout", str(IDLE_SECONDS), "--max-lifetime", str(LIFETIME_SECONDS), "--quiet-history")
    with running_local_runtime(tmp_path_factory.mktemp("short-lived"), *options) as runtime:
        yield runtime


async def first_frame(client) -> dict:
    return json.loads(await asyncio.wait_for(client.recv(), 30))


def test_idle_connection_is_closed_with_1001(short_lived_runtime):
    async def scenario():
        client = await websockets.connect(short_lived_runtime.ws_url)
        await first_frame(client)
        with pytest.raises(websockets.ConnectionClosed):
            await asyncio.wait_for(client.recv(), IDLE_SECONDS + 10)
        return client.close_code, client.close_reason

    code, reason = asyncio.run(scenario())
    assert code == 1001 and "idle" in reason


def test_active_connection_is_closed_at_its_lifetime_with_1001(short_lived_runtime):
    async def scenario():
        client = await websockets.connect(short_lived_runtime.ws_url)
        connection_id = (await first_frame(client))["connection_id"]
        started = time.monotonic()
        try:
            while True:  # stay active: an error frame answers each ping-like frame
                await client.send(json.dumps({"action": "keepalive", "from": connection_id}))
                await asyncio.wait_for(client.recv(), 30)
                await asyncio.sleep(0.5)
        except websockets.ConnectionClosed:
            pass
        return client.close_code, client.close_reason, time.monotonic() - started

    code, reason, lived = asyncio.run(scenario())
    assert code == 1001 and "lifetime" in reason
    assert lived >= LIFETIME_SECONDS - 1


@pytest.mark.parametrize("reserved", ["$connect", "$disconnect"])
def test_frames_naming_connect_or_disconnect_go_to_default(short_lived_runtime, reserved):
    async def scenario():
        client = await websockets.connect(short_lived_runtime.ws_url)
        await first_frame(client)
        await client.send(json.dumps({"action": reserved}))
        reply = await first_frame(client)
        await client.close()
        return reply

    reply = asyncio.run(scenario())
    assert reply["type"] == "error" and reply["code"] == "unknown_action"


def test_client_that_stops_reading_is_dropped_and_others_are_served(short_lived_runtime):
    """A client that never reads must not stall posts to it, its idle close, or anyone else."""
    management = short_lived_runtime.connections_api()

    async def scenario():
        stuck = await websockets.connect(short_lived_runtime.ws_url, max_queue=1)
        stuck_id = (await first_frame(stuck))["connection_id"]
        stuck.transport.pause_reading()  # from now on it reads nothing; the kernel buffers fill up
        payload = b"x" * (64 * 1024)
        outcome = None
        for _ in range(200):
            try:
                await asyncio.to_thread(management.post_to_connection, ConnectionId=stuck_id, Data=payload)
            except ClientError as error:
                outcome = error.response["Error"]["Code"]
                break
        healthy = await websockets.connect(short_lived_runtime.ws_url)
        healthy_id = (await first_frame(healthy))["connection_id"]
        await healthy.send(json.dumps({"action": "sendMessage", "message": "fine", "recipient_id": healthy_id}))
        frame = await first_frame(healthy)
        while frame.get("type") != "message":  # the accepted frame and the message may come in either order
            frame = await first_frame(healthy)
        await healthy.close()
        stuck.transport.abort()
        return outcome, frame

    outcome, frame = asyncio.run(scenario())
    assert outcome == "GoneException"
    assert frame["message"] == "fine"


def test_plain_http_to_the_websocket_endpoint_is_told_to_upgrade(short_lived_runtime):
    with socket.create_connection(("127.0.0.1", short_lived_runtime.port), timeout=10) as raw:
        raw.sendall(
            f"GET /{short_lived_runtime.stage} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".encode()
        )
        status_line = raw.recv(200).split(b"\r\n", 1)[0]
    assert status_line.endswith(b"426 Upgrade Required")
