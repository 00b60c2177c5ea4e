"""The chat end to end, against the real local runtime, with real WebSocket clients."""

import asyncio
import json
import re
import subprocess

import pytest
import websockets
from botocore.exceptions import ClientError

from tests.e2e.conftest import PROJECT_ROOT, runtime_environment
from tests.protocol import server_frame

RECEIVE_TIMEOUT = 30  # generous: the first calls may meet a worker still warming up


async def receive(client) -> dict:
    return server_frame(await asyncio.wait_for(client.recv(), RECEIVE_TIMEOUT))


async def receive_until(client, frame_type: str) -> dict:
    """The next frame of a type; a message frame may be overtaken by another, as on AWS."""
    while True:
        frame = await receive(client)
        if frame.get("type") == frame_type:
            return frame


async def receive_types(client, frame_types: set[str]) -> dict[str, dict]:
    """One frame of each type, whichever order they come in (a route response and a post race, as on AWS)."""
    frames: dict[str, dict] = {}
    while set(frames) != frame_types:
        frame = await receive(client)
        assert frame.get("type") in frame_types, frame
        frames.setdefault(frame["type"], frame)
    return frames


async def connect(local_runtime):
    client = await websockets.connect(local_runtime.ws_url, max_size=None)
    frame = await receive(client)
    return client, frame["connection_id"]


def run(coroutine):
    return asyncio.run(coroutine)


def test_seed_walkthrough_two_clients_get_ids_and_both_receive_the_message(local_runtime):
    async def scenario():
        alice, alice_id = await connect(local_runtime)
        bob, bob_id = await connect(local_runtime)
        assert alice_id != bob_id
        await alice.send(json.dumps({"action": "sendMessage", "message": "Hello", "recipient_id": bob_id}))
        alice_frames = await receive_types(alice, {"accepted", "message"})
        frames = [alice_frames["message"], await receive(bob)]
        await alice.close()
        await bob.close()
        return alice_id, bob_id, alice_frames["accepted"], frames

    alice_id, bob_id, accepted, frames = run(scenario())
    for frame in frames:
        # The seed's fields, unchanged in name and meaning.
        assert (frame["message"], frame["sender_id"], frame["recipient_id"]) == ("Hello", alice_id, bob_id)
        assert frame["type"] == "message"
    assert accepted == {"type": "accepted", "message_id": frames[0]["message_id"]}
    assert frames[0]["message_id"] == frames[1]["message_id"]


def test_connection_frame_keeps_the_seed_shape(local_runtime):
    async def scenario():
        client = await websockets.connect(local_runtime.ws_url)
        frame = await receive(client)
        await client.close()
        return frame

    frame = run(scenario())
    assert set(frame) == {"type", "connection_id"}
    assert frame["type"] == "connection" and len(frame["connection_id"]) == 16


def test_message_to_several_recipients_reaches_each_once(local_runtime):
    async def scenario():
        clients = [await connect(local_runtime) for _ in range(3)]
        (sender, sender_id), *recipients = clients
        ids = [connection_id for _, connection_id in recipients]
        await sender.send(json.dumps({"action": "sendMessage", "message": "to both", "recipient_ids": ids}))
        received = [await receive_until(client, "message") for client, _ in clients]
        for client, _ in clients:
            await client.close()
        return sender_id, ids, received

    sender_id, ids, received = run(scenario())
    assert all(frame["message"] == "to both" and frame["sender_id"] == sender_id for frame in received)
    assert all(frame["recipient_ids"] == ids for frame in received)


def test_recipient_gone_sender_is_told_and_still_gets_its_copy(local_runtime):
    async def scenario():
        alice, _ = await connect(local_runtime)
        bob, bob_id = await connect(local_runtime)
        await bob.close()
        await asyncio.sleep(0.2)
        request = {"action": "sendMessage", "message": "anyone?", "recipient_id": bob_id, "client_message_id": "m-1"}
        await alice.send(json.dumps(request))
        frames = await receive_types(alice, {"accepted", "message", "delivery_failed"})
        await alice.close()
        return bob_id, frames

    bob_id, frames = run(scenario())
    own_copy, failure, accepted = frames["message"], frames["delivery_failed"], frames["accepted"]
    assert own_copy["message"] == "anyone?"
    assert failure["recipient_id"] == bob_id and failure["recipient_ids"] == [bob_id]
    # The id the sender learns first is the one its message and the failure report carry.
    assert accepted == {"type": "accepted", "message_id": own_copy["message_id"], "client_message_id": "m-1"}
    assert failure["message_id"] == own_copy["message_id"]


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("this is not json", "invalid_json"),
        (json.dumps({"action": "dance"}), "unknown_action"),
        (json.dumps({"message": "no action"}), "missing_action"),
        (json.dumps({"action": "sendMessage", "recipient_id": "x"}), "invalid_request"),
        (json.dumps({"action": "sendMessage", "message": "hi"}), "invalid_request"),
        (json.dumps({"action": "sendMessage", "message": "   ", "recipient_id": "x"}), "invalid_request"),
    ],
)
def test_bad_input_gets_an_error_frame_and_the_connection_stays_usable(local_runtime, frame, code):
    async def scenario():
        client, client_id = await connect(local_runtime)
        await client.send(frame)
        error = await receive(client)
        await client.send(json.dumps({"action": "sendMessage", "message": "still here", "recipient_id": client_id}))
        follow_up = await receive_until(client, "message")
        await client.close()
        return error, follow_up

    error, follow_up = run(scenario())
    assert error["type"] == "error" and error["code"] == code and error["message"]
    assert follow_up["message"] == "still here"


def test_oversize_message_closes_with_1009_and_others_are_still_served(local_runtime):
    async def scenario():
        big, _ = await connect(local_runtime)
        await big.send("x" * (128 * 1024 + 1))
        with pytest.raises(websockets.ConnectionClosed):
            await asyncio.wait_for(big.recv(), RECEIVE_TIMEOUT)
        close_code = big.close_code
        other, other_id = await connect(local_runtime)
        await other.send(json.dumps({"action": "sendMessage", "message": "ok", "recipient_id": other_id}))
        frame = await receive_until(other, "message")
        await other.close()
        return close_code, frame

    close_code, frame = run(scenario())
    assert close_code == 1009
    assert frame["message"] == "ok"


def test_connections_api_post_get_delete_through_boto3(local_runtime):
    management = local_runtime.connections_api()

    async def scenario():
        client, client_id = await connect(local_runtime)
        await asyncio.to_thread(management.post_to_connection, ConnectionId=client_id, Data=b'{"hello":"boto3"}')
        posted = json.loads(await asyncio.wait_for(client.recv(), RECEIVE_TIMEOUT))  # not a chat frame
        described = await asyncio.to_thread(management.get_connection, ConnectionId=client_id)
        await asyncio.to_thread(management.delete_connection, ConnectionId=client_id)
        with pytest.raises(websockets.ConnectionClosed):
            await asyncio.wait_for(client.recv(), RECEIVE_TIMEOUT)
        return client_id, posted, described

    client_id, posted, described = run(scenario())
    assert posted == {"hello": "boto3"}
    assert described["Identity"]["SourceIp"] == "127.0.0.1"
    assert described["LastActiveAt"] >= described["ConnectedAt"]
    with pytest.raises(ClientError) as gone:
        management.post_to_connection(ConnectionId=client_id, Data=b"{}")
    assert gone.value.response["Error"]["Code"] == "GoneException"
    assert gone.value.response["ResponseMetadata"]["HTTPStatusCode"] == 410


def message_to_self(local_runtime, text: str) -> tuple[str, str]:
    """One client sends ``text`` to itself and leaves: its connection id and the message's id."""

    async def scenario():
        alice, alice_id = await connect(local_runtime)
        await alice.send(json.dumps({"action": "sendMessage", "message": text, "recipient_id": alice_id}))
        frame = await receive_until(alice, "message")
        await alice.close()
        return alice_id, frame["message_id"]

    return run(scenario())


def test_execution_history_lists_both_workflows_with_their_states(local_runtime):
    alice_id, message_id = message_to_self(local_runtime, "audit me")
    listing = local_runtime.local_cli("executions")
    assert listing.returncode == 0, listing.stderr
    rows = [line.split() for line in listing.stdout.splitlines()[1:]]
    handshake_prefix = re.sub(r"[^A-Za-z0-9_-]", "_", alice_id)
    handshake = [row for row in rows if row[0] == "ConnectionHandshake" and row[1].startswith(handshake_prefix)]
    fanout = [row for row in rows if row[0] == "MessageFanout" and row[1] == message_id]
    assert handshake and handshake[0][2] == "SUCCEEDED"
    assert fanout and fanout[0][2] == "SUCCEEDED"

    history = local_runtime.local_cli("executions", message_id)
    assert history.returncode == 0, history.stderr
    assert "MapStateEntered" in history.stdout and '"name": "DeliverMessage"' in history.stdout
    assert "ExecutionSucceeded" in history.stdout


def test_wscat_client_reproduces_the_seed_walkthrough(local_runtime):
    """The seed's walk-through, typed into the real wscat from npm (as a person would)."""
    wscat = PROJECT_ROOT / "node_modules" / ".bin" / "wscat"
    if not wscat.exists():
        pytest.skip("wscat is not installed: run `npm ci` (make install does)")

    async def scenario():
        bob, bob_id = await connect(local_runtime)
        process = await asyncio.create_subprocess_exec(
            str(wscat),
            "-c",
            local_runtime.ws_url,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=runtime_environment(),
        )
        connection_frame = await asyncio.wait_for(_wscat_frame(process), RECEIVE_TIMEOUT)
        request = {"action": "sendMessage", "message": "Hello from wscat", "recipient_id": bob_id}
        process.stdin.write(json.dumps(request).encode() + b"\n")
        await process.stdin.drain()
        answers = [await asyncio.wait_for(_wscat_frame(process), RECEIVE_TIMEOUT) for _ in range(2)]
        received = await receive(bob)
        process.stdin.close()
        await asyncio.wait_for(process.wait(), RECEIVE_TIMEOUT)
        await bob.close()
        return bob_id, connection_frame, {frame["type"]: frame for frame in answers}, received

    bob_id, connection_frame, answers, received = run(scenario())
    wscat_id = connection_frame["connection_id"]
    own_copy = answers["message"]
    assert answers["accepted"]["message_id"] == own_copy["message_id"]
    for frame in (own_copy, received):
        assert (frame["message"], frame["sender_id"], frame["recipient_id"]) == ("Hello from wscat", wscat_id, bob_id)


async def _wscat_frame(process) -> dict:
    """The next frame wscat prints; without a terminal it prefixes lines with its prompt '> '."""
    line = await process.stdout.readline()
    return server_frame(line.decode().strip().removeprefix("> "))
