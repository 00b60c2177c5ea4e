"""message_fanout keeps every message to users in the history before it delivers it (on moto's engine and its
DynamoDB): one item per direct conversation, keyed by what sendMessage fixed before the execution started, so a
second execution of the same message writes the same item; an offline recipient is told to the sender as one who
will see it when they return."""

import json
from datetime import datetime

from tests.conftest import SignedInUser
from tests.workflows.test_fanout_to_users import messages, notices, sign_in

ALICE = SignedInUser("sub-alice", "Alice")
BOB = SignedInUser("sub-bob", "Bob")
ALICE_LAPTOP, BOB_LAPTOP = "CfF0ed8QoAMCKxQ=", "CfF2b3hQoAMCJ-g="
STRANGER = "CfF2fKd7oAMCJdA="
RETENTION_DAYS = 30  # tests/conftest.py's HISTORY_RETENTION_DAYS


def stored_item_of(frame: dict, conversation: str) -> dict:
    sent = datetime.fromisoformat(frame["sent_at"].replace("Z", "+00:00"))
    return {
        "conversation": conversation,
        "sent_key": f"{frame['sent_at']}#{frame['message_id']}",
        "message_id": frame["message_id"],
        "frame": frame,
        "expires_at": str(int(sent.timestamp()) + RETENTION_DAYS * 86400),
    }


def stored(workflows) -> list[dict]:
    return [item | {"frame": json.loads(item["frame"])} for item in workflows.stored_messages()]


def scheduled_resources(execution) -> list[str]:
    return [event["taskScheduledEventDetails"]["resource"] for event in execution.events("TaskScheduled")]


def test_a_message_to_a_user_is_stored_before_it_is_delivered(signed_in, handshake_input, fanout_input):
    workflows = signed_in
    sign_in(workflows, handshake_input, ALICE, ALICE_LAPTOP)
    sign_in(workflows, handshake_input, BOB, BOB_LAPTOP)
    execution_input = fanout_input(ALICE_LAPTOP, {"message": "hi bob", "recipient_users": ["Bob"]}, ALICE)
    frame = execution_input["frame"]

    execution = workflows.run("message_fanout", execution_input)

    assert execution.status == "SUCCEEDED" and execution.output["stored"] is True
    assert stored(workflows) == [stored_item_of(frame, "dm#alice bob")]
    assert messages(workflows, BOB_LAPTOP) == [frame]
    resources = scheduled_resources(execution)
    assert resources.index("putItem") < resources.index("invoke"), resources  # stored, then delivered


def test_an_input_without_history_settings_delivers_and_stores_nothing(signed_in, handshake_input, fanout_input):
    """As an execution started by the sendMessage deployed before history gives it: delivered, not failed. (On AWS a
    Choice rule on a missing path fails the execution with States.Runtime, hence IsPresent first; moto's engine
    takes the default instead, so this shows the behaviour, not the guard.)"""
    workflows = signed_in
    sign_in(workflows, handshake_input, ALICE, ALICE_LAPTOP)
    sign_in(workflows, handshake_input, BOB, BOB_LAPTOP)
    execution_input = fanout_input(ALICE_LAPTOP, {"message": "hi bob", "recipient_users": ["Bob"]}, ALICE)
    del execution_input["history"]

    execution = workflows.run("message_fanout", execution_input)

    assert execution.status == "SUCCEEDED" and execution.output["stored"] is False
    assert stored(workflows) == []
    assert messages(workflows, BOB_LAPTOP) == [execution_input["frame"]]


def test_each_recipient_users_conversation_with_the_sender_keeps_it(signed_in, handshake_input, fanout_input):
    workflows = signed_in
    sign_in(workflows, handshake_input, ALICE, ALICE_LAPTOP)
    workflows.cognito.admin_create_user(UserPoolId=workflows.user_pool_id, Username="carol")
    workflows.cognito.admin_create_user(UserPoolId=workflows.user_pool_id, Username="zed")
    execution_input = fanout_input(ALICE_LAPTOP, {"message": "hi all", "recipient_users": ["zed", "carol"]}, ALICE)

    workflows.run("message_fanout", execution_input)

    frame = execution_input["frame"]
    assert stored(workflows) == [stored_item_of(frame, "dm#alice carol"), stored_item_of(frame, "dm#alice zed")]


def test_a_second_execution_of_the_same_message_stores_one_item(signed_in, handshake_input, fanout_input):
    workflows = signed_in
    sign_in(workflows, handshake_input, ALICE, ALICE_LAPTOP)
    sign_in(workflows, handshake_input, BOB, BOB_LAPTOP)
    execution_input = fanout_input(ALICE_LAPTOP, {"message": "once", "recipient_users": ["bob"]}, ALICE)

    first = workflows.run("message_fanout", execution_input)
    after_first = workflows.stored_messages()
    second = workflows.run("message_fanout", execution_input)

    assert first.status == second.status == "SUCCEEDED"
    assert len(after_first) == 1 and workflows.stored_messages() == after_first


def test_the_sender_is_told_an_offline_recipient_will_see_it_when_they_return(signed_in, handshake_input, fanout_input):
    workflows = signed_in
    sign_in(workflows, handshake_input, ALICE, ALICE_LAPTOP)
    workflows.cognito.admin_create_user(UserPoolId=workflows.user_pool_id, Username="carol")
    execution_input = fanout_input(ALICE_LAPTOP, {"message": "are you there?", "recipient_users": ["carol"]}, ALICE)

    workflows.run("message_fanout", execution_input)

    (notice,) = notices(workflows, ALICE_LAPTOP)
    assert (notice["reason"], notice["stored"]) == ("offline", True)
    assert "will see it when they return" in notice["note"]
    assert stored(workflows) == [stored_item_of(execution_input["frame"], "dm#alice carol")]


def test_a_message_to_connection_ids_is_not_kept(signed_in, handshake_input, fanout_input):
    workflows = signed_in
    sign_in(workflows, handshake_input, ALICE, ALICE_LAPTOP)

    execution = workflows.run(
        "message_fanout", fanout_input(ALICE_LAPTOP, {"message": "hi", "recipient_id": STRANGER}, ALICE)
    )

    assert execution.output["stored"] is False and workflows.stored_messages() == []
    (notice,) = notices(workflows, ALICE_LAPTOP)
    assert (notice["reason"], notice["stored"]) == ("gone", False)
    assert "putItem" not in scheduled_resources(execution)


def test_a_message_that_cannot_be_stored_is_still_delivered_and_the_sender_told(
    signed_in, handshake_input, fanout_input
):
    """DynamoDB refuses the item (here: an expiry that is no number): the online recipient still gets it; the
    sender learns it was not kept, so an offline recipient will not see it."""
    workflows = signed_in
    sign_in(workflows, handshake_input, ALICE, ALICE_LAPTOP)
    sign_in(workflows, handshake_input, BOB, BOB_LAPTOP)
    workflows.cognito.admin_create_user(UserPoolId=workflows.user_pool_id, Username="carol")
    execution_input = fanout_input(ALICE_LAPTOP, {"message": "hi", "recipient_users": ["bob", "carol"]}, ALICE)
    for item in execution_input["history"]["items"]:
        item["expires_at"] = "soon"

    execution = workflows.run("message_fanout", execution_input)

    assert execution.status == "SUCCEEDED" and execution.output["stored"] is False
    assert messages(workflows, BOB_LAPTOP) == [execution_input["frame"]]
    (notice,) = notices(workflows, ALICE_LAPTOP)
    assert (notice["reason"], notice["stored"]) == ("offline", False)
    assert "will not see it" in notice["note"]
