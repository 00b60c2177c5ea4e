"""Rooms end to end on the sign-in stage, served by the real local runtime: joinRoom creates a room and answers
with member_joined, an invite room refuses a stranger until a member invites them, listRooms and roomMembers answer
from the room workflows, leaveRoom answers member_left, and bad room frames are refused by the route."""

import asyncio
import json
import uuid

from tests.e2e.test_sign_in import new_user, receive, receive_type, signed_in, token_of
from tests.protocol import client_frame


async def ask(client, frame: dict, answer_type: str) -> dict:
    """Send ``frame``; the workflow's answer (the first ``answer_type`` or error frame) once the route response has
    come too: the workflow may post before the gateway delivers the route response."""
    await client.send(json.dumps(client_frame(frame)))
    requested, answer = False, None
    while not requested or answer is None:
        received = await receive(client)
        if received["type"] == f"{frame['action']}_requested":
            requested = True
        elif received["type"] in (answer_type, "error") and answer is None:
            answer = received
    return answer


def test_a_room_is_joined_listed_and_left_and_an_invite_room_admits_whom_a_member_invites(signed_in_runtime):
    alice, bob = new_user(signed_in_runtime, "alice"), new_user(signed_in_runtime, "bob")
    alice_token, bob_token = token_of(signed_in_runtime, alice), token_of(signed_in_runtime, bob)
    room = f"Team-{uuid.uuid4().hex[:8]}"
    key = room.lower()

    async def scenario():
        (alice_client, alice_connection), (bob_client, bob_connection) = await asyncio.gather(
            signed_in(signed_in_runtime, alice_token), signed_in(signed_in_runtime, bob_token)
        )
        seen = {}
        seen["created"] = await ask(
            alice_client, {"action": "joinRoom", "room": room, "policy": "invite"}, "member_joined"
        )
        seen["refused"] = await ask(bob_client, {"action": "joinRoom", "room": key}, "error")
        seen["invited"] = await ask(alice_client, {"action": "inviteToRoom", "room": key, "user": bob}, "member_joined")
        seen["bobs_rooms"] = await ask(bob_client, {"action": "listRooms"}, "rooms")
        seen["members"] = await ask(bob_client, {"action": "roomMembers", "room": key}, "room_members")
        seen["left"] = await ask(alice_client, {"action": "leaveRoom", "room": room}, "member_left")
        seen["not_member"] = await ask(alice_client, {"action": "roomMembers", "room": key}, "error")
        await alice_client.send(json.dumps({"action": "joinRoom", "room": "no spaces"}))
        seen["invalid"] = await receive_type(alice_client, "error")
        await asyncio.gather(alice_client.close(), bob_client.close())
        return alice_connection["user"], bob_connection["user"], seen

    alice_user, bob_user, seen = asyncio.run(scenario())
    assert seen["created"] == {"type": "member_joined", "room": key, "user": alice_user}
    assert (seen["refused"]["code"], seen["refused"]["room"]) == ("invite_only", key)
    assert seen["invited"] == {"type": "member_joined", "room": key, "user": bob_user, "invited_by": alice_user}
    assert seen["bobs_rooms"]["rooms"] == [{"room": key, "policy": "invite", "member_count": 2}]
    assert sorted(seen["members"]["members"], key=lambda member: member["user"]["name"]) == [
        {"user": alice_user, "online": True},
        {"user": bob_user, "online": True},
    ]
    assert seen["left"] == {"type": "member_left", "room": key, "user": alice_user}
    assert seen["not_member"]["code"] == "not_a_member"
    assert seen["invalid"]["code"] == "invalid_room"
