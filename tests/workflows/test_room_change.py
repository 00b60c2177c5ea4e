"""room_change on moto's engine and its DynamoDB: joinRoom, leaveRoom and inviteToRoom change a membership and both
counts in one transaction, within the stage's limits (here MAX_MEMBERS and MAX_ROOMS_PER_USER), answer the caller,
then tell every live connection of every member (users.live_connections, which the tests seed as presence keeps
it). A second execution of the same request changes and announces nothing."""

import threading

import pytest

from tests.conftest import SignedInUser
from tests.workflows.conftest import MAX_MEMBERS, MAX_ROOMS_PER_USER, TABLES

ALICE = SignedInUser("sub-alice", "Alice")
BOB = SignedInUser("sub-bob", "Bob")
CAROL = SignedInUser("sub-carol", "Carol")
DAVE = SignedInUser("sub-dave", "Dave")
ALICE_LAPTOP, ALICE_PHONE = "CfF0ed8QoAMCKxQ=", "CfF0eVgioAMCJ2w="
BOB_LAPTOP, CAROL_LAPTOP, DAVE_LAPTOP = "CfF2b3hQoAMCJ-g=", "CfF2fKd7oAMCJdA=", "CfF3Aa1ZoAMCIvQ="
USERS_TABLE, ROOMS_TABLE, MEMBERSHIPS_TABLE = (
    TABLES[name][0] for name in ("UsersTable", "RoomsTable", "MembershipsTable")
)


def online(workflows, user: SignedInUser, *connection_ids: str) -> None:
    """``user`` in the directory (as the handshake writes them) with ``connection_ids`` live (as presence keeps
    them) and open at the gateway; no connection ids: known, offline."""
    item = {"username": {"S": user.name.lower()}, "user_id": {"S": user.id}, "name": {"S": user.name}}
    if connection_ids:
        item["live_connections"] = {"SS": list(connection_ids)}
    workflows.dynamodb.put_item(TableName=USERS_TABLE, Item=item)
    workflows.connections.connect(*connection_ids)


def change(workflows, room_input, connection_id: str, caller: SignedInUser, **body):
    return workflows.run("room_change", room_input(connection_id, body, caller))


def members(workflows, room: str) -> set[str]:
    items = workflows.dynamodb.query(
        TableName=MEMBERSHIPS_TABLE,
        KeyConditionExpression="room = :room",
        ExpressionAttributeValues={":room": {"S": room}},
    )["Items"]
    return {item["username"]["S"] for item in items}


def room(workflows, key: str) -> dict:
    item = workflows.dynamodb.get_item(TableName=ROOMS_TABLE, Key={"room": {"S": key}}).get("Item", {})
    return {name: next(iter(value.values())) for name, value in item.items()}


def room_count(workflows, user: SignedInUser) -> str | None:
    return workflows.users()[user.name.lower()].get("room_count")


def room_frames(workflows, connection_id: str) -> list[dict]:
    return [frame for frame in workflows.connections.frames(connection_id) if frame["type"] != "connection"]


def user(person: SignedInUser) -> dict:
    return {"id": person.id, "name": person.name}


def joined(person: SignedInUser, key: str, **extra) -> dict:
    return {"type": "member_joined", "room": key, "user": user(person), **extra}


def codes(workflows, connection_id: str) -> list[tuple[str, str]]:
    return [
        (frame["code"], frame["room"]) for frame in room_frames(workflows, connection_id) if frame["type"] == "error"
    ]


# --- joinRoom ---------------------------------------------------------------------------------------------


def test_the_first_join_creates_the_room_and_every_members_connections_hear_of_each_join(workflows, room_input):
    online(workflows, ALICE, ALICE_LAPTOP, ALICE_PHONE)
    online(workflows, BOB, BOB_LAPTOP)

    first = change(workflows, room_input, ALICE_LAPTOP, ALICE, action="joinRoom", room="General", policy="open")
    second = change(workflows, room_input, BOB_LAPTOP, BOB, action="joinRoom", room="general")

    assert (first.status, second.status) == ("SUCCEEDED", "SUCCEEDED")
    assert members(workflows, "general") == {"alice", "bob"}
    assert room(workflows, "general") == {
        "room": "general",
        "policy": "open",
        "created_by": "alice",
        "created_at": first.input["requested_at"],
        "member_count": "2",
    }
    assert (room_count(workflows, ALICE), room_count(workflows, BOB)) == ("1", "1")
    # Each connection once per change: the caller's own answer, then the others' (Alice's phone too).
    assert room_frames(workflows, ALICE_LAPTOP) == [joined(ALICE, "general"), joined(BOB, "general")]
    assert room_frames(workflows, ALICE_PHONE) == [joined(ALICE, "general"), joined(BOB, "general")]
    assert room_frames(workflows, BOB_LAPTOP) == [joined(BOB, "general")]


def test_a_second_execution_of_a_join_changes_and_announces_nothing(workflows, room_input):
    online(workflows, ALICE, ALICE_LAPTOP, ALICE_PHONE)
    online(workflows, BOB, BOB_LAPTOP)
    change(workflows, room_input, BOB_LAPTOP, BOB, action="joinRoom", room="general")
    execution_input = room_input(ALICE_LAPTOP, {"action": "joinRoom", "room": "general"}, ALICE)
    workflows.run("room_change", execution_input)
    workflows.connections.reset()
    workflows.connections.connect(ALICE_LAPTOP, ALICE_PHONE, BOB_LAPTOP)

    again = workflows.run("room_change", execution_input)

    assert again.status == "SUCCEEDED"
    assert members(workflows, "general") == {"alice", "bob"}
    assert room(workflows, "general")["member_count"] == "2"
    assert room_count(workflows, ALICE) == "1"
    assert room_frames(workflows, ALICE_LAPTOP) == [joined(ALICE, "general", already_member=True)]
    assert room_frames(workflows, ALICE_PHONE) == room_frames(workflows, BOB_LAPTOP) == []


def test_a_policy_is_the_first_joiners_and_an_invite_room_refuses_joins(workflows, room_input):
    online(workflows, ALICE, ALICE_LAPTOP)
    online(workflows, BOB, BOB_LAPTOP)
    change(workflows, room_input, ALICE_LAPTOP, ALICE, action="joinRoom", room="core", policy="invite")

    refusal = change(workflows, room_input, BOB_LAPTOP, BOB, action="joinRoom", room="CORE", policy="open")

    assert refusal.status == "SUCCEEDED"
    assert codes(workflows, BOB_LAPTOP) == [("invite_only", "core")]
    assert members(workflows, "core") == {"alice"}
    assert room(workflows, "core")["policy"] == "invite" and room(workflows, "core")["member_count"] == "1"
    assert room_count(workflows, BOB) is None
    assert room_frames(workflows, ALICE_LAPTOP) == [joined(ALICE, "core")]


def test_a_full_room_refuses_a_join_and_changes_nothing(workflows, room_input):
    people = [SignedInUser(f"sub-{number}", f"user{number}") for number in range(MAX_MEMBERS)]
    for number, person in enumerate(people):
        online(workflows, person, f"conn{number}=")
        change(workflows, room_input, f"conn{number}=", person, action="joinRoom", room="small")
    online(workflows, DAVE, DAVE_LAPTOP)

    change(workflows, room_input, DAVE_LAPTOP, DAVE, action="joinRoom", room="small")

    assert codes(workflows, DAVE_LAPTOP) == [("room_full", "small")]
    assert room(workflows, "small")["member_count"] == str(MAX_MEMBERS)
    assert "dave" not in members(workflows, "small") and room_count(workflows, DAVE) is None
    assert all(frame["user"]["name"] != "Dave" for frame in room_frames(workflows, "conn0="))


def test_of_two_joins_for_the_last_place_one_is_refused_with_room_full(workflows, room_input):
    people = [SignedInUser(f"sub-{number}", f"user{number}") for number in range(MAX_MEMBERS - 1)]
    for number, person in enumerate(people):
        online(workflows, person, f"conn{number}=")
        change(workflows, room_input, f"conn{number}=", person, action="joinRoom", room="last")
    online(workflows, CAROL, CAROL_LAPTOP)
    online(workflows, DAVE, DAVE_LAPTOP)
    inputs = [
        room_input(CAROL_LAPTOP, {"action": "joinRoom", "room": "last"}, CAROL),
        room_input(DAVE_LAPTOP, {"action": "joinRoom", "room": "last"}, DAVE),
    ]
    start = threading.Barrier(2)
    results = [None, None]

    def join(index: int) -> None:
        start.wait()
        results[index] = workflows.run("room_change", inputs[index])

    threads = [threading.Thread(target=join, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [result.status for result in results] == ["SUCCEEDED", "SUCCEEDED"]
    assert room(workflows, "last")["member_count"] == str(MAX_MEMBERS)
    assert len(members(workflows, "last")) == MAX_MEMBERS
    refusals = codes(workflows, CAROL_LAPTOP) + codes(workflows, DAVE_LAPTOP)
    assert refusals == [("room_full", "last")]
    assert sorted(str(room_count(workflows, person)) for person in (CAROL, DAVE)) == ["1", "None"]


def test_a_user_in_as_many_rooms_as_allowed_is_refused_another(workflows, room_input):
    online(workflows, ALICE, ALICE_LAPTOP)
    for number in range(MAX_ROOMS_PER_USER):
        change(workflows, room_input, ALICE_LAPTOP, ALICE, action="joinRoom", room=f"room{number}")

    change(workflows, room_input, ALICE_LAPTOP, ALICE, action="joinRoom", room="onemore")

    assert codes(workflows, ALICE_LAPTOP) == [("too_many_rooms", "onemore")]
    assert room_count(workflows, ALICE) == str(MAX_ROOMS_PER_USER)
    assert room(workflows, "onemore") == {} and members(workflows, "onemore") == set()


# --- leaveRoom --------------------------------------------------------------------------------------------


def test_leaving_tells_the_members_and_the_leaver_and_the_room_stays(workflows, room_input):
    online(workflows, ALICE, ALICE_LAPTOP, ALICE_PHONE)
    online(workflows, BOB, BOB_LAPTOP)
    change(workflows, room_input, ALICE_LAPTOP, ALICE, action="joinRoom", room="general", policy="invite")
    workflows.dynamodb.put_item(
        TableName=MEMBERSHIPS_TABLE,
        Item={"room": {"S": "general"}, "username": {"S": "bob"}, "user_id": {"S": BOB.id}},
    )
    workflows.connections.reset()
    workflows.connections.connect(ALICE_LAPTOP, ALICE_PHONE, BOB_LAPTOP)

    execution_input = room_input(ALICE_LAPTOP, {"action": "leaveRoom", "room": "General"}, ALICE)
    left = workflows.run("room_change", execution_input)

    assert left.status == "SUCCEEDED"
    frame = {"type": "member_left", "room": "general", "user": user(ALICE)}
    assert room_frames(workflows, ALICE_LAPTOP) == room_frames(workflows, ALICE_PHONE) == [frame]
    assert room_frames(workflows, BOB_LAPTOP) == [frame]
    assert members(workflows, "general") == {"bob"}
    assert room_count(workflows, ALICE) == "0"
    assert room(workflows, "general")["policy"] == "invite"

    # At least once: a second execution changes nothing, tells nobody else, and the counts stay.
    workflows.connections.reset()
    workflows.connections.connect(ALICE_LAPTOP, BOB_LAPTOP)
    workflows.run("room_change", execution_input)

    assert codes(workflows, ALICE_LAPTOP) == [("not_a_member", "general")]
    assert room_frames(workflows, BOB_LAPTOP) == []
    assert room_count(workflows, ALICE) == "0" and members(workflows, "general") == {"bob"}


def test_leaving_a_room_one_is_not_in_is_not_a_member(workflows, room_input):
    online(workflows, ALICE, ALICE_LAPTOP)
    online(workflows, BOB, BOB_LAPTOP)
    change(workflows, room_input, BOB_LAPTOP, BOB, action="joinRoom", room="general")

    for key in ("general", "nowhere"):
        change(workflows, room_input, ALICE_LAPTOP, ALICE, action="leaveRoom", room=key)

    assert codes(workflows, ALICE_LAPTOP) == [("not_a_member", "general"), ("not_a_member", "nowhere")]
    assert room(workflows, "general")["member_count"] == "1" and room(workflows, "nowhere") == {}
    assert room_count(workflows, ALICE) is None


# --- inviteToRoom ------------------------------------------------------------------------------------------


def test_a_member_adds_a_user_to_an_invite_room(workflows, room_input):
    online(workflows, ALICE, ALICE_LAPTOP)
    online(workflows, BOB, BOB_LAPTOP)
    change(workflows, room_input, ALICE_LAPTOP, ALICE, action="joinRoom", room="core", policy="invite")
    workflows.connections.reset()
    workflows.connections.connect(ALICE_LAPTOP, BOB_LAPTOP)

    execution_input = room_input(ALICE_LAPTOP, {"action": "inviteToRoom", "room": "core", "user": "BOB"}, ALICE)
    invited = workflows.run("room_change", execution_input)

    assert invited.status == "SUCCEEDED"
    frame = joined(BOB, "core", invited_by=user(ALICE))
    assert room_frames(workflows, ALICE_LAPTOP) == room_frames(workflows, BOB_LAPTOP) == [frame]
    assert members(workflows, "core") == {"alice", "bob"}
    assert room(workflows, "core")["member_count"] == "2" and room_count(workflows, BOB) == "1"
    (membership,) = [item for item in workflows.items(MEMBERSHIPS_TABLE) if item["username"]["S"] == "bob"]
    assert membership["invited_by"]["S"] == "alice" and membership["user_id"]["S"] == BOB.id

    # At least once: the second execution adds nothing, tells only the inviter.
    workflows.connections.reset()
    workflows.connections.connect(ALICE_LAPTOP, BOB_LAPTOP)
    workflows.run("room_change", execution_input)

    assert codes(workflows, ALICE_LAPTOP) == [("already_a_member", "core")]
    assert room_frames(workflows, BOB_LAPTOP) == []
    assert room(workflows, "core")["member_count"] == "2" and room_count(workflows, BOB) == "1"


@pytest.mark.parametrize(
    ("inviter_joins", "invitee", "code"),
    [(False, "bob", "not_a_member"), (True, "nobody", "unknown_user"), (True, "Carol", "already_a_member")],
    ids=["inviter-not-a-member", "unknown-user", "already-a-member"],
)
def test_an_invite_that_cannot_be_is_refused_and_changes_nothing(workflows, room_input, inviter_joins, invitee, code):
    online(workflows, ALICE, ALICE_LAPTOP)
    online(workflows, BOB, BOB_LAPTOP)
    online(workflows, CAROL, CAROL_LAPTOP)
    change(workflows, room_input, CAROL_LAPTOP, CAROL, action="joinRoom", room="core")
    if inviter_joins:
        change(workflows, room_input, ALICE_LAPTOP, ALICE, action="joinRoom", room="core")
    before = (members(workflows, "core"), room(workflows, "core"), workflows.users())
    workflows.connections.reset()
    workflows.connections.connect(ALICE_LAPTOP, BOB_LAPTOP, CAROL_LAPTOP)

    change(workflows, room_input, ALICE_LAPTOP, ALICE, action="inviteToRoom", room="core", user=invitee)

    assert codes(workflows, ALICE_LAPTOP) == [(code, "core")]
    assert room_frames(workflows, BOB_LAPTOP) == room_frames(workflows, CAROL_LAPTOP) == []
    assert (members(workflows, "core"), room(workflows, "core"), workflows.users()) == before


def test_an_invite_to_a_full_room_is_refused(workflows, room_input):
    online(workflows, ALICE, ALICE_LAPTOP)
    online(workflows, BOB, BOB_LAPTOP)
    change(workflows, room_input, ALICE_LAPTOP, ALICE, action="joinRoom", room="core", policy="invite")
    for person in [SignedInUser(f"sub-{number}", f"user{number}") for number in range(MAX_MEMBERS - 1)]:
        online(workflows, person)
        change(workflows, room_input, ALICE_LAPTOP, ALICE, action="inviteToRoom", room="core", user=person.name)

    change(workflows, room_input, ALICE_LAPTOP, ALICE, action="inviteToRoom", room="core", user="bob")

    assert codes(workflows, ALICE_LAPTOP) == [("room_full", "core")]
    assert room(workflows, "core")["member_count"] == str(MAX_MEMBERS) and "bob" not in members(workflows, "core")
    assert room_count(workflows, BOB) is None


def test_an_invite_of_a_user_in_as_many_rooms_as_allowed_is_refused(workflows, room_input):
    online(workflows, ALICE, ALICE_LAPTOP)
    online(workflows, BOB, BOB_LAPTOP)
    for number in range(MAX_ROOMS_PER_USER):
        change(workflows, room_input, BOB_LAPTOP, BOB, action="joinRoom", room=f"bobs{number}")
    change(workflows, room_input, ALICE_LAPTOP, ALICE, action="joinRoom", room="core", policy="invite")

    change(workflows, room_input, ALICE_LAPTOP, ALICE, action="inviteToRoom", room="core", user="bob")

    assert codes(workflows, ALICE_LAPTOP) == [("too_many_rooms", "core")]
    assert room(workflows, "core")["member_count"] == "1" and room_count(workflows, BOB) == str(MAX_ROOMS_PER_USER)
