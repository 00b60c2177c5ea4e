"""message_fanout for a message to a room, on moto's engine and its DynamoDB: only a member may send; the message
is stored once under the room's conversation before any delivery; every live connection of every member (the
users items' live_connections, which presence keeps and these tests seed) gets it, one Map item each, the sender's
own included; offline members are no failure; a connection that answers 410 leaves the registry."""

import json

import pytest

from local.stepfunctions.tables import create_tables
from tests.conftest import SignedInUser
from tests.workflows.conftest import REGION, TABLES, table_spec
from tests.workflows.test_fanout_to_users import messages, notices, sign_in
from tests.workflows.test_history_store import scheduled_resources, stored, stored_item_of

ALICE = SignedInUser("sub-alice", "Alice")
BOB = SignedInUser("sub-bob", "Bob")
DAVE = SignedInUser("sub-dave", "Dave")
ALICE_LAPTOP, ALICE_PHONE = "CfF0ed8QoAMCKxQ=", "CfF0eLaptop0AMC="
BOB_LAPTOP = "CfF2b3hQoAMCJ-g="
DAVE_LAPTOP = "CfF2fKd7oAMCJdA="
ROOM = "general"


def online(workflows, handshake_input, user: SignedInUser, *connection_ids: str) -> None:
    """The user signs in on each connection: connection_handshake lists each in their live connections
    (presence), which the room's fan-out reads."""
    sign_in(workflows, handshake_input, user, *connection_ids)
    assert set(workflows.users()[user.name.lower()]["live_connections"]) == set(connection_ids)


def join(workflows, room: str, *usernames: str) -> None:
    """Memberships as joinRoom writes them (cdk/data_model.py, MEMBERSHIPS)."""
    for username in usernames:
        workflows.dynamodb.put_item(
            TableName=TABLES["MembershipsTable"][0],
            Item={
                "room": {"S": room},
                "username": {"S": username},
                "user_id": {"S": f"sub-{username}"},
                "joined_at": {"S": "2026-12-06T17:00:00.000Z"},
            },
        )


def alice_and_bob_in_the_room(workflows, handshake_input):
    online(workflows, handshake_input, ALICE, ALICE_LAPTOP)
    online(workflows, handshake_input, BOB, BOB_LAPTOP)
    join(workflows, ROOM, "alice", "bob")
    return workflows


def deliveries(execution) -> dict[str, str]:
    return {delivery["connection_id"]: delivery["status"] for delivery in execution.output["deliveries"]}


def errors(workflows, connection_id: str) -> list[dict]:
    return [frame for frame in workflows.connections.frames(connection_id) if frame["type"] == "error"]


def test_every_live_connection_of_every_member_gets_it_once_and_offline_members_are_no_failure(
    signed_in, handshake_input, fanout_input
):
    workflows = signed_in
    online(workflows, handshake_input, ALICE, ALICE_LAPTOP, ALICE_PHONE)
    online(workflows, handshake_input, BOB, BOB_LAPTOP)
    online(workflows, handshake_input, DAVE, DAVE_LAPTOP)  # online, but no member
    join(workflows, ROOM, "alice", "bob", "carol")  # carol has never connected: offline
    execution_input = fanout_input(ALICE_LAPTOP, {"message": "hi all", "room": "General"}, ALICE)
    frame = execution_input["frame"]

    execution = workflows.run("message_fanout", execution_input)

    assert execution.status == "SUCCEEDED"
    assert frame["room"] == ROOM
    for connection_id in (ALICE_LAPTOP, ALICE_PHONE, BOB_LAPTOP):
        assert messages(workflows, connection_id) == [frame], connection_id
    assert messages(workflows, DAVE_LAPTOP) == []
    assert notices(workflows, ALICE_LAPTOP) == [] and errors(workflows, ALICE_LAPTOP) == []
    assert execution.output["connections_reached"] == 3 and execution.output["stored"] is True
    assert execution.output["room"] == ROOM and execution.output["lookup_error"] is None
    assert execution.output["deliveries"][0] == {"connection_id": ALICE_LAPTOP, "status": "delivered"}  # own first
    posts = [r for r in scheduled_resources(execution) if r == "invoke"]
    assert len(posts) == 3  # one Map item per connection, and no notice
    reads = [r for r in scheduled_resources(execution) if r in ("getItem", "query", "batchGetItem")]
    assert reads == ["getItem", "query", "batchGetItem"]  # membership, members, their connections: no Lambda


def test_the_message_is_stored_under_the_room_before_it_is_delivered(signed_in, handshake_input, fanout_input):
    workflows = alice_and_bob_in_the_room(signed_in, handshake_input)
    execution_input = fanout_input(ALICE_LAPTOP, {"message": "hi all", "room": ROOM}, ALICE)

    execution = workflows.run("message_fanout", execution_input)

    assert stored(workflows) == [stored_item_of(execution_input["frame"], "room#general")]
    resources = scheduled_resources(execution)
    assert resources.index("putItem") < resources.index("invoke"), resources


def test_a_second_execution_of_the_same_message_stores_one_item(signed_in, handshake_input, fanout_input):
    """Asynchronous Express executions run at least once: the same input again rewrites the same item."""
    workflows = alice_and_bob_in_the_room(signed_in, handshake_input)
    execution_input = fanout_input(ALICE_LAPTOP, {"message": "once", "room": ROOM}, ALICE)

    first = workflows.run("message_fanout", execution_input)
    second = workflows.run("message_fanout", execution_input)

    assert first.status == second.status == "SUCCEEDED"
    assert stored(workflows) == [stored_item_of(execution_input["frame"], "room#general")]
    # delivered twice, with one message id: clients de-duplicate by it
    assert messages(workflows, BOB_LAPTOP) == [execution_input["frame"]] * 2


def test_a_non_member_is_refused_and_nothing_is_stored_or_delivered(signed_in, handshake_input, fanout_input):
    workflows = signed_in
    online(workflows, handshake_input, ALICE, ALICE_LAPTOP)
    online(workflows, handshake_input, DAVE, DAVE_LAPTOP)
    join(workflows, ROOM, "alice")
    execution_input = fanout_input(
        DAVE_LAPTOP, {"message": "let me in", "room": ROOM, "client_message_id": "d-1"}, DAVE
    )

    execution = workflows.run("message_fanout", execution_input)

    assert execution.status == "SUCCEEDED"
    (refusal,) = errors(workflows, DAVE_LAPTOP)
    assert refusal["code"] == "not_a_member" and refusal["room"] == ROOM
    assert refusal["message_id"] == execution_input["frame"]["message_id"] and refusal["client_message_id"] == "d-1"
    assert messages(workflows, DAVE_LAPTOP) == [] and messages(workflows, ALICE_LAPTOP) == []
    assert stored(workflows) == []
    assert execution.output["refused"] == "not_a_member" and execution.output["connections_reached"] == 0


def test_a_room_that_does_not_exist_is_answered_as_for_a_non_member(signed_in, handshake_input, fanout_input):
    workflows = signed_in
    online(workflows, handshake_input, ALICE, ALICE_LAPTOP)

    execution = workflows.run("message_fanout", fanout_input(ALICE_LAPTOP, {"message": "hi", "room": "nowhere"}, ALICE))

    ((code, room),) = [(frame["code"], frame["room"]) for frame in errors(workflows, ALICE_LAPTOP)]
    assert (code, room) == ("not_a_member", "nowhere")
    assert stored(workflows) == [] and execution.output["refused"] == "not_a_member"


def test_a_members_connection_that_answers_410_leaves_the_registry_and_fails_nothing(
    signed_in, handshake_input, fanout_input
):
    """Bob's laptop closed without its $disconnect: the registry (and his live connections) still list it."""
    workflows = alice_and_bob_in_the_room(signed_in, handshake_input)
    workflows.connections.disconnect(BOB_LAPTOP)

    execution = workflows.run("message_fanout", fanout_input(ALICE_LAPTOP, {"message": "hi", "room": ROOM}, ALICE))

    assert execution.status == "SUCCEEDED"
    assert deliveries(execution) == {ALICE_LAPTOP: "delivered", BOB_LAPTOP: "gone"}
    workflows.started_by_workflows("connection_cleanup")  # the fan-out hands the gone connection over
    assert BOB_LAPTOP not in workflows.registry() and ALICE_LAPTOP in workflows.registry()
    assert "live_connections" not in workflows.users()["bob"]  # presence: Bob is offline now
    assert execution.output["connections_reached"] == 1
    assert notices(workflows, ALICE_LAPTOP) == []  # Bob reads it in the room's history


def test_the_senders_own_connection_gets_its_copy_even_before_presence_lists_it(
    signed_in, handshake_input, fanout_input
):
    workflows = signed_in
    sign_in(workflows, handshake_input, ALICE, ALICE_LAPTOP)
    workflows.dynamodb.update_item(  # as if presence had not listed it (yet)
        TableName=TABLES["UsersTable"][0],
        Key={"username": {"S": "alice"}},
        UpdateExpression="DELETE live_connections :ids",
        ExpressionAttributeValues={":ids": {"SS": [ALICE_LAPTOP]}},
    )
    join(workflows, ROOM, "alice")
    execution_input = fanout_input(ALICE_LAPTOP, {"message": "hi", "room": ROOM}, ALICE)

    execution = workflows.run("message_fanout", execution_input)

    assert messages(workflows, ALICE_LAPTOP) == [execution_input["frame"]]
    assert execution.output["connections_reached"] == 1


def test_members_are_read_in_batches_of_100(signed_in, handshake_input, fanout_input):
    """BatchGetItem reads at most 100 keys: 150 members are two batches; the online ones in both are reached."""
    workflows = signed_in
    online(workflows, handshake_input, ALICE, ALICE_LAPTOP)
    online(workflows, handshake_input, BOB, BOB_LAPTOP)
    others = [f"member{n:03d}" for n in range(148)]
    join(workflows, ROOM, "alice", "bob", *others)  # sort keys: alice, bob, member000..147
    last = others[-1]
    workflows.connections.connect("CfF9LastMember0=")
    workflows.dynamodb.put_item(
        TableName=TABLES["UsersTable"][0],
        Item={
            "username": {"S": last},
            "user_id": {"S": f"sub-{last}"},
            "live_connections": {"SS": ["CfF9LastMember0="]},
        },
    )

    execution = workflows.run("message_fanout", fanout_input(ALICE_LAPTOP, {"message": "hi", "room": ROOM}, ALICE))

    assert execution.status == "SUCCEEDED"
    assert set(deliveries(execution)) == {ALICE_LAPTOP, BOB_LAPTOP, "CfF9LastMember0="}
    assert [r for r in scheduled_resources(execution) if r == "batchGetItem"] == ["batchGetItem"] * 2
    assert json.loads(json.dumps(execution.output["connections_reached"])) == 3


@pytest.fixture
def without_table(signed_in):
    """``without_table(placeholder)``: that table is gone, for this test only (every request to it fails)."""
    gone = []

    def remove(placeholder: str):
        name, design = TABLES[placeholder]
        signed_in.dynamodb.delete_table(TableName=name)
        gone.append(table_spec(name, design))
        return signed_in

    yield remove
    create_tables(signed_in.moto_url, REGION, gone)


def test_a_message_that_cannot_be_stored_is_still_delivered_and_the_sender_told(
    signed_in, without_table, handshake_input, fanout_input
):
    workflows = alice_and_bob_in_the_room(signed_in, handshake_input)
    without_table("MessagesTable")
    execution_input = fanout_input(ALICE_LAPTOP, {"message": "hi", "room": ROOM, "client_message_id": "a-1"}, ALICE)

    execution = workflows.run("message_fanout", execution_input)

    assert execution.status == "SUCCEEDED" and execution.output["stored"] is False
    assert messages(workflows, BOB_LAPTOP) == [execution_input["frame"]]
    (notice,) = notices(workflows, ALICE_LAPTOP)
    assert (notice["reason"], notice["room"], notice["stored"], notice["failures"]) == ("not_stored", ROOM, False, [])
    assert notice["message_id"] == execution_input["frame"]["message_id"] and notice["client_message_id"] == "a-1"


def test_a_membership_that_cannot_be_read_is_not_sent_and_the_sender_told(
    signed_in, without_table, handshake_input, fanout_input
):
    workflows = alice_and_bob_in_the_room(signed_in, handshake_input)
    without_table("MembershipsTable")
    execution_input = fanout_input(ALICE_LAPTOP, {"message": "hi", "room": ROOM}, ALICE)

    execution = workflows.run("message_fanout", execution_input)

    assert execution.status == "SUCCEEDED"
    (error,) = errors(workflows, ALICE_LAPTOP)
    assert (error["code"], error["room"], error["message_id"]) == (
        "not_sent",
        ROOM,
        execution_input["frame"]["message_id"],
    )
    assert messages(workflows, BOB_LAPTOP) == [] and stored(workflows) == []
    assert execution.output["refused"] == "not_sent"


def test_members_whose_connections_cannot_be_read_miss_it_live_and_the_sender_still_gets_their_copy(
    signed_in, without_table, handshake_input, fanout_input
):
    workflows = alice_and_bob_in_the_room(signed_in, handshake_input)
    without_table("UsersTable")
    execution_input = fanout_input(ALICE_LAPTOP, {"message": "hi", "room": ROOM}, ALICE)

    execution = workflows.run("message_fanout", execution_input)

    assert execution.status == "SUCCEEDED" and execution.output["stored"] is True  # Bob reads it in the history
    assert messages(workflows, ALICE_LAPTOP) == [execution_input["frame"]] and messages(workflows, BOB_LAPTOP) == []
    assert execution.output["lookup_error"]["Error"].startswith("DynamoDb.")
