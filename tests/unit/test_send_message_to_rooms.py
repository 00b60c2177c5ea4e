"""sendMessage with ``room`` starts the fan-out's room branch (which checks membership, stores, then delivers); bad
room frames are refused before anything starts."""

import json
import os
from datetime import datetime

import pytest
import send_message

from tests.protocol import server_frame
from tests.unit.test_send_message import ALICE_USER, SENDER, accept_start, send_as, started_execution


@pytest.fixture
def fanout(stub_client):
    return stub_client(send_message, "stepfunctions", "stepfunctions")


def send(events, lambda_context, body, user=ALICE_USER) -> dict:
    """The route response to ``body`` from Alice's connection (``user`` None: a stage without sign-in)."""
    response = send_as(events, lambda_context, body, user=user)
    return {"status": response["statusCode"], "frame": server_frame(response["body"])}


# --- sendMessage with room ---------------------------------------------------------------------------


def test_a_message_to_a_room_starts_the_fanouts_room_branch_keyed_by_the_rooms_lower_case_name(
    events, lambda_context, fanout
):
    accept_start(fanout)

    answer = send(events, lambda_context, {"message": "hi all", "room": "General", "client_message_id": "t1-1"})

    _, execution_input = started_execution(fanout)
    frame = execution_input["frame"]
    assert answer == {
        "status": 200,
        "frame": {
            "type": "accepted",
            "message_id": frame["message_id"],
            "room": "general",
            "client_message_id": "t1-1",
        },
    }
    assert frame["room"] == "general" and frame["sender"] == {"id": "sub-alice", "name": "Alice"}
    assert not {"recipient_id", "recipient_ids", "recipient_users"} & set(frame)
    # the shared delivery: the sender's own connection first, nothing for the direct path to look up or store
    assert execution_input["connection_ids"] == [SENDER]
    assert execution_input["look_up_users"] is False and execution_input["history"]["store"] is False
    room = execution_input["room"]
    sent = datetime.fromisoformat(frame["sent_at"].replace("Z", "+00:00"))
    assert (room["key"], room["username"]) == ("general", "alice")
    assert room["store"] == {
        "conversation": "room#general",
        "sent_key": f"{frame['sent_at']}#{frame['message_id']}",
        "expires_at": int(sent.timestamp()) + int(os.environ["HISTORY_RETENTION_DAYS"]) * 86400,
    }
    assert room["own_sets"] == [[{"SS": [SENDER]}]]
    refusal = server_frame(json.dumps(room["refusal"]))
    assert (refusal["code"], refusal["room"], refusal["message_id"]) == ("not_a_member", "general", frame["message_id"])
    assert refusal["client_message_id"] == "t1-1"
    not_sent = server_frame(json.dumps(room["not_sent"]))
    assert (not_sent["code"], not_sent["room"], not_sent["client_message_id"]) == ("not_sent", "general", "t1-1")
    notice = server_frame(json.dumps(room["not_stored"]))
    assert (notice["reason"], notice["stored"], notice["room"]) == ("not_stored", False, "general")


def test_a_direct_message_names_no_room(events, lambda_context, fanout):
    accept_start(fanout)

    send(events, lambda_context, {"message": "hi", "recipient_id": "CfF2b3hQoAMCJ-g="})

    _, execution_input = started_execution(fanout)
    assert execution_input["room"] is None  # present: the fan-out's choice reads a value, never a missing path


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"room": "a b"}, "invalid_room"),
        ({"room": ""}, "invalid_room"),
        ({"room": "x" * 65}, "invalid_room"),
        ({"room": "café"}, "invalid_room"),
        ({"room": 7}, "invalid_room"),
        ({"room": ["general"]}, "invalid_room"),
        ({"room": "general", "recipient_users": ["bob"]}, "invalid_request"),
        ({"room": "general", "recipient_id": "CfF2b3hQoAMCJ-g="}, "invalid_request"),
        ({"room": "general", "recipient_ids": ["CfF2b3hQoAMCJ-g="]}, "invalid_request"),
    ],
    ids=["space", "empty", "long", "accent", "number", "list", "and-users", "and-id", "and-ids"],
)
def test_a_bad_room_frame_is_refused_and_nothing_starts(events, lambda_context, fanout, body, code):
    answer = send(events, lambda_context, {"message": "hi", "client_message_id": "t1-2", **body})

    assert answer["status"] == 200
    assert (answer["frame"]["code"], answer["frame"]["client_message_id"]) == (code, "t1-2")
    assert fanout.operations() == []


def test_both_a_room_and_recipients_is_an_error_saying_to_give_one(events, lambda_context, fanout):
    answer = send(events, lambda_context, {"message": "hi", "room": "general", "recipient_users": ["bob"]})

    assert "exactly one of" in answer["frame"]["message"] and "room" in answer["frame"]["message"]


def test_a_room_on_a_stage_without_sign_in_is_no_users(events, lambda_context, fanout):
    answer = send(events, lambda_context, {"message": "hi", "room": "general"}, user=None)

    assert answer["frame"]["code"] == "no_users"
    assert fanout.operations() == []
