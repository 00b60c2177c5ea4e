"""$disconnect records why a connection closed and starts the workflow that removes it from the registry."""

import json
import logging
import re

import on_disconnect
import pytest
from botocore.exceptions import ClientError
from pydantic import ValidationError


@pytest.fixture
def stepfunctions(stub_client):
    return stub_client(on_disconnect, "stepfunctions", "stepfunctions")


def accept_start(stepfunctions) -> None:
    stepfunctions.stubber.add_response(
        "start_execution",
        {"executionArn": f"{on_disconnect.CLEANUP_STATE_MACHINE_ARN}:x", "startDate": "2026-11-29T12:00:00Z"},
    )


def test_disconnect_is_acknowledged_and_its_reason_logged(events, lambda_context, caplog, stepfunctions):
    accept_start(stepfunctions)
    event = events.disconnect(connection_id="CfF0ed8QoAMCKxQ=", status_code=1006, reason="Connection reset")

    with caplog.at_level(logging.INFO):
        assert on_disconnect.handler(event, lambda_context) == {"statusCode": 200}

    (record,) = [r for r in caplog.records if r.getMessage() == "connection closed"]
    assert record.status_code == 1006
    assert record.reason == "Connection reset"


def test_disconnect_starts_the_cleanup_of_that_connection(events, lambda_context, stepfunctions):
    accept_start(stepfunctions)

    on_disconnect.handler(events.disconnect(connection_id="CfF0ed8QoAMCKxQ="), lambda_context)

    (call,) = stepfunctions.params("StartExecution")
    assert call["stateMachineArn"] == on_disconnect.CLEANUP_STATE_MACHINE_ARN
    assert json.loads(call["input"]) == {"connection_id": "CfF0ed8QoAMCKxQ=", "registered_before": None}
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,80}", call["name"]) and call["name"].startswith("CfF0ed8QoAMCKxQ_")


def test_a_cleanup_that_cannot_start_fails_the_invocation(events, lambda_context, stepfunctions):
    """Lambda's error metric (and the function's Fault alarm) tells; the registry item still goes at the first
    410 or when it expires."""
    stepfunctions.stubber.add_client_error("start_execution", service_error_code="ThrottlingException")

    with pytest.raises(ClientError):
        on_disconnect.handler(events.disconnect(), lambda_context)


def test_disconnect_rejects_an_event_of_another_route(events, lambda_context):
    with pytest.raises(ValidationError):
        on_disconnect.handler(events.connect(), lambda_context)
