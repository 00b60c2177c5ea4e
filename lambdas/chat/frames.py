"""The frames the chat sends to clients: the wire format the seed's clients rely on, plus typed fields.

Every frame carries a ``type``. The seed's fields (``connection_id``; ``message``, ``sender_id``,
``recipient_id``) keep their names and meaning; new fields are only ever added.
"""

import json
from typing import Any


def connection_frame(connection_id: str) -> dict[str, Any]:
    return {"type": "connection", "connection_id": connection_id}


def message_frame(
    *,
    message_id: str,
    message: str,
    sender_id: str,
    recipient_ids: list[str],
    sent_at: str,
    client_message_id: str | None = None,
) -> dict[str, Any]:
    frame = {
        "type": "message",
        "message_id": message_id,
        "message": message,
        "sender_id": sender_id,
        # The seed's single recipient; with several recipients, the first one named.
        "recipient_id": recipient_ids[0],
        "recipient_ids": recipient_ids,
        "sent_at": sent_at,
    }
    if client_message_id is not None:
        frame["client_message_id"] = client_message_id  # the sender's own id for it, echoed
    return frame


def accepted_frame(*, message_id: str, client_message_id: str | None = None) -> dict[str, Any]:
    """The answer to a valid sendMessage: the id its message and delivery_failed frames will carry."""
    frame = {"type": "accepted", "message_id": message_id}
    if client_message_id is not None:
        frame["client_message_id"] = client_message_id
    return frame


def error_frame(code: str, message: str, **details: Any) -> dict[str, Any]:
    return {"type": "error", "code": code, "message": message, **details}


def encode(frame: dict[str, Any]) -> bytes:
    return json.dumps(frame, separators=(",", ":")).encode("utf-8")


def route_response(frame: dict[str, Any], *, status_code: int = 200) -> dict[str, Any]:
    """A Lambda proxy answer whose body API Gateway's route response sends back to the caller, whatever its status.

    200 unless the integration itself failed (``not_sent``: 503): API Gateway counts every 4XX/5XX answer of an
    integration as the API's IntegrationError ("Monitor WebSocket API execution with CloudWatch metrics"), which
    alarms; a client's invalid frame is the client's error, counted as RejectedInputs instead."""
    return {"statusCode": status_code, "body": encode(frame).decode("utf-8")}
