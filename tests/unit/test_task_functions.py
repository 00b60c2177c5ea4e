"""The workflow tasks post one frame to one connection and turn API Gateway's answers into named errors.

Step Functions retries and catches on the Lambda error type, so the exception class names are the contract.
"""

import json

import deliver_message
import pytest
import send_connection_id
from botocore.exceptions import ClientError
from chat.clients import CONNECTIONS_CONFIG, FUNCTION_TIMEOUT_SECONDS
from chat.connections import (
    OPENING_BUDGET_SECONDS,
    OPENING_RETRY_DELAYS_SECONDS,
    ConnectionGone,
    ConnectionThrottled,
)
from pydantic import ValidationError

CONNECTION = "CfF2b3hQoAMCJ-g="


@pytest.fixture
def gateway(stub_client):
    """Both task modules' @connections clients, stubbed; which one a test drives is its own business."""
    return {
        send_connection_id: stub_client(send_connection_id, "connections", "apigatewaymanagementapi"),
        deliver_message: stub_client(deliver_message, "connections", "apigatewaymanagementapi"),
    }


def posted_frames(stub) -> list[tuple[str, dict]]:
    return [(params["ConnectionId"], json.loads(params["Data"])) for params in stub.params("PostToConnection")]


def test_send_connection_id_tells_the_client_its_id(events, lambda_context, gateway):
    stub = gateway[send_connection_id]
    stub.stubber.add_response("post_to_connection", {})

    result = send_connection_id.handler(events.handshake_task(connection_id=CONNECTION), lambda_context)

    assert result == {"connection_id": CONNECTION, "status": "delivered"}
    assert posted_frames(stub) == [(CONNECTION, {"type": "connection", "connection_id": CONNECTION})]


def gone(stub, times: int) -> None:
    for _ in range(times):
        stub.stubber.add_client_error("post_to_connection", service_error_code="GoneException", http_status_code=410)


def test_connection_not_open_yet_is_posted_again_within_the_function(events, lambda_context, gateway):
    stub = gateway[send_connection_id]
    gone(stub, times=2)
    stub.stubber.add_response("post_to_connection", {})

    result = send_connection_id.handler(events.handshake_task(connection_id=CONNECTION), lambda_context)

    assert result == {"connection_id": CONNECTION, "status": "delivered"}
    assert posted_frames(stub) == [(CONNECTION, {"type": "connection", "connection_id": CONNECTION})] * 3
    stub.stubber.assert_no_pending_responses()


def test_connection_that_never_opens_fails_the_task_after_bounded_pauses(events, lambda_context, gateway):
    stub = gateway[send_connection_id]
    gone(stub, times=len(OPENING_RETRY_DELAYS_SECONDS) + 1)

    with pytest.raises(ConnectionGone) as raised:
        send_connection_id.handler(events.handshake_task(connection_id=CONNECTION), lambda_context)

    assert type(raised.value).__name__ == "ConnectionGone"  # what the state machine's backstop retries
    assert 1 < len(posted_frames(stub)) <= len(OPENING_RETRY_DELAYS_SECONDS) + 1
    # Pauses in tens of milliseconds, and the last post still bounded by the client's timeouts.
    assert min(OPENING_RETRY_DELAYS_SECONDS) < 0.1
    last_post = CONNECTIONS_CONFIG.connect_timeout + CONNECTIONS_CONFIG.read_timeout
    assert OPENING_BUDGET_SECONDS + last_post < FUNCTION_TIMEOUT_SECONDS


def test_send_connection_id_does_not_retry_other_errors(events, lambda_context, gateway):
    stub = gateway[send_connection_id]
    stub.stubber.add_client_error("post_to_connection", service_error_code="ForbiddenException", http_status_code=403)

    with pytest.raises(ClientError):
        send_connection_id.handler(events.handshake_task(connection_id=CONNECTION), lambda_context)

    assert len(posted_frames(stub)) == 1


def test_deliver_message_posts_the_frame_unchanged(events, lambda_context, gateway):
    stub = gateway[deliver_message]
    stub.stubber.add_response("post_to_connection", {})
    task = events.delivery_task(connection_id=CONNECTION)

    result = deliver_message.handler(task, lambda_context)

    assert result == {"connection_id": CONNECTION, "status": "delivered"}
    assert posted_frames(stub) == [(CONNECTION, task["frame"])]


def test_posted_bytes_are_utf8_json(events, lambda_context, gateway):
    stub = gateway[deliver_message]
    stub.stubber.add_response("post_to_connection", {})
    frame = {"type": "message", "message": "héllo 👋", "message_id": "m-1"}

    deliver_message.handler(events.delivery_task(connection_id=CONNECTION, frame=frame), lambda_context)

    (params,) = stub.params("PostToConnection")
    assert isinstance(params["Data"], bytes)
    assert json.loads(params["Data"].decode("utf-8")) == frame


TASKS = {
    "send_connection_id": (send_connection_id, lambda events: events.handshake_task(connection_id=CONNECTION)),
    "deliver_message": (deliver_message, lambda events: events.delivery_task(connection_id=CONNECTION)),
}


@pytest.mark.parametrize("task_name", list(TASKS))
@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (429, "LimitExceededException", ConnectionThrottled),
        (429, "TooManyRequestsException", ConnectionThrottled),
    ],
)
def test_gateway_answers_become_the_errors_the_workflows_handle(
    events, lambda_context, gateway, task_name, status, code, expected
):
    module, make_event = TASKS[task_name]
    gateway[module].stubber.add_client_error("post_to_connection", service_error_code=code, http_status_code=status)

    with pytest.raises(expected) as raised:
        module.handler(make_event(events), lambda_context)

    assert type(raised.value).__name__ == expected.__name__
    assert CONNECTION in str(raised.value)


@pytest.mark.parametrize("task_name", list(TASKS))
@pytest.mark.parametrize(
    ("status", "code"), [(403, "ForbiddenException"), (413, "PayloadTooLargeException"), (500, "InternalServerError")]
)
def test_other_gateway_errors_propagate(events, lambda_context, gateway, task_name, status, code):
    module, make_event = TASKS[task_name]
    gateway[module].stubber.add_client_error("post_to_connection", service_error_code=code, http_status_code=status)

    with pytest.raises(ClientError) as raised:
        module.handler(make_event(events), lambda_context)

    assert raised.value.response["Error"]["Code"] == code


@pytest.mark.parametrize(
    ("module", "task"),
    [
        (send_connection_id, {}),
        (send_connection_id, {"connection_id": ""}),
        (deliver_message, {"connection_id": CONNECTION}),
        (deliver_message, {"connection_id": "", "frame": {"type": "message"}}),
        (deliver_message, {"connection_id": CONNECTION, "frame": "not an object"}),
    ],
)
def test_malformed_task_input_is_rejected_before_posting(lambda_context, gateway, module, task):
    with pytest.raises(ValidationError):
        module.handler(task, lambda_context)

    assert gateway[module].operations() == []
