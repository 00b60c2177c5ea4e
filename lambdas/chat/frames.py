"""The frames the chat sends to clients: the wire format the seed's clients rely on, plus typed fields.

Every frame carries a ``type``. The seed's fields (``connection_id``; ``message``, ``sender_id``,
``recipient_id``) keep their names and meaning; new fields are only ever added.

On a stage with sign-in, the user fields (``user``, ``sender``, ``recipient_users``) are added; on a stage
without, the frames are the tutorial's.
"""

import json
from typing import Any

from chat.users import User


def connection_frame(connection_id: str, user: User | None = None) -> dict[str, Any]:
    frame: dict[str, Any] = {"type": "connection", "connection_id": connection_id}
    if user is not None:
        frame["user"] = user.as_frame()
    return frame


def message_frame(
    *,
    message_id: str,
    message: str,
    sender_id: str,
    sent_at: str,
    recipient_ids: list[str] | None = None,
    recipient_users: list[User] | None = None,
    sender: User | None = None,
    room: str | None = None,
    client_message_id: str | None = None,
) -> dict[str, Any]:
    """Addressed to connections (``recipient_ids``), to people (``recipient_users``) or to a room (its key), only
    one of them."""
    frame: dict[str, Any] = {"type": "message", "message_id": message_id, "message": message, "sender_id": sender_id}
    if sender is not None:
        frame["sender"] = sender.as_frame()
    if room is not None:
        frame["room"] = room
    elif recipient_users:
        frame["recipient_users"] = [user.name for user in recipient_users]
    else:
        # The seed's single recipient; with several recipients, the first one named.
        frame["recipient_id"] = recipient_ids[0]
        frame["recipient_ids"] = recipient_ids
    frame["sent_at"] = sent_at
    if client_message_id is not None:
        frame["client_message_id"] = client_message_id  # the sender's own id for it, echoed
    return frame


def accepted_frame(*, message_id: str, client_message_id: str | None = None, room: str | None = None) -> dict[str, Any]:
    """The answer to a valid sendMessage: the id its message and delivery_failed frames will carry (and the room's
    key, for a message to a room)."""
    frame: dict[str, Any] = {"type": "accepted", "message_id": message_id}
    if room is not None:
        frame["room"] = room
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
