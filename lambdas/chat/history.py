"""Where a message is kept: its conversation (the history table's partition) and its place in it (the sort key),
both fixed by sendMessage before the fan-out starts, so that a second execution of the same message writes the
same item (cdk/data_model.py, MESSAGES)."""

import base64
import binascii
import json
import re
from datetime import datetime

SECONDS_PER_DAY = 24 * 60 * 60


def direct_conversation(username_a: str, username_b: str) -> str:
    """``dm#<a> <b>``: the two usernames' keys, sorted, so both users' messages to each other share it. A username
    may hold ``#`` but never white space (Cognito's usernames, and chat.requests.USERNAME), so the space keeps any
    two pairs of users apart: with ``#`` between them, x#y and z would share x and y#z's conversation."""
    first, second = sorted((username_a, username_b))
    return f"dm#{first} {second}"


def room_conversation(room: str) -> str:
    """``room#<room key>``: every message to a room, in one partition (a room's key never holds white space, so it is
    never a direct conversation's)."""
    return f"room#{room}"


def sent_key(*, sent_at: str, message_id: str) -> str:
    """``<sent_at>#<message_id>``: sent_at is ISO 8601 UTC with milliseconds, so keys sort by time as text, and the
    message id tells apart messages of one millisecond."""
    return f"{sent_at}#{message_id}"


def expires_at(*, sent_at: str, retention_days: int) -> int:
    """When DynamoDB may delete the item (its TTL attribute: seconds since the epoch)."""
    sent = datetime.fromisoformat(sent_at.replace("Z", "+00:00"))
    return int(sent.timestamp()) + retention_days * SECONDS_PER_DAY


# --- reading it back --------------------------------------------------------------------------------

# A sort key as sent_key writes it: sent_at (ISO 8601 UTC, milliseconds) '#' a message id (a UUID).
SENT_KEY = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z#[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
)
# base64url without padding of a sent key (61 characters): 82 characters.
CURSOR = re.compile(r"[A-Za-z0-9_-]{1,128}")
# API Gateway's frame limit: each history frame stays under it (its end marker too).
MAX_FRAME_BYTES = 32 * 1024


class InvalidCursor(ValueError):
    """A cursor this chat did not hand out (tampered with, cut short, or from elsewhere)."""


def cursor_of(key: str) -> str:
    """The opaque cursor a client sends back as ``before`` for the next (older) page: the last sort key read."""
    return base64.urlsafe_b64encode(key.encode("ascii")).decode("ascii").rstrip("=")


def key_of(cursor: str) -> str:
    """The sort key a cursor stands for; InvalidCursor unless it decodes to exactly that shape. The query is bounded
    by the caller's own conversation whatever the cursor says: it only ever chooses a place in it."""
    if not isinstance(cursor, str) or CURSOR.fullmatch(cursor) is None:
        raise InvalidCursor("before is not a cursor this chat handed out")
    try:
        key = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidCursor("before is not a cursor this chat handed out") from None
    if SENT_KEY.fullmatch(key) is None or cursor_of(key) != cursor:
        raise InvalidCursor("before is not a cursor this chat handed out")
    return key


def history_frames(
    *, with_user: str | None = None, room: str | None = None, items: list[dict], limit: int
) -> list[dict]:
    """A page of stored messages (newest first, as queried) as ``history`` frames, each under MAX_FRAME_BYTES
    encoded (a message too large for one shares a frame with no other), then the ``history_end`` marker, whose
    ``before`` is the cursor of the next, older page (null when this page is the last). Every frame names the
    conversation as the request did: ``with`` the other user, or ``room`` (the room's key)."""
    about = {"room": room} if room is not None else {"with": with_user}
    frames: list[dict] = []
    batch: list[dict] = []
    size = _encoded_size(_history_frame(about, []))
    for item in items:
        message = json.loads(item["frame"])
        grown = _encoded_size(message) + (2 if batch else 0)  # the ", " between two messages
        if batch and size + grown > MAX_FRAME_BYTES:
            frames.append(_history_frame(about, batch))
            batch, size = [], _encoded_size(_history_frame(about, []))
            grown = _encoded_size(message)
        batch.append(message)
        size += grown
    if batch:
        frames.append(_history_frame(about, batch))
    more = len(items) >= limit and items
    end = {
        "type": "history_end",
        **about,
        "count": len(items),
        "before": cursor_of(items[-1]["sent_key"]) if more else None,
    }
    return [*frames, end]


def _history_frame(about: dict, messages: list[dict]) -> dict:
    return {"type": "history", **about, "messages": messages}


def _encoded_size(frame: dict) -> int:
    """The frame's largest JSON encoding: a space after each separator and every non-ASCII character escaped
    (\\uXXXX, 12 bytes for an emoji) is at least as long as any other encoding a poster may choose."""
    return len(json.dumps(frame, ensure_ascii=True))
