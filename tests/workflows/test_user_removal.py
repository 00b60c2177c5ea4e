"""user_removal on moto's engine and its DynamoDB: a deleted user leaves each of their rooms in one transaction
(membership deleted, the room's member_count one lower), each room's other members are told member_left, and their
registry items and directory entry go; a repeated execution changes nothing and announces nothing. Rooms and
memberships are seeded as joinRoom writes them (cdk/data_model.py)."""

from tests.conftest import SignedInUser
from tests.workflows.conftest import TABLES
from tests.workflows.test_presence import ALICE, ALICE_LAPTOP, BOB, BOB_DEVICES, CAROL, CAROL_LAPTOP, connect, join

DAVE = SignedInUser("sub-dave", "Dave")


def room(workflows, name: str, members: int) -> None:
    workflows.dynamodb.put_item(
        TableName=TABLES["RoomsTable"][0],
        Item={"room": {"S": name}, "policy": {"S": "open"}, "member_count": {"N": str(members)}},
    )


def member_counts(workflows) -> dict[str, int]:
    return {item["room"]["S"]: int(item["member_count"]["N"]) for item in workflows.items(TABLES["RoomsTable"][0])}


def memberships(workflows) -> set[tuple[str, str]]:
    return {(item["room"]["S"], item["username"]["S"]) for item in workflows.items(TABLES["MembershipsTable"][0])}


def member_left(workflows, connection_id: str) -> list[dict]:
    return [frame for frame in workflows.connections.frames(connection_id) if frame["type"] == "member_left"]


def removal_input(user: SignedInUser) -> dict:
    return {"username_key": user.name.lower(), "user": {"id": user.id, "name": user.name}}


def test_a_removed_user_leaves_each_room_its_members_are_told_and_their_items_go(workflows, handshake_input):
    room(workflows, "lobby", 3)
    room(workflows, "games", 2)
    room(workflows, "quiet", 1)
    join(workflows, "lobby", ALICE, BOB, CAROL)
    join(workflows, "games", ALICE, BOB)
    join(workflows, "quiet", CAROL)
    connect(workflows, handshake_input, ALICE, ALICE_LAPTOP)
    connect(workflows, handshake_input, BOB, BOB_DEVICES[0])
    connect(workflows, handshake_input, BOB, BOB_DEVICES[1])
    connect(workflows, handshake_input, CAROL, CAROL_LAPTOP)
    workflows.started_by_workflows("room_fanout")

    execution = workflows.run("user_removal", removal_input(BOB))

    assert execution.status == "SUCCEEDED"
    assert sorted(execution.output["rooms"], key=lambda r: r["room"]) == [
        {"room": "games", "status": "left"},
        {"room": "lobby", "status": "left"},
    ]
    assert execution.output["connections"] == 2
    assert member_counts(workflows) == {"lobby": 2, "games": 1, "quiet": 1}
    assert memberships(workflows) == {("lobby", "alice"), ("lobby", "carol"), ("games", "alice"), ("quiet", "carol")}
    workflows.started_by_workflows("room_fanout")
    bob = {"id": BOB.id, "name": BOB.name}
    assert sorted(member_left(workflows, ALICE_LAPTOP), key=lambda f: f["room"]) == [
        {"type": "member_left", "room": "games", "user": bob},
        {"type": "member_left", "room": "lobby", "user": bob},
    ]
    assert member_left(workflows, CAROL_LAPTOP) == [{"type": "member_left", "room": "lobby", "user": bob}]
    assert set(workflows.registry()) == {ALICE_LAPTOP, CAROL_LAPTOP}
    assert "bob" not in workflows.users()


def test_a_repeated_removal_changes_nothing_and_announces_nothing(workflows, handshake_input):
    room(workflows, "lobby", 2)
    join(workflows, "lobby", ALICE, BOB)
    connect(workflows, handshake_input, ALICE, ALICE_LAPTOP)

    first = workflows.run("user_removal", removal_input(BOB))
    second = workflows.run("user_removal", removal_input(BOB))

    assert first.status == second.status == "SUCCEEDED"
    assert first.output["rooms"] == [{"room": "lobby", "status": "left"}]
    assert second.output["rooms"] == []  # the membership is gone: the index no longer lists the room
    assert member_counts(workflows) == {"lobby": 1}
    workflows.started_by_workflows("room_fanout")
    assert len(member_left(workflows, ALICE_LAPTOP)) == 1


def test_removing_a_user_in_no_room_who_never_connected_succeeds(workflows):
    execution = workflows.run("user_removal", removal_input(DAVE))

    assert execution.status == "SUCCEEDED"
    assert execution.output == {"username": "dave", "rooms": [], "connections": 0}
