"""Messages to a room end to end on the sign-in stage, served by the real local runtime: every live connection of
every member gets the message (the sender's other tab too), a non-member is refused, and a member who was offline
reads it from the room's history. Members join with joinRoom; their live connections are presence's."""

import asyncio
import json
import time
import uuid

from tests.e2e.test_rooms import ask
from tests.e2e.test_sign_in import new_user, receive_type, signed_in, state_of, token_of
from tests.protocol import client_frame


def dynamodb_of(runtime):
    return runtime.aws_client("dynamodb", state_of(runtime).stepfunctions_url)


async def until_live(runtime, username: str, *connection_ids: str) -> None:
    """Until presence lists the connections in the user's live connections: connection_handshake adds each just
    after the client hears its id."""
    dynamodb = dynamodb_of(runtime)
    deadline = time.monotonic() + 30
    while True:
        item = dynamodb.get_item(TableName=state_of(runtime).tables["users"], Key={"username": {"S": username.lower()}})
        if set(connection_ids) <= set(item.get("Item", {}).get("live_connections", {}).get("SS", [])):
            return
        assert time.monotonic() < deadline, f"presence did not list {connection_ids} for {username}"
        await asyncio.sleep(0.05)


def test_every_members_connections_get_a_room_message_and_an_offline_member_reads_it_later(signed_in_runtime):
    runtime = signed_in_runtime
    alice, bob, carol, dave = (new_user(runtime, name) for name in ("alice", "bob", "carol", "dave"))
    tokens = {name: token_of(runtime, name) for name in (alice, bob, carol, dave)}
    room = f"Room-{uuid.uuid4().hex[:8]}"
    key = room.lower()

    async def scenario():
        (tab1, first), (tab2, second), (bobs, bob_connection), (carols, _), (daves, _) = await asyncio.gather(
            *(signed_in(runtime, tokens[name]) for name in (alice, alice, bob, carol, dave))
        )
        for client in (tab1, bobs, carols):
            await ask(client, {"action": "joinRoom", "room": room}, "member_joined")
        await carols.close()  # carol is a member, offline
        await until_live(runtime, alice, first["connection_id"], second["connection_id"])
        await until_live(runtime, bob, bob_connection["connection_id"])
        await tab1.send(json.dumps(client_frame({"action": "sendMessage", "message": "hi room", "room": room})))
        accepted = await receive_type(tab1, "accepted")
        delivered = await asyncio.gather(*(receive_type(client, "message") for client in (tab1, tab2, bobs)))
        await daves.send(json.dumps(client_frame({"action": "sendMessage", "message": "me too", "room": key})))
        refused = await receive_type(daves, "error")
        await asyncio.gather(*(client.close() for client in (tab1, tab2, bobs, daves)))
        reader, _ = await signed_in(runtime, tokens[carol])
        await reader.send(json.dumps(client_frame({"action": "history", "room": key})))
        page = await receive_type(reader, "history")
        end = await receive_type(reader, "history_end")
        await reader.close()
        return accepted, delivered, refused, page, end

    accepted, delivered, refused, page, end = asyncio.run(scenario())
    assert accepted["room"] == key
    for frame in delivered:  # both of alice's tabs, and bob
        assert (frame["message"], frame["room"], frame["message_id"]) == ("hi room", key, accepted["message_id"])
        assert frame["sender"]["name"] == alice
    assert (refused["code"], refused["room"]) == ("not_a_member", key)
    assert page["room"] == key and [m["message_id"] for m in page["messages"]] == [accepted["message_id"]]
    assert (end["room"], end["count"], end["before"]) == (key, 1, None)
