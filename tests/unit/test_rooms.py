"""The room route: a signed-in caller's joinRoom, leaveRoom, inviteToRoom, listRooms or roomMembers is validated (room
names strictly), then room_change or room_listing starts with the caller's own identity; anything else is an error
frame and nothing starts."""

import json
import os

import pytest
import rooms
from chat import rooms as room_requests

from cdk.functions import ROOM_ACTIONS
from tests.conftest import SignedInUser
from tests.protocol import server_frame

ALICE = SignedInUser("sub-alice", "Alice")
CALLER = "CfF0ed8QoAMCKxQ="
CHANGE, LISTING = os.environ["ROOM_CHANGE_STATE_MACHINE_ARN"], os.environ["ROOM_LISTING_STATE_MACHINE_ARN"]


@pytest.fixture
def stepfunctions(stub_client):
    return stub_client(rooms, "stepfunctions", "stepfunctions")


def started(stepfunctions) -> None:
    stepfunctions.stubber.add_response(
        "start_execution", {"executionArn": "arn:aws:states:us-east-1:1:execution:x:y", "startDate": "2026-12-06"}
    )


def ask(events, lambda_context, body, user: SignedInUser | None = ALICE) -> dict:
    event = events.send_message(body, connection_id=CALLER, user=user)
    response = rooms.handler(event, lambda_context)
    return {"status": response["statusCode"], "frame": server_frame(response["body"])}


@pytest.mark.parametrize(
    ("body", "workflow", "answer", "asked"),
    [
        (
            {"action": "joinRoom", "room": "General"},
            CHANGE,
            {"type": "joinRoom_requested", "room": "general"},
            {"room": "general", "policy": "open"},
        ),
        (
            {"action": "joinRoom", "room": "core", "policy": "invite"},
            CHANGE,
            {"type": "joinRoom_requested", "room": "core"},
            {"room": "core", "policy": "invite"},
        ),
        (
            {"action": "leaveRoom", "room": "Core"},
            CHANGE,
            {"type": "leaveRoom_requested", "room": "core"},
            {"room": "core"},
        ),
        (
            {"action": "inviteToRoom", "room": "core", "user": "Bob"},
            CHANGE,
            {"type": "inviteToRoom_requested", "room": "core", "user": "bob"},
            {"room": "core", "invitee": "bob"},
        ),
        ({"action": "listRooms"}, LISTING, {"type": "listRooms_requested"}, {}),
        (
            {"action": "roomMembers", "room": "x_Y-9"},
            LISTING,
            {"type": "roomMembers_requested", "room": "x_y-9"},
            {"room": "x_y-9"},
        ),
    ],
    ids=["join", "join-invite-room", "leave", "invite", "list", "members"],
)
def test_a_request_starts_its_workflow_for_the_callers_own_user(
    events, lambda_context, stepfunctions, body, workflow, answer, asked
):
    started(stepfunctions)

    response = ask(events, lambda_context, body)

    assert response == {"status": 200, "frame": answer}
    (call,) = stepfunctions.params("StartExecution")
    assert call["stateMachineArn"] == workflow
    execution_input = json.loads(call["input"])
    assert execution_input.pop("requested_at").endswith("Z")
    assert execution_input == {
        "action": body["action"],
        **asked,
        "connection_id": CALLER,
        "user": {"id": "sub-alice", "name": "Alice"},
        "username": "alice",
    }


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"action": "joinRoom"}, "invalid_room"),
        ({"action": "joinRoom", "room": ""}, "invalid_room"),
        ({"action": "joinRoom", "room": "a" * 65}, "invalid_room"),
        ({"action": "joinRoom", "room": "two words"}, "invalid_room"),
        ({"action": "leaveRoom", "room": "room#1"}, "invalid_room"),
        ({"action": "roomMembers", "room": ["general"]}, "invalid_room"),
        ({"action": "inviteToRoom", "room": "caf\u00e9", "user": "bob"}, "invalid_room"),
        ({"action": "joinRoom", "room": "general", "policy": "closed"}, "invalid_request"),
        ({"action": "joinRoom", "room": "general", "policy": None}, "invalid_request"),
        ({"action": "inviteToRoom", "room": "general"}, "invalid_request"),
        ({"action": "inviteToRoom", "room": "general", "user": "bo b"}, "invalid_request"),
        ({"action": "inviteToRoom", "room": "general", "user": 7}, "invalid_request"),
        ({"action": "inviteToRoom", "room": "general", "user": "ALICE"}, "invalid_request"),  # oneself
        ("not json", "invalid_json"),
        ([], "invalid_json"),
    ],
)
def test_bad_requests_are_refused_and_nothing_starts(events, lambda_context, stepfunctions, body, code):
    answer = ask(events, lambda_context, body)

    assert (answer["status"], answer["frame"]["type"], answer["frame"]["code"]) == (200, "error", code)
    assert stepfunctions.operations() == []


@pytest.mark.parametrize("action", ROOM_ACTIONS)
def test_a_stage_without_users_has_no_rooms(events, lambda_context, stepfunctions, action):
    answer = ask(events, lambda_context, {"action": action, "room": "general", "user": "bob"}, user=None)

    assert answer["frame"]["code"] == "no_users"
    assert stepfunctions.operations() == []


def test_a_connection_whose_token_expired_may_not_change_rooms(events, lambda_context, stepfunctions):
    expired = SignedInUser("sub-alice", "Alice", token_expires_at=1_700_000_000)

    answer = ask(events, lambda_context, {"action": "joinRoom", "room": "general"}, user=expired)

    assert answer["frame"]["code"] == "token_expired"
    assert stepfunctions.operations() == []


def test_a_workflow_that_cannot_start_is_not_sent(events, lambda_context, stepfunctions):
    stepfunctions.stubber.add_client_error("start_execution", "ThrottlingException", http_status_code=400)

    answer = ask(events, lambda_context, {"action": "listRooms"})

    assert (answer["status"], answer["frame"]["code"]) == (503, "not_sent")


def test_the_stack_routes_exactly_the_room_actions_the_handler_answers():
    assert ROOM_ACTIONS == room_requests.ACTIONS
