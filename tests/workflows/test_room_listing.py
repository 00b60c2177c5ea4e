"""room_listing on moto's engine and its DynamoDB: listRooms answers the caller's rooms (policy, member count),
roomMembers a room's members with who is online (users.live_connections), to members only; long lists in parts
of 100; reading changes nothing."""

from tests.conftest import SignedInUser
from tests.workflows.conftest import TABLES
from tests.workflows.test_fanout_to_users import sign_in
from tests.workflows.test_room_change import (
    ALICE,
    ALICE_LAPTOP,
    BOB,
    BOB_LAPTOP,
    CAROL,
    CAROL_LAPTOP,
    change,
    online,
    room_frames,
)

MEMBERSHIPS_TABLE, ROOMS_TABLE = TABLES["MembershipsTable"][0], TABLES["RoomsTable"][0]


def listing(workflows, room_input, connection_id: str, caller: SignedInUser, **body) -> list[dict]:
    workflows.connections.reset()
    workflows.connections.connect(connection_id)
    execution = workflows.run("room_listing", room_input(connection_id, body, caller))
    assert execution.status == "SUCCEEDED"
    return room_frames(workflows, connection_id)


def test_list_rooms_answers_the_callers_rooms_only(workflows, room_input):
    online(workflows, ALICE, ALICE_LAPTOP)
    online(workflows, BOB, BOB_LAPTOP)
    change(workflows, room_input, ALICE_LAPTOP, ALICE, action="joinRoom", room="General")
    change(workflows, room_input, BOB_LAPTOP, BOB, action="joinRoom", room="general")
    change(workflows, room_input, ALICE_LAPTOP, ALICE, action="joinRoom", room="core", policy="invite")
    change(workflows, room_input, BOB_LAPTOP, BOB, action="joinRoom", room="bobs")

    (frame,) = listing(workflows, room_input, ALICE_LAPTOP, ALICE, action="listRooms")

    assert frame["type"] == "rooms" and (frame["part"], frame["parts"]) == (1, 1)
    assert sorted(frame["rooms"], key=lambda room: room["room"]) == [
        {"room": "core", "policy": "invite", "member_count": 1},
        {"room": "general", "policy": "open", "member_count": 2},
    ]


def test_no_rooms_is_an_empty_list(workflows, room_input):
    online(workflows, ALICE, ALICE_LAPTOP)

    assert listing(workflows, room_input, ALICE_LAPTOP, ALICE, action="listRooms") == [
        {"type": "rooms", "rooms": [], "part": 1, "parts": 1}
    ]


def test_room_members_says_who_is_online(workflows, room_input):
    online(workflows, ALICE, ALICE_LAPTOP)
    online(workflows, BOB, BOB_LAPTOP)
    online(workflows, CAROL, CAROL_LAPTOP)
    for connection_id, person in ((ALICE_LAPTOP, ALICE), (BOB_LAPTOP, BOB), (CAROL_LAPTOP, CAROL)):
        change(workflows, room_input, connection_id, person, action="joinRoom", room="general")
    online(workflows, CAROL)  # Carol's last connection closed: presence removed it

    (frame,) = listing(workflows, room_input, BOB_LAPTOP, BOB, action="roomMembers", room="GENERAL")

    assert (frame["type"], frame["room"], frame["part"], frame["parts"]) == ("room_members", "general", 1, 1)
    assert sorted(frame["members"], key=lambda member: member["user"]["name"]) == [
        {"user": {"id": ALICE.id, "name": ALICE.name}, "online": True},
        {"user": {"id": BOB.id, "name": BOB.name}, "online": True},
        {"user": {"id": CAROL.id, "name": CAROL.name}, "online": False},
    ]


def test_only_members_see_a_rooms_members_and_an_unknown_room_is_answered_the_same(workflows, room_input):
    online(workflows, ALICE, ALICE_LAPTOP)
    online(workflows, BOB, BOB_LAPTOP)
    change(workflows, room_input, BOB_LAPTOP, BOB, action="joinRoom", room="general")

    for key in ("general", "nowhere"):
        (frame,) = listing(workflows, room_input, ALICE_LAPTOP, ALICE, action="roomMembers", room=key)
        assert (frame["type"], frame["code"]) == ("error", "not_a_member")


def test_more_than_100_rooms_come_in_parts_of_100(workflows, room_input):
    online(workflows, ALICE, ALICE_LAPTOP)
    for number in range(150):  # seeded as the join transaction writes them (the stage's limit is below 150 here)
        key = f"room{number:03d}"
        workflows.dynamodb.put_item(
            TableName=ROOMS_TABLE,
            Item={"room": {"S": key}, "policy": {"S": "open"}, "member_count": {"N": "1"}},
        )
        workflows.dynamodb.put_item(
            TableName=MEMBERSHIPS_TABLE,
            Item={"room": {"S": key}, "username": {"S": "alice"}, "user_id": {"S": ALICE.id}},
        )

    frames = listing(workflows, room_input, ALICE_LAPTOP, ALICE, action="listRooms")

    assert [(frame["part"], frame["parts"], len(frame["rooms"])) for frame in frames] == [(1, 2, 100), (2, 2, 50)]
    assert sorted(room["room"] for frame in frames for room in frame["rooms"]) == [
        f"room{number:03d}" for number in range(150)
    ]


def test_room_members_of_users_signed_in_by_the_handshake(workflows, room_input, handshake_input):
    sign_in(workflows, handshake_input, ALICE, ALICE_LAPTOP)
    sign_in(workflows, handshake_input, BOB, BOB_LAPTOP)
    change(workflows, room_input, ALICE_LAPTOP, ALICE, action="joinRoom", room="general", policy="invite")
    change(workflows, room_input, ALICE_LAPTOP, ALICE, action="inviteToRoom", room="general", user="bob")

    (frame,) = listing(workflows, room_input, BOB_LAPTOP, BOB, action="roomMembers", room="general")

    assert sorted(frame["members"], key=lambda member: member["user"]["name"]) == [
        {"user": {"id": ALICE.id, "name": ALICE.name}, "online": True},
        {"user": {"id": BOB.id, "name": BOB.name}, "online": True},
    ]
