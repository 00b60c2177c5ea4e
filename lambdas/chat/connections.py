"""Posting frames to WebSocket connections through API Gateway's @connections API.

API Gateway's answers become exceptions whose class names the state machines retry or catch on
(Step Functions uses a Lambda error's type as the ASL error name).
"""

import time
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


# A new connection is opened by API Gateway only once $connect has returned (AWS Knowledge Center,
# "410 Gone" from @connections), and the handshake's post can arrive just before that. So a 410 is
# posted again after short pauses, for at most OPENING_BUDGET_SECONDS: with one last post's connect and
# read bounds, that must end within the function's timeout (checked by chat/clients.py). A connection that takes
# longer is left to the state machine's Retry (whole seconds), the backstop.
OPENING_RETRY_DELAYS_SECONDS = (0.025, 0.05, 0.1, 0.2, 0.4)
OPENING_BUDGET_SECONDS = 1.5
# A connection is registered (connection_handshake) before it opens, so a post to a registered connection can
# answer 410 because it is still opening: the handshake gives it at most 1.5 + 1 + 1.5 + 2 + 1.5 s (its task's
# budget, then its Retry's two attempts). message_fanout forgets a gone connection only when it was registered
# longer ago than this.
STILL_OPENING_SECONDS = 10
# How long a registry item lives (DynamoDB TTL): beyond API Gateway's 2-hour connection lifetime, so that
# no open connection is ever expired; an item whose $disconnect never came goes then, or at the first 410.
REGISTRATION_SECONDS = 3 * 60 * 60


def post_frame_once_open(client: Any, connection_id: str, frame: dict[str, Any]) -> int:
    """Post ``frame`` to a connection that may not be open yet; return how many posts it took.

    Raises ConnectionGone when the connection is still not open after the last pause.
    """
    deadline = time.monotonic() + OPENING_BUDGET_SECONDS
    for attempt, delay in enumerate(OPENING_RETRY_DELAYS_SECONDS, start=1):
        try:
            post_frame(client, connection_id, frame)
            return attempt
        except ConnectionGone:
            if time.monotonic() + delay > deadline:
                raise
            time.sleep(delay)
    post_frame(client, connection_id, frame)
    return len(OPENING_RETRY_DELAYS_SECONDS) + 1
