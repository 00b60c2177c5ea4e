"""$connect starts the handshake workflow; it never posts to the connection itself."""

import json
import os
import re

import on_connect
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from botocore.retries.standard import ExponentialBackoff
from chat.clients import stepfunctions_client
from chat.connections import REGISTRATION_SECONDS

from tests.conftest import SignedInUser, load_event

EXECUTION_NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}$")


@pytest.fixture
def stepfunctions(stub_client):
    return stub_client(on_connect, "stepfunctions", "stepfunctions")


def start_execution_response(name: str = "x") -> dict:
    return {
        "executionArn": f"{on_connect.HANDSHAKE_STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:{name}",
        "startDate": "2026-11-29T12:00:00Z",
    }


def test_connect_starts_the_handshake_for_the_connection(events, lambda_context, stepfunctions):
    stepfunctions.stubber.add_response("start_execution", start_execution_response())

    response = on_connect.handler(events.connect(connection_id="CfF0ed8QoAMCKxQ="), lambda_context)

    assert response == {"statusCode": 200}
    assert stepfunctions.operations() == ["StartExecution"]
    (call,) = stepfunctions.params("StartExecution")
    assert call["stateMachineArn"] == os.environ["HANDSHAKE_STATE_MACHINE_ARN"]
    connected_at = load_event("connect")["requestContext"]["connectedAt"] // 1000
    assert json.loads(call["input"]) == {
        "connection_id": "CfF0ed8QoAMCKxQ=",
        "connected_at": connected_at,
        "expires_at": connected_at + REGISTRATION_SECONDS,
        "user": None,  # a stage without sign-in
        "username_key": None,
    }


def test_a_signed_in_connection_hands_its_user_to_the_handshake(events, lambda_context, stepfunctions):
    stepfunctions.stubber.add_response("start_execution", start_execution_response())
    event = events.connect(connection_id="CfF0ed8QoAMCKxQ=", user=SignedInUser("7d3c6a0e-sub", "Alice"))

    on_connect.handler(event, lambda_context)

    (call,) = stepfunctions.params("StartExecution")
    execution_input = json.loads(call["input"])
    assert execution_input["user"] == {"id": "7d3c6a0e-sub", "name": "Alice"}
    assert execution_input["username_key"] == "alice"  # Cognito compares usernames case-insensitively


def test_the_registry_item_outlives_the_connection(events, lambda_context, stepfunctions):
    """API Gateway closes a connection after 2 hours; its registry item must not expire before that."""
    stepfunctions.stubber.add_response("start_execution", start_execution_response())

    on_connect.handler(events.connect(), lambda_context)

    (call,) = stepfunctions.params("StartExecution")
    execution_input = json.loads(call["input"])
    assert execution_input["expires_at"] - execution_input["connected_at"] > 2 * 60 * 60


@pytest.mark.parametrize(
    "connection_id",
    ["CfF0ed8QoAMCKxQ=", "a+b/c==", "x" * 200, "é ü"],
)
def test_execution_name_is_valid_for_step_functions(events, lambda_context, stepfunctions, connection_id):
    stepfunctions.stubber.add_response("start_execution", start_execution_response())

    on_connect.handler(events.connect(connection_id=connection_id), lambda_context)

    (call,) = stepfunctions.params("StartExecution")
    assert EXECUTION_NAME.match(call["name"]), call["name"]


def test_execution_names_differ_between_connects(events, lambda_context, stepfunctions):
    # Two ids that only differ in characters Step Functions rejects, on two different requests.
    for connection_id, request_id in [("abc=", "req-1"), ("abc+", "req-2")]:
        stepfunctions.stubber.add_response("start_execution", start_execution_response())
        on_connect.handler(events.connect(connection_id=connection_id, request_id=request_id), lambda_context)

    first, second = (call["name"] for call in stepfunctions.params("StartExecution"))
    assert first != second


def test_connect_fails_when_the_handshake_cannot_start(events, lambda_context, stepfunctions):
    stepfunctions.stubber.add_client_error(
        "start_execution", service_error_code="StateMachineDoesNotExist", http_status_code=400
    )

    with pytest.raises(ClientError):
        on_connect.handler(events.connect(), lambda_context)


def test_connect_fails_after_one_retry_when_step_functions_does_not_answer(events, lambda_context, monkeypatch):
    client = stepfunctions_client()
    attempts = []

    def unreachable(request, **_):
        attempts.append(request.url)
        raise EndpointConnectionError(endpoint_url=request.url)

    client.meta.events.register("before-send.sfn.StartExecution", unreachable)
    monkeypatch.setattr(ExponentialBackoff, "delay_amount", lambda self, context: 0)
    monkeypatch.setattr(on_connect, "stepfunctions", client)

    # The client cannot be told (its connection is not open yet): $connect fails, API Gateway refuses it.
    with pytest.raises(EndpointConnectionError):
        on_connect.handler(events.connect(), lambda_context)
    assert len(attempts) == 2
