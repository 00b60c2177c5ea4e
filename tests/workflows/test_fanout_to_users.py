"""message_fanout on a stage with sign-in, on moto's engine and its DynamoDB: each user's connections are looked
up in the registry's username index; every connection of each recipient user and of the sender gets the
message; a recipient user none of whose connections got it is reported offline; a connection that answers
410 leaves the registry (unless it was registered a moment ago: it may be still opening)."""

import time

from chat.connections import STILL_OPENING_SECONDS

from tests.conftest import SignedInUser

ALICE = SignedInUser("sub-alice", "Alice")
BOB = SignedInUser("sub-bob", "Bob")
ALICE_LAPTOP, ALICE_PHONE = "CfF0ed8QoAMCKxQ=", "CfF0eLaptop0AMC="
BOB_LAPTOP, BOB_PHONE = "CfF2b3hQoAMCJ-g=", "CfF2bPhone0AMC="
STRANGER = "CfF2fKd7oAMCJdA="


def sign_in(workflows, handshake_input, user: SignedInUser, *connection_ids: str) -> None:
    """Each connection opens and its handshake registers it, as on AWS."""
    for connection_id in connection_ids:
        workflows.connections.connect(connection_id)
        assert workflows.run("connection_handshake", handshake_input(connection_id, user)).status == "SUCCEEDED"


def messages(workflows, connection_id: str) -> list[dict]:
    return [frame for frame in workflows.connections.frames(connection_id) if frame["type"] == "message"]


def notices(workflows, connection_id: str) -> list[dict]:
    return [frame for frame in workflows.connections.frames(connection_id) if frame["type"] == "delivery_failed"]


def test_every_device_of_the_recipient_and_of_the_sender_gets_the_message(signed_in, handshake_input, fanout_input):
    workflows = signed_in
    sign_in(workflows, handshake_input, ALICE, ALICE_LAPTOP, ALICE_PHONE)
    sign_in(workflows, handshake_input, BOB, BOB_LAPTOP, BOB_PHONE)
    execution_input = fanout_input(ALICE_LAPTOP, {"message": "hi bob", "recipient_users": ["bob"]}, ALICE)
    frame = execution_input["frame"]

    execution = workflows.run("message_fanout", execution_input)

    assert execution.status == "SUCCEEDED"
    assert frame["sender"] == {"id": "sub-alice", "name": "Alice"} and frame["recipient_users"] == ["Bob"]
    for connection_id in (ALICE_LAPTOP, ALICE_PHONE, BOB_LAPTOP, BOB_PHONE):
        assert messages(workflows, connection_id) == [frame], connection_id
    assert notices(workflows, ALICE_LAPTOP) == []
    assert execution.output["users"] == [{"username": "Bob", "status": "reached"}]
    assert execution.output["deliveries"][0] == {"connection_id": ALICE_LAPTOP, "status": "delivered"}
    queried = [
        e
        for e in execution.events("TaskScheduled")
        if e["taskScheduledEventDetails"]["resourceType"] == "aws-sdk:dynamodb"
    ]
    assert len(queried) == 2  # the sender's connections and the recipient's: no Lambda looked them up


def test_a_user_who_never_connected_is_reported_offline_to_the_sender(signed_in, handshake_input, fanout_input):
    workflows = signed_in
    sign_in(workflows, handshake_input, ALICE, ALICE_LAPTOP)
    workflows.cognito.admin_create_user(UserPoolId=workflows.user_pool_id, Username="carol")
    execution_input = fanout_input(ALICE_LAPTOP, {"message": "hi carol", "recipient_users": ["carol"]}, ALICE)

    execution = workflows.run("message_fanout", execution_input)

    assert execution.status == "SUCCEEDED"
    assert notices(workflows, ALICE_LAPTOP) == [
        {
            "type": "delivery_failed",
            "reason": "offline",
            "message_id": execution_input["frame"]["message_id"],
            "failures": [{"username": "carol", "status": "offline"}],
            "stored": True,
            "note": "Stored in your conversation's history: they will see it when they return.",
        }
    ]
    assert execution.output["users"] == [{"username": "carol", "status": "offline"}]


def test_a_stale_connection_leaves_the_registry_and_its_user_is_offline(signed_in, handshake_input, fanout_input):
    """Bob's $disconnect never came: the registry still lists his connection, which answers 410."""
    workflows = signed_in
    sign_in(workflows, handshake_input, ALICE, ALICE_LAPTOP)
    sign_in(workflows, handshake_input, BOB, BOB_LAPTOP)
    workflows.connections.disconnect(BOB_LAPTOP)
    execution_input = fanout_input(ALICE_LAPTOP, {"message": "hi", "recipient_users": ["Bob"]}, ALICE)

    execution = workflows.run("message_fanout", execution_input)

    assert execution.status == "SUCCEEDED"
    workflows.started_by_workflows("connection_cleanup")  # the fan-out hands the gone connection over
    assert BOB_LAPTOP not in workflows.registry() and ALICE_LAPTOP in workflows.registry()
    assert {d["connection_id"]: d["status"] for d in execution.output["deliveries"]}[BOB_LAPTOP] == "gone"
    (notice,) = notices(workflows, ALICE_LAPTOP)
    assert (notice["reason"], notice["failures"]) == ("offline", [{"username": "Bob", "status": "offline"}])
    assert "recipient_ids" not in notice  # Bob's connection was never named by the sender


def test_a_connection_registered_a_moment_ago_that_answers_410_stays(signed_in, handshake_input, fanout_input):
    """connection_handshake registers before the connection opens: a 410 then may mean "not open yet"."""
    workflows = signed_in
    sign_in(workflows, handshake_input, ALICE, ALICE_LAPTOP)
    workflows.connections.connect(BOB_PHONE)
    now = int(time.time())
    opening = handshake_input(BOB_PHONE, BOB) | {"connected_at": now, "expires_at": now + 3 * 3600}
    workflows.run("connection_handshake", opening)
    workflows.connections.refuse(BOB_PHONE, 410)  # the next post, the message, finds it "not open"

    execution = workflows.run(
        "message_fanout", fanout_input(ALICE_LAPTOP, {"message": "hi", "recipient_users": ["bob"]}, ALICE)
    )

    assert {d["connection_id"]: d["status"] for d in execution.output["deliveries"]}[BOB_PHONE] == "gone"
    workflows.started_by_workflows("connection_cleanup")
    assert BOB_PHONE in workflows.registry(), f"registered less than {STILL_OPENING_SECONDS} s ago: kept"


def test_a_gone_named_connection_and_an_offline_user_are_reported_together(signed_in, handshake_input, fanout_input):
    workflows = signed_in
    sign_in(workflows, handshake_input, ALICE, ALICE_LAPTOP)
    workflows.cognito.admin_create_user(UserPoolId=workflows.user_pool_id, Username="carol")
    # A message to a connection (STRANGER has left) needs no users; then one to carol, who is offline.
    to_connection = fanout_input(ALICE_LAPTOP, {"message": "hi", "recipient_id": STRANGER}, ALICE)
    to_user = fanout_input(ALICE_LAPTOP, {"message": "hi", "recipient_users": ["carol"]}, ALICE)

    workflows.run("message_fanout", to_connection)
    workflows.run("message_fanout", to_user)

    first, second = notices(workflows, ALICE_LAPTOP)
    assert (first["reason"], first["recipient_ids"], first["failures"]) == (
        "gone",
        [STRANGER],
        [{"connection_id": STRANGER, "status": "gone"}],
    )
    assert (second["reason"], second["failures"]) == ("offline", [{"username": "carol", "status": "offline"}])


def test_a_second_execution_of_the_same_message_is_harmless(signed_in, handshake_input, fanout_input):
    """At least once: the same message delivered again (clients de-duplicate by message_id), nothing else."""
    workflows = signed_in
    sign_in(workflows, handshake_input, ALICE, ALICE_LAPTOP)
    sign_in(workflows, handshake_input, BOB, BOB_LAPTOP)
    execution_input = fanout_input(ALICE_LAPTOP, {"message": "once", "recipient_users": ["bob"]}, ALICE)
    registry = workflows.registry()

    first = workflows.run("message_fanout", execution_input)
    second = workflows.run("message_fanout", execution_input)

    assert first.status == second.status == "SUCCEEDED"
    assert first.output == second.output
    assert messages(workflows, BOB_LAPTOP) == [execution_input["frame"]] * 2
    assert workflows.registry() == registry
