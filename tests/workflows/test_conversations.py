"""Each user's list of direct conversations, on moto's engine and its DynamoDB: message_fanout moves it forward
for the sender and each recipient user once the message is stored, never back and never twice (a second
execution of the same message, or an older one run late, changes nothing); list_conversations posts the caller's
own list, 50 conversations a frame."""

from tests.conftest import SignedInUser
from tests.workflows.conftest import TABLES
from tests.workflows.test_fanout_to_users import sign_in

ALICE = SignedInUser("sub-alice", "Alice")
BOB = SignedInUser("sub-bob", "Bob")
CAROL = SignedInUser("sub-carol", "Carol")
ALICE_LAPTOP, BOB_LAPTOP, CAROL_LAPTOP = "CfF0ed8QoAMCKxQ=", "CfF2b3hQoAMCJ-g=", "CfF2fKd7oAMCJdA="
CONVERSATIONS_TABLE = TABLES["ConversationsTable"][0]


def conversations(workflows) -> dict[tuple[str, str], dict]:
    """The conversations table: (username, conversation) -> its other attributes, as plain text."""
    listed = {}
    for item in workflows.items(CONVERSATIONS_TABLE):
        plain = {name: next(iter(value.values())) for name, value in item.items()}
        listed[(plain.pop("username"), plain.pop("conversation"))] = plain
    return listed


def sent_key(frame: dict) -> str:
    return f"{frame['sent_at']}#{frame['message_id']}"


def conversation_frames(workflows, connection_id: str) -> list[dict]:
    frames = workflows.connections.frames(connection_id)
    return [frame for frame in frames if frame["type"] in ("conversations", "error")]


def test_a_direct_message_moves_both_users_conversation_to_it(signed_in, handshake_input, fanout_input):
    workflows = signed_in
    sign_in(workflows, handshake_input, ALICE, ALICE_LAPTOP)
    sign_in(workflows, handshake_input, BOB, BOB_LAPTOP)
    first = fanout_input(ALICE_LAPTOP, {"message": "hi bob", "recipient_users": ["bob"]}, ALICE)
    assert workflows.run("message_fanout", first).status == "SUCCEEDED"
    reply = fanout_input(BOB_LAPTOP, {"message": "hi alice", "recipient_users": ["Alice"]}, BOB)

    execution = workflows.run("message_fanout", reply)

    assert execution.status == "SUCCEEDED"
    newest = sent_key(reply["frame"])
    assert conversations(workflows) == {
        ("alice", "dm#alice bob"): {"with": "Bob", "last_sent_key": newest},
        ("bob", "dm#alice bob"): {"with": "Alice", "last_sent_key": newest},
    }
    resources = [event["taskScheduledEventDetails"]["resource"] for event in execution.events("TaskScheduled")]
    assert resources.index("putItem") < resources.index("updateItem") < resources.index("invoke"), resources


def test_a_second_execution_of_a_message_leaves_one_item_and_an_older_one_never_moves_it_back(
    signed_in, handshake_input, fanout_input
):
    """Asynchronous Express executions run at least once: the same message twice, and an older message's execution
    that runs after a newer one's, leave each user's conversation at the newest message."""
    workflows = signed_in
    sign_in(workflows, handshake_input, ALICE, ALICE_LAPTOP)
    sign_in(workflows, handshake_input, BOB, BOB_LAPTOP)
    older = fanout_input(ALICE_LAPTOP, {"message": "first", "recipient_users": ["bob"]}, ALICE)
    newer = fanout_input(ALICE_LAPTOP, {"message": "second", "recipient_users": ["bob"]}, ALICE)
    assert sent_key(older["frame"]) < sent_key(newer["frame"])

    runs = [workflows.run("message_fanout", execution_input) for execution_input in (newer, newer, older)]

    assert [run.status for run in runs] == ["SUCCEEDED"] * 3
    newest = sent_key(newer["frame"])
    assert conversations(workflows) == {
        ("alice", "dm#alice bob"): {"with": "Bob", "last_sent_key": newest},
        ("bob", "dm#alice bob"): {"with": "Alice", "last_sent_key": newest},
    }
    # The refused moves are no failure: both users' conditions failed, and were caught.
    for run in runs[1:]:
        assert run.task_errors() == ["DynamoDB.ConditionalCheckFailedException"] * 2


def test_a_message_to_connection_ids_lists_no_conversation(signed_in, handshake_input, fanout_input):
    workflows = signed_in
    sign_in(workflows, handshake_input, ALICE, ALICE_LAPTOP)
    sign_in(workflows, handshake_input, BOB, BOB_LAPTOP)

    execution_input = fanout_input(ALICE_LAPTOP, {"message": "to a connection", "recipient_id": BOB_LAPTOP}, ALICE)

    assert workflows.run("message_fanout", execution_input).status == "SUCCEEDED"
    assert conversations(workflows) == {}


def test_the_caller_is_posted_their_own_conversations(
    signed_in, handshake_input, fanout_input, list_conversations_input
):
    workflows = signed_in
    sign_in(workflows, handshake_input, ALICE, ALICE_LAPTOP)
    sign_in(workflows, handshake_input, BOB, BOB_LAPTOP)
    to_bob = fanout_input(ALICE_LAPTOP, {"message": "hi bob", "recipient_users": ["bob"]}, ALICE)
    sign_in(workflows, handshake_input, CAROL, CAROL_LAPTOP)
    between_others = fanout_input(BOB_LAPTOP, {"message": "not alice's", "recipient_users": ["carol"]}, BOB)
    for execution_input in (to_bob, between_others):
        assert workflows.run("message_fanout", execution_input).status == "SUCCEEDED"
    workflows.connections.reset()
    workflows.connections.connect(ALICE_LAPTOP)

    execution = workflows.run("list_conversations", list_conversations_input(ALICE_LAPTOP, ALICE))

    assert execution.status == "SUCCEEDED"
    assert conversation_frames(workflows, ALICE_LAPTOP) == [
        {
            "type": "conversations",
            "conversations": [{"with": "Bob", "last_sent_key": sent_key(to_bob["frame"])}],
            "more": False,
        }
    ]


def test_a_long_list_comes_in_frames_of_fifty_the_last_saying_no_more(signed_in, list_conversations_input):
    workflows = signed_in
    workflows.connections.connect(ALICE_LAPTOP)
    key = "2026-12-06T15:36:21.089Z#d8b304d4-1a7e-40f2-b984-be02eb28ec84"
    for number in range(101):
        workflows.dynamodb.put_item(
            TableName=CONVERSATIONS_TABLE,
            Item={
                "username": {"S": "alice"},
                "conversation": {"S": f"dm#alice user{number:03}"},
                "with": {"S": f"user{number:03}"},
                "last_sent_key": {"S": key},
            },
        )

    execution = workflows.run("list_conversations", list_conversations_input(ALICE_LAPTOP, ALICE))

    assert execution.status == "SUCCEEDED"
    frames = conversation_frames(workflows, ALICE_LAPTOP)
    assert [(len(frame["conversations"]), frame["more"]) for frame in frames] == [(50, True), (50, True), (1, False)]
    names = [entry["with"] for frame in frames for entry in frame["conversations"]]
    assert names == [f"user{number:03}" for number in range(101)]  # each once, in the table's order


def test_a_user_with_no_conversation_is_told_so(signed_in, list_conversations_input):
    workflows = signed_in
    workflows.connections.connect(BOB_LAPTOP)

    workflows.run("list_conversations", list_conversations_input(BOB_LAPTOP, BOB))

    assert conversation_frames(workflows, BOB_LAPTOP) == [{"type": "conversations", "conversations": [], "more": False}]


def test_a_caller_gone_ends_the_listing_without_failing(signed_in, list_conversations_input):
    workflows = signed_in  # ALICE_LAPTOP never connected: every post answers 410

    execution = workflows.run("list_conversations", list_conversations_input(ALICE_LAPTOP, ALICE))

    assert execution.status == "SUCCEEDED"
    assert execution.task_errors() == ["ApiGateway.410"]
