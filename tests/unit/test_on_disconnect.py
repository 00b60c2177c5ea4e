"""$disconnect records why a connection closed."""

import logging

import on_disconnect
import pytest
from pydantic import ValidationError


def test_disconnect_is_acknowledged_and_its_reason_logged(events, lambda_context, caplog):
    event = events.disconnect(connection_id="CfF0ed8QoAMCKxQ=", status_code=1006, reason="Connection reset")

    with caplog.at_level(logging.INFO):
        assert on_disconnect.handler(event, lambda_context) == {"statusCode": 200}

    (record,) = [r for r in caplog.records if r.getMessage() == "connection closed"]
    assert record.status_code == 1006
    assert record.reason == "Connection reset"


def test_disconnect_rejects_an_event_of_another_route(events, lambda_context):
    with pytest.raises(ValidationError):
        on_disconnect.handler(events.connect(), lambda_context)
