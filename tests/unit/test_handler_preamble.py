"""What every handler shares (chat.observability.handles): its event parsed with its model, and every log
line tagged with the connection it serves, afresh on each call of a warm function."""

import on_connect
import on_default
import on_disconnect
import pytest
import send_connection_id
from pydantic import ValidationError

FIRST = "CfF0ed8QoAMCKxQ="
SECOND = "CfF2b3hQoAMCJ-g="


def connect(events, stub_client, connection_id):
    stub = stub_client(on_connect, "stepfunctions", "stepfunctions")
    stub.stubber.add_response(
        "start_execution", {"executionArn": f"{on_connect.HANDSHAKE_STATE_MACHINE_ARN}:x", "startDate": "2026-01-01"}
    )
    return on_connect.handler, events.connect(connection_id=connection_id), "handshake started"


def disconnect(events, stub_client, connection_id):
    stub = stub_client(on_disconnect, "stepfunctions", "stepfunctions")
    stub.stubber.add_response(
        "start_execution", {"executionArn": f"{on_disconnect.CLEANUP_STATE_MACHINE_ARN}:x", "startDate": "2026-01-01"}
    )
    return on_disconnect.handler, events.disconnect(connection_id=connection_id), "connection closed"


def default(events, stub_client, connection_id):
    return on_default.handler, events.default(connection_id=connection_id), "rejected frame"


def handshake_task(events, stub_client, connection_id):
    stub_client(send_connection_id, "connections", "apigatewaymanagementapi").stubber.add_response(
        "post_to_connection", {}
    )
    return send_connection_id.handler, events.handshake_task(connection_id=connection_id), "connection id sent"


HANDLERS = [connect, disconnect, default, handshake_task]


@pytest.mark.parametrize("invocation", HANDLERS, ids=lambda invocation: invocation.__name__)
def test_every_line_names_the_connection_of_this_call(events, lambda_context, stub_client, log_lines, invocation):
    for connection_id in (FIRST, SECOND):  # one warm function, two calls
        handler, event, message = invocation(events, stub_client, connection_id)
        handler(event, lambda_context)

    lines = [line for line in log_lines() if line["message"] == message]
    assert [(line["correlation_id"], line["connection_id"]) for line in lines] == [(FIRST, FIRST), (SECOND, SECOND)]
    assert {line["function_request_id"] for line in lines} <= {lambda_context.aws_request_id}


@pytest.mark.parametrize("invocation", HANDLERS, ids=lambda invocation: invocation.__name__)
def test_an_event_of_another_shape_fails_the_invocation(events, lambda_context, stub_client, invocation):
    handler, _, _ = invocation(events, stub_client, FIRST)

    with pytest.raises(ValidationError):
        handler({"unexpected": "shape"}, lambda_context)
