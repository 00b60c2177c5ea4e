"""The handshake's task posts the connection frame, waits out a connection that is not open yet, and turns
API Gateway's answers into named errors.

Step Functions retries and catches on the Lambda error type, so the exception class names are the contract.
"""

import pytest
import send_connection_id
from botocore.exceptions import ClientError
from chat.connections import (
    OPENING_RETRY_DELAYS_SECONDS,
    ConnectionGone,
    ConnectionThrottled,
)
from pydantic import ValidationError

from tests.conftest import SignedInUser
from tests.protocol import server_frame

CONNECTION = "CfF2b3hQoAMCJ-g="


@pytest.fixture
def gateway(stub_client):
    """The task's @connections client, stubbed."""
    return stub_client(send_connection_id, "connections", "apigatewaymanagementapi")


def posted_frames(stub) -> list[tuple[str, dict]]:
    return [(params["ConnectionId"], server_frame(params["Data"])) for params in stub.params("PostToConnection")]


def test_send_connection_id_tells_the_client_its_id(events, lambda_context, gateway):
    stub = gateway
    stub.stubber.add_response("post_to_connection", {})

    result = send_connection_id.handler(events.handshake_task(connection_id=CONNECTION), lambda_context)

    assert result == {"connection_id": CONNECTION, "status": "delivered"}
    assert posted_frames(stub) == [(CONNECTION, {"type": "connection", "connection_id": CONNECTION})]


def test_a_signed_in_client_is_told_who_it_is_with_its_id(events, lambda_context, gateway):
    gateway.stubber.add_response("post_to_connection", {})
    task = events.handshake_task(connection_id=CONNECTION, user=SignedInUser("sub-alice", "Alice"))
    task |= {"connected_at": 1795953600, "expires_at": 1795964400, "username_key": "alice"}  # the whole input

    send_connection_id.handler(task, lambda_context)

    assert posted_frames(gateway) == [
        (CONNECTION, {"type": "connection", "connection_id": CONNECTION, "user": {"id": "sub-alice", "name": "Alice"}})
    ]


def gone(stub, times: int) -> None:
    for _ in range(times):
        stub.stubber.add_client_error("post_to_connection", service_error_code="GoneException", http_status_code=410)


def test_connection_not_open_yet_is_posted_again_within_the_function(events, lambda_context, gateway):
    stub = gateway
    gone(stub, times=2)
    stub.stubber.add_response("post_to_connection", {})

    result = send_connection_id.handler(events.handshake_task(connection_id=CONNECTION), lambda_context)

    assert result == {"connection_id": CONNECTION, "status": "delivered"}
    assert posted_frames(stub) == [(CONNECTION, {"type": "connection", "connection_id": CONNECTION})] * 3
    stub.stubber.assert_no_pending_responses()


def test_connection_that_never_opens_fails_the_task_after_bounded_pauses(events, lambda_context, gateway):
    stub = gateway
    gone(stub, times=len(OPENING_RETRY_DELAYS_SECONDS) + 1)

    with pytest.raises(ConnectionGone) as raised:
        send_connection_id.handler(events.handshake_task(connection_id=CONNECTION), lambda_context)

    assert type(raised.value).__name__ == "ConnectionGone"  # what the state machine's backstop retries
    assert 1 < len(posted_frames(stub)) <= len(OPENING_RETRY_DELAYS_SECONDS) + 1
    # Pauses in tens of milliseconds; the function's cold start checks the budget fits its timeout.
    assert min(OPENING_RETRY_DELAYS_SECONDS) < 0.1


@pytest.mark.parametrize("code", ["LimitExceededException", "TooManyRequestsException"])
def test_throttling_becomes_the_error_the_workflow_retries(events, lambda_context, gateway, code):
    gateway.stubber.add_client_error("post_to_connection", service_error_code=code, http_status_code=429)

    with pytest.raises(ConnectionThrottled) as raised:
        send_connection_id.handler(events.handshake_task(connection_id=CONNECTION), lambda_context)

    assert type(raised.value).__name__ == "ConnectionThrottled"
    assert CONNECTION in str(raised.value)
    assert len(gateway.params("PostToConnection")) == 1


@pytest.mark.parametrize(
    ("status", "code"), [(403, "ForbiddenException"), (413, "PayloadTooLargeException"), (500, "InternalServerError")]
)
def test_other_gateway_errors_propagate_without_posting_again(events, lambda_context, gateway, status, code):
    gateway.stubber.add_client_error("post_to_connection", service_error_code=code, http_status_code=status)

    with pytest.raises(ClientError) as raised:
        send_connection_id.handler(events.handshake_task(connection_id=CONNECTION), lambda_context)

    assert raised.value.response["Error"]["Code"] == code
    assert len(gateway.params("PostToConnection")) == 1


@pytest.mark.parametrize("task", [{}, {"connection_id": ""}, {"connection_id": 42}])
def test_malformed_task_input_is_rejected_before_posting(lambda_context, gateway, task):
    with pytest.raises(ValidationError):
        send_connection_id.handler(task, lambda_context)

    assert gateway.operations() == []
