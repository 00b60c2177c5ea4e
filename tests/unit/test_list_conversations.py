"""The listConversations route: a signed-in caller's request starts list_conversations for their own username
(from the $connect authorizer, whatever the frame says); anything else is an error frame and nothing starts."""

import json
import os

import list_conversations
import pytest

from tests.conftest import SignedInUser, answer_start_execution
from tests.protocol import server_frame

ALICE = SignedInUser("sub-alice", "Alice")
CALLER = "CfF0ed8QoAMCKxQ="


@pytest.fixture
def stepfunctions(stub_client):
    return stub_client(list_conversations, "stepfunctions", "stepfunctions")


def ask(events, lambda_context, body: str | dict, user: SignedInUser | None = ALICE) -> dict:
    event = events.send_message(body if isinstance(body, dict) else {}, connection_id=CALLER, user=user)
    if isinstance(body, str):
        event["body"] = body
    response = list_conversations.handler(event, lambda_context)
    return {"status": response["statusCode"], "frame": server_frame(response["body"])}


def test_a_request_starts_the_listing_of_the_callers_own_conversations(events, lambda_context, stepfunctions):
    answer_start_execution(stepfunctions, os.environ["CONVERSATIONS_STATE_MACHINE_ARN"])

    # A username in the frame changes nothing: the list is always the caller's own.
    answer = ask(events, lambda_context, {"action": "listConversations", "username": "bob"})

    assert answer == {"status": 200, "frame": {"type": "listConversations_requested"}}
    (call,) = stepfunctions.params("StartExecution")
    assert call["stateMachineArn"] == os.environ["CONVERSATIONS_STATE_MACHINE_ARN"]
    assert json.loads(call["input"]) == {"connection_id": CALLER, "username": "alice"}


def test_on_a_stage_without_sign_in_there_are_no_users_and_nothing_starts(events, lambda_context, stepfunctions):
    answer = ask(events, lambda_context, {"action": "listConversations"}, user=None)

    assert (answer["status"], answer["frame"]["code"]) == (200, "no_users")
    assert stepfunctions.operations() == []


@pytest.mark.parametrize("body", ["not json", "[1, 2]", ""], ids=["text", "array", "empty"])
def test_a_frame_that_is_no_json_object_is_refused(events, lambda_context, stepfunctions, body):
    answer = ask(events, lambda_context, body)

    assert answer["frame"]["code"] == "invalid_json"
    assert stepfunctions.operations() == []


def test_a_workflow_that_cannot_start_is_a_not_sent_error_to_try_again(events, lambda_context, stepfunctions):
    stepfunctions.stubber.add_client_error("start_execution", service_error_code="ThrottlingException")

    answer = ask(events, lambda_context, {"action": "listConversations"})

    assert answer["status"] == 503
    assert answer["frame"]["code"] == "not_sent"
    assert "could not be read" in answer["frame"]["message"]


def test_a_connection_whose_sign_in_expired_may_not_list(events, lambda_context, stepfunctions):
    expired = SignedInUser("sub-alice", "Alice", token_expires_at=1_700_000_000)

    answer = ask(events, lambda_context, {"action": "listConversations"}, user=expired)

    assert answer["frame"]["code"] == "token_expired"
    assert stepfunctions.operations() == []
