"""The frames clients receive: every frame has a type; the seed's fields keep their names."""

import json

from chat.frames import connection_frame, encode, error_frame, message_frame, route_response


def test_connection_frame():
    assert connection_frame("CfF0ed8QoAMCKxQ=") == {"type": "connection", "connection_id": "CfF0ed8QoAMCKxQ="}


def test_message_frame_keeps_the_seed_fields_and_adds_the_list():
    frame = message_frame(
        message_id="m-1", message="hi", sender_id="s", recipient_ids=["a", "b"], sent_at="2026-11-29T12:00:00.000Z"
    )

    assert frame == {
        "type": "message",
        "message_id": "m-1",
        "message": "hi",
        "sender_id": "s",
        "recipient_id": "a",
        "recipient_ids": ["a", "b"],
        "sent_at": "2026-11-29T12:00:00.000Z",
    }


def test_error_frame_carries_details():
    assert error_frame("bad", "why", valid_actions=["sendMessage"]) == {
        "type": "error",
        "code": "bad",
        "message": "why",
        "valid_actions": ["sendMessage"],
    }


def test_encode_is_compact_json_bytes():
    data = encode({"message": "héllo 👋", "n": 1})

    assert isinstance(data, bytes)
    assert json.loads(data.decode("utf-8")) == {"message": "héllo 👋", "n": 1}
    assert b", " not in data and b'": ' not in data


def test_route_response_is_a_proxy_answer_with_the_frame_as_body():
    """An answer is a 200 unless the integration itself failed: API Gateway counts every 4XX/5XX answer of an
    integration as IntegrationError ("Monitor WebSocket API execution with CloudWatch metrics"), and a client's
    bad frame is not one. The route response forwards the body whatever the status."""
    response = route_response(error_frame("bad", "why"))

    assert response["statusCode"] == 200
    assert json.loads(response["body"]) == {"type": "error", "code": "bad", "message": "why"}
    assert route_response({"type": "x"}, status_code=503)["statusCode"] == 503
