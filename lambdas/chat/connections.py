"""Posting frames to WebSocket connections through API Gateway's @connections API.

API Gateway's answers become exceptions whose class names the state machines retry or catch on
(Step Functions uses a Lambda error's type as the ASL error name).
"""

from typing import Any

from botocore.exceptions import ClientError

from chat.frames import encode


class ConnectionGone(Exception):
    """410: the connection is not open (not yet, or no longer)."""


class ConnectionThrottled(Exception):
    """429: API Gateway throttled the post; safe to retry later."""


def post_frame(client: Any, connection_id: str, frame: dict[str, Any]) -> None:
    try:
        client.post_to_connection(ConnectionId=connection_id, Data=encode(frame))
    except ClientError as error:
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        code = error.response.get("Error", {}).get("Code", "")
        if status == 410 or code == "GoneException":
            raise ConnectionGone(f"connection {connection_id} is gone") from None
        if status == 429 or code in ("LimitExceededException", "TooManyRequestsException", "ThrottlingException"):
            raise ConnectionThrottled(f"posting to {connection_id} was throttled") from None
        raise
