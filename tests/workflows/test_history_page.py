"""history_page on moto's engine and its DynamoDB: a page of the caller's direct conversation, newest first, in
history frames under 32 KB each, then history_end with the cursor of the next page; only the caller's own
conversation is read; a second execution posts the same page again and changes nothing."""

import json

from chat.history import MAX_FRAME_BYTES

from tests.conftest import SignedInUser
from tests.workflows.test_fanout_to_users import sign_in

ALICE = SignedInUser("sub-alice", "Alice")
BOB = SignedInUser("sub-bob", "Bob")
CAROL = SignedInUser("sub-carol", "Carol")
ALICE_LAPTOP, BOB_LAPTOP, CAROL_LAPTOP = "CfF0ed8QoAMCKxQ=", "CfF2b3hQoAMCJ-g=", "CfF2fKd7oAMCJdA="


def history_frames(workflows, connection_id: str) -> list[dict]:
    return [
        frame
        for frame in workflows.connections.frames(connection_id)
        if frame["type"] in ("history", "history_end", "error")
    ]


def send(workflows, fanout_input, sender_connection, sender, text: str, to: str) -> dict:
    execution_input = fanout_input(sender_connection, {"message": text, "recipient_users": [to]}, sender)
    assert workflows.run("message_fanout", execution_input).status == "SUCCEEDED"
    return execution_input["frame"]


def conversation(signed_in, handshake_input, fanout_input, count: int) -> list[dict]:
    """Alice and Bob online, ``count`` messages between them (alternating), oldest first."""
    sign_in(signed_in, handshake_input, ALICE, ALICE_LAPTOP)
    sign_in(signed_in, handshake_input, BOB, BOB_LAPTOP)
    sent = []
    for number in range(count):
        if number % 2:
            sent.append(send(signed_in, fanout_input, BOB_LAPTOP, BOB, f"reply {number}", "alice"))
        else:
            sent.append(send(signed_in, fanout_input, ALICE_LAPTOP, ALICE, f"message {number}", "bob"))
    signed_in.gateway.clients.reset()  # what the pages bring, alone
    signed_in.connections.connect(ALICE_LAPTOP, BOB_LAPTOP)
    return sent


def test_pages_come_newest_first_with_a_cursor_to_the_next_until_the_last(
    signed_in, handshake_input, fanout_input, history_input
):
    workflows = signed_in
    sent = conversation(workflows, handshake_input, fanout_input, 3)

    first = workflows.run("history_page", history_input(ALICE_LAPTOP, {"with": "Bob", "limit": 2}, ALICE))
    page, end = history_frames(workflows, ALICE_LAPTOP)

    assert first.status == "SUCCEEDED"
    assert page == {"type": "history", "with": "Bob", "messages": [sent[2], sent[1]]}
    assert (end["type"], end["with"], end["count"]) == ("history_end", "Bob", 2) and end["before"]

    workflows.connections.reset()
    workflows.connections.connect(ALICE_LAPTOP)
    workflows.run("history_page", history_input(ALICE_LAPTOP, {"with": "bob", "before": end["before"]}, ALICE))

    assert history_frames(workflows, ALICE_LAPTOP) == [
        {"type": "history", "with": "bob", "messages": [sent[0]]},
        {"type": "history_end", "with": "bob", "count": 1, "before": None},
    ]


def test_both_users_read_the_same_conversation(signed_in, handshake_input, fanout_input, history_input):
    workflows = signed_in
    sent = conversation(workflows, handshake_input, fanout_input, 2)

    workflows.run("history_page", history_input(BOB_LAPTOP, {"with": "alice"}, BOB))

    page, end = history_frames(workflows, BOB_LAPTOP)
    assert page["messages"] == [sent[1], sent[0]] and end["before"] is None


def test_a_caller_reads_only_their_own_conversation(signed_in, handshake_input, fanout_input, history_input):
    """Carol asks for Bob's history: she reads her conversation with Bob (empty), never Alice's with him."""
    workflows = signed_in
    conversation(workflows, handshake_input, fanout_input, 2)
    sign_in(workflows, handshake_input, CAROL, CAROL_LAPTOP)

    execution_input = history_input(CAROL_LAPTOP, {"with": "bob"}, CAROL)
    workflows.run("history_page", execution_input)

    assert execution_input["conversation"] == "dm#bob carol"
    assert history_frames(workflows, CAROL_LAPTOP) == [
        {"type": "history_end", "with": "bob", "count": 0, "before": None}
    ]


def test_a_second_execution_posts_the_same_page_and_changes_nothing(
    signed_in, handshake_input, fanout_input, history_input
):
    workflows = signed_in
    conversation(workflows, handshake_input, fanout_input, 2)
    stored = workflows.stored_messages()
    execution_input = history_input(ALICE_LAPTOP, {"with": "bob"}, ALICE)

    workflows.run("history_page", execution_input)
    once = history_frames(workflows, ALICE_LAPTOP)
    workflows.run("history_page", execution_input)

    assert history_frames(workflows, ALICE_LAPTOP) == once * 2
    assert workflows.stored_messages() == stored


def test_large_messages_come_in_several_frames_each_under_32_kb(
    signed_in, handshake_input, fanout_input, history_input
):
    workflows = signed_in
    sign_in(workflows, handshake_input, ALICE, ALICE_LAPTOP)
    sign_in(workflows, handshake_input, BOB, BOB_LAPTOP)
    # 3 messages of 15,000 bytes: at most two share a frame
    sent = [send(workflows, fanout_input, ALICE_LAPTOP, ALICE, "x" * 15000 + str(n), "bob") for n in range(3)]
    sent += [send(workflows, fanout_input, ALICE_LAPTOP, ALICE, "small " + str(n), "bob") for n in range(3)]
    workflows.connections.reset()
    workflows.connections.connect(ALICE_LAPTOP)

    workflows.run("history_page", history_input(ALICE_LAPTOP, {"with": "bob"}, ALICE))

    frames = history_frames(workflows, ALICE_LAPTOP)
    *pages, end = frames
    assert [message for page in pages for message in page["messages"]] == sent[::-1]
    assert len(pages) == 2  # newest first: the three small ones and two large ones, then the oldest large one
    for raw in workflows.connections.sent(ALICE_LAPTOP):
        assert len(raw.encode("utf-8") if isinstance(raw, str) else raw) <= MAX_FRAME_BYTES
    assert end == {"type": "history_end", "with": "bob", "count": 6, "before": None}


def test_a_caller_gone_ends_the_page_without_failing(signed_in, handshake_input, fanout_input, history_input):
    workflows = signed_in
    conversation(workflows, handshake_input, fanout_input, 1)
    execution_input = history_input(ALICE_LAPTOP, {"with": "bob"}, ALICE)
    workflows.connections.disconnect(ALICE_LAPTOP)

    execution = workflows.run("history_page", execution_input)

    assert execution.status == "SUCCEEDED"
    assert [post["status"] for post in execution.output["posts"]] == ["not_posted", "not_posted"]
    assert json.dumps(execution.output).count("ApiGateway.410") == 2


def test_a_page_that_cannot_be_packed_is_answered_history_unavailable(
    signed_in, handshake_input, fanout_input, history_input
):
    """PackHistory failing after its retries (here: a stored item that is no JSON) must still answer the caller,
    as a query that fails does, rather than end the execution with the caller waiting for history_end."""
    workflows = signed_in
    conversation(workflows, handshake_input, fanout_input, 1)
    (item,) = workflows.stored_messages()
    workflows.dynamodb.update_item(
        TableName="chat-test-messages",
        Key={"conversation": {"S": item["conversation"]}, "sent_key": {"S": item["sent_key"]}},
        UpdateExpression="SET #frame = :broken",
        ExpressionAttributeNames={"#frame": "frame"},
        ExpressionAttributeValues={":broken": {"S": "{not json"}},
    )

    execution = workflows.run("history_page", history_input(ALICE_LAPTOP, {"with": "bob"}, ALICE))

    assert execution.status == "SUCCEEDED"
    assert [(frame["type"], frame.get("code")) for frame in history_frames(workflows, ALICE_LAPTOP)] == [
        ("error", "history_unavailable")
    ]
