"""Floods against the real local runtime: the stage's throttle from the template, and the connection cap."""

import asyncio
import json
import socket
import time

import pytest
import websockets

from local.synth import template_path
from tests.e2e.conftest import OPEN_STAGE, running_local_runtime
from tests.protocol import server_frame

MAX_CONNECTIONS = 6
TCP_HEADROOM = 256  # local.apigateway.limits: connections beyond the cap kept for the runtime's own HTTP


def stage_throttle(stage: str = OPEN_STAGE) -> tuple[float, int]:
    """The stage's DefaultRouteSettings throttle, read from the synthesized template the runtime serves."""
    template = json.loads(template_path(stage).read_text())
    (stage_resource,) = [
        resource for resource in template["Resources"].values() if resource["Type"] == "AWS::ApiGatewayV2::Stage"
    ]
    settings = stage_resource["Properties"]["DefaultRouteSettings"]
    return float(settings["ThrottlingRateLimit"]), int(settings["ThrottlingBurstLimit"])


def test_frames_beyond_the_stage_throttle_are_answered_too_many_requests(local_runtime):
    rate, burst = stage_throttle()
    frames = burst + 200

    async def scenario():
        client = await websockets.connect(local_runtime.ws_url, max_queue=None)
        connection_id = json.loads(await asyncio.wait_for(client.recv(), 30))["connection_id"]
        started = time.monotonic()
        await asyncio.gather(*(client.send(json.dumps({"action": "noSuchAction", "n": n})) for n in range(frames)))
        answers = [server_frame(await asyncio.wait_for(client.recv(), 60)) for _ in range(frames)]
        took = time.monotonic() - started
        await client.close()
        return connection_id, took, answers

    connection_id, took, answers = asyncio.run(scenario())
    throttled = [answer for answer in answers if answer.get("message") == "Too Many Requests"]
    routed = [answer for answer in answers if answer.get("type") == "error"]
    assert len(throttled) + len(routed) == frames
    assert throttled, "a burst past the stage's burst limit is throttled"
    assert len(routed) <= burst + rate * took  # the bucket refills while the gateway reads the burst
    assert all(answer["connectionId"] == connection_id and answer["requestId"] for answer in throttled)
    time.sleep(burst / rate)  # the session's runtime is shared: leave its buckets full for the next test


def runtime_tracebacks(log: str) -> list[str]:
    """The runtime's own tracebacks; a function's (its handler raising) carry the function's name."""
    return [line for line in log.splitlines() if line.startswith(("Traceback", "Error handling request"))]


@pytest.fixture(scope="module")
def capped_runtime(tmp_path_factory):
    options = ("--max-connections", str(MAX_CONNECTIONS), "--quiet-history")
    with running_local_runtime(tmp_path_factory.mktemp("capped"), *options) as runtime:
        yield runtime


def test_connections_beyond_the_cap_are_refused_cleanly_and_logged_once(capped_runtime):
    async def scenario():
        clients = [await websockets.connect(capped_runtime.ws_url) for _ in range(MAX_CONNECTIONS)]
        refusals = []
        for _ in range(5):
            with pytest.raises(websockets.InvalidStatus) as refused:
                await websockets.connect(capped_runtime.ws_url)
            refusals.append(refused.value.response.status_code)
        await clients.pop().close()
        await asyncio.sleep(0.5)
        again = await websockets.connect(capped_runtime.ws_url)
        frame = json.loads(await asyncio.wait_for(again.recv(), 30))
        for client in [*clients, again]:
            await client.close()
        return refusals, frame

    refusals, frame = asyncio.run(scenario())
    assert refusals == [429] * 5
    assert frame["type"] == "connection"
    log = capped_runtime.log()
    assert log.count(f"{MAX_CONNECTIONS} connections") == 1, "the cap is logged once, not per refusal"
    assert runtime_tracebacks(log) == []


def test_silent_tcp_connections_beyond_the_cap_are_refused_without_exhausting_files(capped_runtime):
    """Sockets that never send a request count too: past the cap plus room for the runtime's own
    HTTP traffic, a new TCP connection is answered 503 and closed at once; said once, no traceback."""
    silent = []
    try:
        for _ in range(MAX_CONNECTIONS + TCP_HEADROOM):
            silent.append(socket.create_connection(("127.0.0.1", capped_runtime.port), timeout=10))
        time.sleep(0.5)
        answers = []
        for _ in range(5):
            with socket.create_connection(("127.0.0.1", capped_runtime.port), timeout=10) as extra:
                answers.append(extra.recv(200).split(b"\r\n", 1)[0])
    finally:
        for raw in silent:
            raw.close()
    assert answers == [b"HTTP/1.1 503 Service Unavailable"] * 5
    time.sleep(0.5)

    async def connect_again():
        client = await websockets.connect(capped_runtime.ws_url)
        frame = json.loads(await asyncio.wait_for(client.recv(), 30))
        await client.close()
        return frame

    assert asyncio.run(connect_again())["type"] == "connection"
    log = capped_runtime.log()
    assert log.count("TCP connections open") == 1
    assert runtime_tracebacks(log) == []
