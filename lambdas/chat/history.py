"""Where a message is kept: its conversation (the history table's partition) and its place in it (the sort key),
both fixed by sendMessage before the fan-out starts, so that a second execution of the same message writes the
same item (cdk/data_model.py, MESSAGES)."""

from datetime import datetime

SECONDS_PER_DAY = 24 * 60 * 60


def direct_conversation(username_a: str, username_b: str) -> str:
    """``dm#<a>#<b>``: the two usernames' keys, sorted, so both users' messages to each other share it. A
    username key has no white space, but may hold ``#``: the two are told apart by the sort and nothing parses
    the value back (a history request names the other user, and its conversation is computed again)."""
    first, second = sorted((username_a, username_b))
    return f"dm#{first}#{second}"


def sent_key(*, sent_at: str, message_id: str) -> str:
    """``<sent_at>#<message_id>``: sent_at is ISO 8601 UTC with milliseconds, so keys sort by time as text, and the
    message id tells apart messages of one millisecond."""
    return f"{sent_at}#{message_id}"


def expires_at(*, sent_at: str, retention_days: int) -> int:
    """When DynamoDB may delete the item (its TTL attribute: seconds since the epoch)."""
    sent = datetime.fromisoformat(sent_at.replace("Z", "+00:00"))
    return int(sent.timestamp()) + retention_days * SECONDS_PER_DAY
