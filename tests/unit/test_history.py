"""The history route: a signed-in caller's request for a page of their direct conversation is validated (the
cursor strictly), then history_page starts; anything else is an error frame and nothing starts."""

import json
import os

import history
import pack_history
import pytest
from chat.history import MAX_FRAME_BYTES, InvalidCursor, cursor_of, history_frames, key_of

from tests.conftest import SignedInUser, answer_start_execution
from tests.protocol import server_frame

ALICE = SignedInUser("sub-alice", "Alice")
CALLER = "CfF0ed8QoAMCKxQ="
KEY = "2026-12-06T15:36:21.089Z#d8b304d4-1a7e-40f2-b984-be02eb28ec84"


@pytest.fixture
def stepfunctions(stub_client):
    return stub_client(history, "stepfunctions", "stepfunctions")


def ask(events, lambda_context, body, user: SignedInUser | None = ALICE) -> dict:
    event = events.send_message({"action": "history", **body}, connection_id=CALLER, user=user)
    response = history.handler(event, lambda_context)
    return {"status": response["statusCode"], "frame": server_frame(response["body"])}


def test_a_request_starts_a_page_of_the_callers_own_conversation(events, lambda_context, stepfunctions):
    answer_start_execution(stepfunctions, os.environ["HISTORY_STATE_MACHINE_ARN"])

    answer = ask(events, lambda_context, {"with": "Bob", "before": cursor_of(KEY), "limit": 20})

    assert answer == {"status": 200, "frame": {"type": "history_requested", "with": "Bob", "limit": 20}}
    (call,) = stepfunctions.params("StartExecution")
    assert call["stateMachineArn"] == os.environ["HISTORY_STATE_MACHINE_ARN"]
    assert json.loads(call["input"]) == {
        "connection_id": CALLER,
        "username": "alice",
        "with": "Bob",
        "room": None,
        "conversation": "dm#alice bob",
        "limit": 20,
        "has_before": True,
        "before": KEY,
    }


def test_without_a_limit_a_page_is_the_stages_largest(events, lambda_context, stepfunctions):
    stepfunctions.stubber.add_response(
        "start_execution", {"executionArn": "arn:aws:states:us-east-1:1:execution:x:y", "startDate": "2026-12-06"}
    )

    answer = ask(events, lambda_context, {"with": "bob"})

    assert answer["frame"]["limit"] == int(os.environ["HISTORY_MAX_PAGE"])
    (call,) = stepfunctions.params("StartExecution")
    assert json.loads(call["input"])["has_before"] is False


@pytest.mark.parametrize(
    "cursor",
    [
        "not a cursor",
        cursor_of(KEY)[:-3],  # cut short
        cursor_of(KEY.replace("#", "#x")),  # a key of another shape
        cursor_of("room#general"),  # another conversation's key: refused before any query
        cursor_of(KEY) + "==",  # padded
        "",
        "A" * 129,
    ],
    ids=["spaces", "cut", "shape", "other", "padded", "empty", "long"],
)
def test_a_tampered_cursor_is_refused_and_nothing_starts(events, lambda_context, stepfunctions, cursor):
    answer = ask(events, lambda_context, {"with": "bob", "before": cursor})

    assert answer["frame"]["code"] == "invalid_cursor"
    assert stepfunctions.operations() == []


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"with": "bob", "limit": 51}, "invalid_request"),
        ({"with": "bob", "limit": 0}, "invalid_request"),
        ({"with": "bob", "limit": "5"}, "invalid_request"),
        ({"with": "bo b"}, "invalid_request"),
        ({}, "invalid_request"),
        ({"with": "bob", "before": 12}, "invalid_request"),
        ({"room": "general", "with": "bob"}, "invalid_request"),  # exactly one of room and with
        ({"room": "no such room!"}, "invalid_room"),
        ({"room": None}, "invalid_request"),
        ({"room": 3}, "invalid_room"),
    ],
)
def test_bad_requests_are_refused_and_nothing_starts(events, lambda_context, stepfunctions, body, code):
    answer = ask(events, lambda_context, body)

    assert answer["frame"]["code"] == code
    assert stepfunctions.operations() == []


@pytest.mark.parametrize("body", [{"with": "bob"}, {"room": "general"}])
def test_a_stage_without_users_keeps_no_conversations(events, lambda_context, stepfunctions, body):
    answer = ask(events, lambda_context, body, user=None)

    assert answer["frame"]["code"] == "no_users"
    assert stepfunctions.operations() == []


def test_a_cursor_stands_for_exactly_one_key():
    assert key_of(cursor_of(KEY)) == KEY
    with pytest.raises(InvalidCursor):
        key_of(cursor_of(KEY).swapcase())


def test_a_page_is_packed_in_frames_under_32_kb_and_ends_with_the_next_cursor():
    items = [
        {"sent_key": f"2026-12-06T15:36:{n:02d}.000Z#{n:08d}-0000-0000-0000-000000000000", "frame": json.dumps(m)}
        for n, m in enumerate({"type": "message", "message": "€" * 5000, "n": n} for n in range(10))
    ]

    *pages, end = history_frames(with_user="bob", items=items, limit=10)

    assert [m["n"] for page in pages for m in page["messages"]] == list(range(10))
    assert all(len(json.dumps(page).encode("utf-8")) <= MAX_FRAME_BYTES for page in pages)
    assert all(len(json.dumps(page)) <= MAX_FRAME_BYTES for page in pages)  # escaped, too
    assert len(pages) > 1
    assert end == {"type": "history_end", "with": "bob", "count": 10, "before": cursor_of(items[-1]["sent_key"])}
    assert history_frames(with_user="bob", items=items[:3], limit=10)[-1]["before"] is None


def test_a_connection_whose_token_expired_may_not_read_history(events, lambda_context, stepfunctions):
    """API Gateway checks the token only on $connect: as sendMessage does, history refuses a connection that
    outlived its sign-in (a deleted user's too, within the token's lifetime at most)."""
    expired = SignedInUser("sub-alice", "Alice", token_expires_at=1_700_000_000)

    answer = ask(events, lambda_context, {"with": "Bob"}, user=expired)

    assert (answer["status"], answer["frame"]["type"], answer["frame"]["code"]) == (200, "error", "token_expired")
    assert stepfunctions.operations() == []


def test_a_rooms_history_starts_a_page_of_the_rooms_conversation_for_its_caller(events, lambda_context, stepfunctions):
    stepfunctions.stubber.add_response(
        "start_execution", {"executionArn": "arn:aws:states:us-east-1:1:execution:x:y", "startDate": "2026-12-06"}
    )

    answer = ask(events, lambda_context, {"room": "General", "limit": 5})

    assert answer == {"status": 200, "frame": {"type": "history_requested", "room": "general", "limit": 5}}
    (call,) = stepfunctions.params("StartExecution")
    assert json.loads(call["input"]) == {
        "connection_id": CALLER,
        "username": "alice",  # whose membership history_page checks: the connection's user, never the frame's
        "with": None,
        "room": "general",
        "conversation": "room#general",
        "limit": 5,
        "has_before": False,
        "before": None,
    }


def test_a_rooms_history_frames_carry_room_instead_of_with(lambda_context):
    message = {"type": "message", "message": "hi all", "room": "general"}
    item = {"sent_key": "2026-12-06T15:36:21.089Z#d8b304d4-1a7e-40f2-b984-be02eb28ec84", "frame": json.dumps(message)}

    answer = pack_history.handler(
        {"connection_id": CALLER, "with": None, "room": "general", "limit": 1, "items": [item]}, lambda_context
    )

    page, end = answer["frames"]
    assert page == {"type": "history", "room": "general", "messages": [message]}
    assert end["type"] == "history_end" and end["room"] == "general" and "with" not in end
    assert history_frames(with_user="bob", items=[], limit=1) == [
        {"type": "history_end", "with": "bob", "count": 0, "before": None}
    ]
