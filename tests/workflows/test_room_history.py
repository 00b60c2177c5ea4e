"""history_page for a room, on moto's engine and its DynamoDB: a member reads the room's messages (as the fan-out
stored them), newest first, in frames that carry ``room`` instead of ``with``; anyone else (a room that does not
exist included) is answered not_a_member and reads nothing."""

from tests.workflows.test_fanout_to_rooms import (
    ALICE,
    ALICE_LAPTOP,
    BOB,
    BOB_LAPTOP,
    DAVE,
    DAVE_LAPTOP,
    ROOM,
    alice_and_bob_in_the_room,
    online,
)
from tests.workflows.test_history_page import history_frames


def room_with_messages(workflows, handshake_input, fanout_input, count: int) -> list[dict]:
    """Alice and Bob, members, online; ``count`` messages from Alice to the room, oldest first."""
    alice_and_bob_in_the_room(workflows, handshake_input)
    sent = []
    for number in range(count):
        execution_input = fanout_input(ALICE_LAPTOP, {"message": f"message {number}", "room": ROOM}, ALICE)
        assert workflows.run("message_fanout", execution_input).status == "SUCCEEDED"
        sent.append(execution_input["frame"])
    workflows.gateway.clients.reset()  # what the pages bring, alone
    workflows.connections.connect(ALICE_LAPTOP, BOB_LAPTOP)
    return sent


def bobs_page(workflows, history_input, body: dict) -> list[dict]:
    """What Bob's connection is sent for one history request (and nothing from before it)."""
    workflows.connections.reset()
    workflows.connections.connect(BOB_LAPTOP)
    assert workflows.run("history_page", history_input(BOB_LAPTOP, body, BOB)).status == "SUCCEEDED"
    return history_frames(workflows, BOB_LAPTOP)


def test_a_member_reads_the_rooms_messages_newest_first_in_frames_naming_the_room(
    signed_in, handshake_input, fanout_input, history_input
):
    workflows = signed_in
    sent = room_with_messages(workflows, handshake_input, fanout_input, 3)

    page, end = bobs_page(workflows, history_input, {"room": "General", "limit": 2})
    older = bobs_page(workflows, history_input, {"room": ROOM, "before": end["before"]})

    assert page == {"type": "history", "room": ROOM, "messages": [sent[2], sent[1]]}
    assert (end["type"], end["room"], end["count"]) == ("history_end", ROOM, 2) and end["before"]
    assert "with" not in page and "with" not in end
    assert older == [
        {"type": "history", "room": ROOM, "messages": [sent[0]]},
        {"type": "history_end", "room": ROOM, "count": 1, "before": None},
    ]


def test_a_non_member_is_refused_and_reads_nothing(signed_in, handshake_input, fanout_input, history_input):
    workflows = signed_in
    room_with_messages(workflows, handshake_input, fanout_input, 1)
    online(workflows, handshake_input, DAVE, DAVE_LAPTOP)

    execution = workflows.run("history_page", history_input(DAVE_LAPTOP, {"room": ROOM}, DAVE))

    assert execution.status == "SUCCEEDED"
    (refusal,) = history_frames(workflows, DAVE_LAPTOP)
    assert (refusal["type"], refusal["code"], refusal["room"]) == ("error", "not_a_member", ROOM)
    scheduled = [event["taskScheduledEventDetails"]["resource"] for event in execution.events("TaskScheduled")]
    assert "query" not in scheduled  # the room's messages were never read


def test_a_room_that_does_not_exist_is_answered_as_for_a_non_member(signed_in, handshake_input, history_input):
    workflows = signed_in
    online(workflows, handshake_input, ALICE, ALICE_LAPTOP)

    workflows.run("history_page", history_input(ALICE_LAPTOP, {"room": "nowhere"}, ALICE))

    ((code, room),) = [(frame["code"], frame["room"]) for frame in history_frames(workflows, ALICE_LAPTOP)]
    assert (code, room) == ("not_a_member", "nowhere")
