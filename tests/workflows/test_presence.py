"""Presence on moto's engine and its DynamoDB: connection_handshake adds a connection to its user's live_connections
and connection_cleanup (started by $disconnect, or by message_fanout for a connection that answers 410) removes it,
each with one conditional update whose atomic result decides the change; room_fanout tells every live
connection of every user who shares a room with them, once per change. Memberships are seeded here as joinRoom
writes them (cdk/data_model.py)."""

import time
from concurrent.futures import ThreadPoolExecutor

from chat.connections import STILL_OPENING_SECONDS

from tests.conftest import SignedInUser
from tests.workflows.conftest import TABLES

ALICE = SignedInUser("sub-alice", "Alice")
BOB = SignedInUser("sub-bob", "Bob")
CAROL = SignedInUser("sub-carol", "Carol")
ALICE_LAPTOP = "CfF0ed8QoAMCKxQ="
CAROL_LAPTOP = "CfF3carol0AMC0Q="
BOB_DEVICES = [f"CfF2bob{n}0AMCJ-g=" for n in range(4)]


def join(workflows, room: str, *users: SignedInUser) -> None:
    """Memberships as joinRoom writes them."""
    for user in users:
        workflows.dynamodb.put_item(
            TableName=TABLES["MembershipsTable"][0],
            Item={"room": {"S": room}, "username": {"S": user.name.lower()}, "user_id": {"S": user.id}},
        )


def connect(workflows, handshake_input, user: SignedInUser, connection_id: str):
    workflows.connections.connect(connection_id)
    execution = workflows.run("connection_handshake", handshake_input(connection_id, user))
    assert execution.status == "SUCCEEDED", execution.history[-1]
    return execution


def disconnect(workflows, connection_id: str):
    workflows.connections.disconnect(connection_id)
    execution = workflows.run("connection_cleanup", {"connection_id": connection_id, "registered_before": None})
    assert execution.status == "SUCCEEDED", execution.history[-1]
    return execution


def presence(workflows, connection_id: str) -> list[dict]:
    """The presence frames ``connection_id`` was sent, in the order of their versions, without them."""
    frames = [frame for frame in workflows.connections.frames(connection_id) if frame["type"] == "presence"]
    return [
        {name: value for name, value in frame.items() if name != "version"}
        for frame in sorted(frames, key=lambda frame: frame["version"])
    ]


def live_connections(workflows, username: str) -> set[str]:
    item = workflows.dynamodb.get_item(TableName=TABLES["UsersTable"][0], Key={"username": {"S": username}})["Item"]
    return set(item.get("live_connections", {}).get("SS", []))


def changes(workflows) -> list[bool]:
    """The online flag of each room_fanout execution since the test began, all of them ended."""
    executions = workflows.started_by_workflows("room_fanout")
    assert {execution.status for execution in executions} <= {"SUCCEEDED"}
    return sorted(execution.input["frame"]["online"] for execution in executions)


def online(user: SignedInUser, flag: bool) -> dict:
    return {"type": "presence", "user": {"id": user.id, "name": user.name}, "online": flag}


def test_a_users_first_connection_tells_room_mates_once_and_their_last_closing_tells_them_once(
    workflows, handshake_input
):
    join(workflows, "lobby", ALICE, BOB)
    connect(workflows, handshake_input, ALICE, ALICE_LAPTOP)
    # Alice's announcement runs in an execution of its own: ended before Bob connects, it finds him offline (one
    # that ran later would rightly tell his new connection that she is online).
    assert changes(workflows) == [True]

    connect(workflows, handshake_input, BOB, BOB_DEVICES[0])
    connect(workflows, handshake_input, BOB, BOB_DEVICES[1])  # a second device: no change
    assert changes(workflows) == [True, True]  # Alice's, then Bob's
    assert presence(workflows, ALICE_LAPTOP) == [online(BOB, True)]
    assert live_connections(workflows, "bob") == set(BOB_DEVICES[:2])

    disconnect(workflows, BOB_DEVICES[0])
    assert presence(workflows, ALICE_LAPTOP) == [online(BOB, True)]
    disconnect(workflows, BOB_DEVICES[1])
    changes(workflows)
    assert presence(workflows, ALICE_LAPTOP) == [online(BOB, True), online(BOB, False)]
    assert live_connections(workflows, "bob") == set()
    assert set(workflows.registry()) == {ALICE_LAPTOP}
    # Bob is never told about himself; Alice's own connect told nobody (Bob was offline).
    assert presence(workflows, BOB_DEVICES[0]) == presence(workflows, BOB_DEVICES[1]) == []


def test_a_room_mate_in_several_shared_rooms_is_told_once_and_strangers_not_at_all(workflows, handshake_input):
    join(workflows, "lobby", ALICE, BOB)
    join(workflows, "games", ALICE, BOB)
    join(workflows, "elsewhere", CAROL)
    connect(workflows, handshake_input, ALICE, ALICE_LAPTOP)
    connect(workflows, handshake_input, CAROL, CAROL_LAPTOP)

    connect(workflows, handshake_input, BOB, BOB_DEVICES[0])
    changes(workflows)

    assert presence(workflows, ALICE_LAPTOP) == [online(BOB, True)]
    assert presence(workflows, CAROL_LAPTOP) == []


def test_a_user_in_no_room_tells_no_one(workflows, handshake_input):
    connect(workflows, handshake_input, ALICE, ALICE_LAPTOP)

    (execution,) = workflows.started_by_workflows("room_fanout")

    assert execution.output == {
        "frame": {"type": "presence", "user": {"id": ALICE.id, "name": ALICE.name}, "online": True, "version": 1},
        "deliveries": [],
    }


def test_a_repeated_execution_changes_nothing_and_announces_nothing(workflows, handshake_input):
    join(workflows, "lobby", ALICE, BOB)
    connect(workflows, handshake_input, ALICE, ALICE_LAPTOP)
    workflows.connections.connect(BOB_DEVICES[0])
    connected = handshake_input(BOB_DEVICES[0], BOB)

    workflows.run("connection_handshake", connected)
    workflows.run("connection_handshake", connected)
    cleanup = {"connection_id": BOB_DEVICES[0], "registered_before": None}
    assert changes(workflows) == [True, True]  # Alice's and Bob's first
    workflows.run("connection_cleanup", cleanup)
    workflows.run("connection_cleanup", cleanup)

    assert changes(workflows) == [False, True, True]
    assert presence(workflows, ALICE_LAPTOP) == [online(BOB, True), online(BOB, False)]
    assert live_connections(workflows, "bob") == set()


def test_concurrent_connects_and_disconnects_of_one_user_announce_once_per_change(workflows, handshake_input):
    join(workflows, "lobby", ALICE, BOB)
    connect(workflows, handshake_input, ALICE, ALICE_LAPTOP)
    inputs = {device: handshake_input(device, BOB) for device in BOB_DEVICES}
    workflows.connections.connect(*BOB_DEVICES)

    with ThreadPoolExecutor(len(BOB_DEVICES)) as pool:
        connected = list(pool.map(lambda device: workflows.run("connection_handshake", inputs[device]), BOB_DEVICES))
    assert {execution.status for execution in connected} == {"SUCCEEDED"}
    assert live_connections(workflows, "bob") == set(BOB_DEVICES)
    assert changes(workflows) == [True, True]  # Alice's, and Bob's once

    workflows.connections.disconnect(*BOB_DEVICES)
    with ThreadPoolExecutor(len(BOB_DEVICES)) as pool:
        left = list(
            pool.map(
                lambda device: workflows.run(
                    "connection_cleanup", {"connection_id": device, "registered_before": None}
                ),
                BOB_DEVICES,
            )
        )
    assert {execution.status for execution in left} == {"SUCCEEDED"}
    assert live_connections(workflows, "bob") == set()
    assert changes(workflows) == [False, True, True]
    assert presence(workflows, ALICE_LAPTOP) == [online(BOB, True), online(BOB, False)]


def test_interleaved_connects_and_disconnects_leave_the_set_right_and_announcements_paired(workflows, handshake_input):
    """Two devices stay, two come and go, all at once: whatever the order, the set ends with the two that stay,
    and the announcements, in the order of their versions (they may arrive in another), alternate (each is one change)
    and end online."""
    join(workflows, "lobby", ALICE, BOB)
    connect(workflows, handshake_input, ALICE, ALICE_LAPTOP)
    staying, leaving = BOB_DEVICES[:2], BOB_DEVICES[2:]
    for device in leaving:
        connect(workflows, handshake_input, BOB, device)
    inputs = {device: handshake_input(device, BOB) for device in staying}
    workflows.connections.connect(*staying)
    workflows.connections.disconnect(*leaving)

    def run(device: str):
        if device in staying:
            return workflows.run("connection_handshake", inputs[device])
        return workflows.run("connection_cleanup", {"connection_id": device, "registered_before": None})

    with ThreadPoolExecutor(len(BOB_DEVICES)) as pool:
        assert {execution.status for execution in pool.map(run, BOB_DEVICES)} == {"SUCCEEDED"}
    workflows.started_by_workflows("room_fanout")

    assert live_connections(workflows, "bob") == set(staying)
    told = [frame["online"] for frame in presence(workflows, ALICE_LAPTOP)]  # in the order of their versions
    assert told == [True, False] * (len(told) // 2) + [True]


def test_a_connection_found_gone_by_the_fanout_leaves_and_its_user_goes_offline(
    signed_in, handshake_input, fanout_input
):
    """Bob's $disconnect never came: his connection answers 410 to Alice's message."""
    workflows = signed_in
    join(workflows, "lobby", ALICE, BOB)
    connect(workflows, handshake_input, ALICE, ALICE_LAPTOP)
    connect(workflows, handshake_input, BOB, BOB_DEVICES[0])
    workflows.connections.disconnect(BOB_DEVICES[0])

    execution = workflows.run(
        "message_fanout", fanout_input(ALICE_LAPTOP, {"message": "hi", "recipient_users": ["bob"]}, ALICE)
    )

    assert execution.status == "SUCCEEDED"
    (cleanup,) = workflows.started_by_workflows("connection_cleanup")
    assert cleanup.output == {"connection_id": BOB_DEVICES[0], "status": "removed"}
    assert live_connections(workflows, "bob") == set()
    assert BOB_DEVICES[0] not in workflows.registry()
    assert presence(workflows, ALICE_LAPTOP) == [online(BOB, True), online(BOB, False)]


def test_a_connection_registered_a_moment_ago_that_answers_410_stays_live(signed_in, handshake_input, fanout_input):
    workflows = signed_in
    connect(workflows, handshake_input, ALICE, ALICE_LAPTOP)
    workflows.connections.connect(BOB_DEVICES[0])
    now = int(time.time())
    opening = handshake_input(BOB_DEVICES[0], BOB) | {"connected_at": now, "expires_at": now + 3 * 3600}
    workflows.run("connection_handshake", opening)
    workflows.connections.refuse(BOB_DEVICES[0], 410)

    workflows.run("message_fanout", fanout_input(ALICE_LAPTOP, {"message": "hi", "recipient_users": ["bob"]}, ALICE))

    (cleanup,) = workflows.started_by_workflows("connection_cleanup")
    assert cleanup.output == {"connection_id": BOB_DEVICES[0], "status": "kept"}, STILL_OPENING_SECONDS
    assert live_connections(workflows, "bob") == {BOB_DEVICES[0]}


def test_a_connection_closed_before_its_handshake_added_it_never_becomes_live(workflows, handshake_input):
    """The client got its id and left at once: connection_cleanup ran between the handshake's registration and its
    update of the user's set."""
    join(workflows, "lobby", ALICE, BOB)
    connect(workflows, handshake_input, ALICE, ALICE_LAPTOP)
    connected = handshake_input(BOB_DEVICES[0], BOB)
    workflows.dynamodb.put_item(  # what the handshake's first step wrote
        TableName=TABLES["ConnectionsTable"][0],
        Item={
            "connection_id": {"S": BOB_DEVICES[0]},
            "username": {"S": "bob"},
            "user_id": {"S": BOB.id},
            "connected_at": {"N": str(connected["connected_at"])},
        },
    )
    workflows.dynamodb.put_item(TableName=TABLES["UsersTable"][0], Item={"username": {"S": "bob"}})
    disconnect(workflows, BOB_DEVICES[0])

    workflows.connections.connect(BOB_DEVICES[0])  # still open for the handshake's post, as it was then
    late = workflows.run("connection_handshake", connected)

    assert late.status == "SUCCEEDED"
    assert live_connections(workflows, "bob") == set()
    assert changes(workflows) == [True]  # Alice's only
    assert presence(workflows, ALICE_LAPTOP) == []
