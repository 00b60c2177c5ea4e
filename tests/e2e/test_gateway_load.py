"""Floods against the real local runtime: the stage's throttle from the template, and the connection cap."""

import asyncio
import json
import time

import pytest
import websockets

from tests.e2e.conftest import PROJECT_ROOT, running_local_runtime

MAX_CONNECTIONS = 6


def stage_throttle(stage: str = "dev") -> tuple[float, int]:
    """The stage's DefaultRouteSettings throttle, read from the synthesized template the runtime serves."""
    template = json.loads((PROJECT_ROOT / "cdk.out" / f"Chat-{stage}.template.json").read_text())
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
        sent_in = time.monotonic() - started
        answers = [json.loads(await asyncio.wait_for(client.recv(), 60)) for _ in range(frames)]
        await client.close()
        return connection_id, sent_in, answers

    connection_id, sent_in, answers = asyncio.run(scenario())
    throttled = [answer for answer in answers if answer.get("message") == "Too Many Requests"]
    routed = [answer for answer in answers if answer.get("type") == "error"]
    assert len(throttled) + len(routed) == frames
    assert len(routed) <= burst + rate * (sent_in + 1)
    assert all(answer["connectionId"] == connection_id and answer["requestId"] for answer in throttled)


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
    assert "Traceback" not in log
