"""message_fanout's inputs (to connections and users, or to a room), as sendMessage starts it (pure: the
benchmarks build the same input to start a fan-out larger than a client may ask for)."""

import time

from chat.connections import STILL_OPENING_SECONDS
from chat.frames import error_frame
from chat.history import direct_conversation, expires_at, room_conversation, sent_key
from chat.users import User


def fanout_input(
    *,
    sender_id: str,
    sender: User | None,
    connection_ids: list[str],
    recipient_users: list[User],
    frame: dict,
    retention_days: int,
) -> dict:
    """message_fanout's input. ``connection_ids`` (and ``targets[0]``) list the connections named, the sender's
    own first: it always gets its copy, as in the seed, and a connection named twice is delivered to once. The
    other targets are the users whose connections the workflow looks up: the sender (their other tabs see what
    they sent) and each recipient user. ASL tests only fields that are there: targets[0]'s username is null."""
    named = {"connection_ids": list(dict.fromkeys([sender_id, *connection_ids])), "username": None}
    users = {}
    if sender is not None:
        users[sender.key] = {"username": sender.key, "name": sender.name, "recipient": False}
    for user in recipient_users:
        users[user.key] = {"username": user.key, "name": user.name, "recipient": True}
    targets = [named, *users.values()]
    target_of = {target["username"]: index for index, target in enumerate(targets) if target["username"]}
    return {
        "sender_id": sender_id,
        # Also on its own: a path into a list item ($.targets[0]...) reads wrongly on moto's interpreter.
        "connection_ids": named["connection_ids"],
        "targets": targets,
        "look_up_users": bool(users),
        "frame": frame,
        "history": history_items(
            sender=sender, recipient_users=recipient_users, frame=frame, days=retention_days, target_of=target_of
        ),
        # A gone connection registered since then may still be opening: the fan-out does not forget it.
        "registered_before": int(time.time()) - STILL_OPENING_SECONDS,
        "room": None,  # present, so that the fan-out's room choice reads a value (moto logs every missing path)
    }


def room_fanout_input(*, sender_id: str, sender: User, room: str, frame: dict, retention_days: int) -> dict:
    """message_fanout's input for a message to a room: the fields its shared delivery reads (connection_ids: the
    sender's own connection, always delivered to, first; registered_before; frame), nothing for the direct path to
    look up or store, and ``room``: what the room's branch checks (the sender's membership), stores (once, under
    the room's conversation, keyed as a direct message is) and answers (the frames refusing a non-member, saying
    the message was not sent when the membership could not be read, or not kept, worded here)."""
    client_message_id = frame.get("client_message_id")
    echo = {"client_message_id": client_message_id} if client_message_id else {}
    return {
        "sender_id": sender_id,
        "connection_ids": [sender_id],
        "targets": [{"connection_ids": [sender_id], "username": None}],
        "look_up_users": False,
        "frame": frame,
        "history": {"store": False, "items": []},
        "registered_before": int(time.time()) - STILL_OPENING_SECONDS,
        "room": {
            "key": room,
            "username": sender.key,
            "store": {
                "conversation": room_conversation(room),
                "sent_key": sent_key(sent_at=frame["sent_at"], message_id=frame["message_id"]),
                "expires_at": expires_at(sent_at=frame["sent_at"], retention_days=retention_days),
            },
            # The members' live connection sets, as the fan-out reads them (lists of {"SS": [...]} per batch of
            # members), start with the sender's own connection: the list it flattens is then never empty, which a
            # JSONPath with two wildcards needs on moto's interpreter, and the sender's connection comes first.
            "own_sets": [[{"SS": [sender_id]}]],
            "lookup_error": None,
            "refusal": error_frame(
                "not_a_member",
                f"you are not a member of room {room!r}: join it first (joinRoom); the message was not sent",
                room=room,
                message_id=frame["message_id"],
                **echo,
            ),
            "not_sent": error_frame(
                "not_sent",
                "the message was not sent; please try again",
                room=room,
                message_id=frame["message_id"],
                **echo,
            ),
            "not_stored": {
                "type": "delivery_failed",
                "reason": "not_stored",
                "room": room,
                "message_id": frame["message_id"],
                "failures": [],
                "stored": False,
                "note": "It could not be stored: members who are not online now will not see it; please send it again.",
                **echo,
            },
        },
    }


def history_items(
    *, sender: User | None, recipient_users: list[User], frame: dict, days: int, target_of: dict[str, int]
) -> dict:
    """Where message_fanout stores the message before it delivers it: once in the direct conversation of the
    sender with each recipient user. A message to connection ids is not kept: a connection is nobody's to read
    it back later. ``store`` is false when there is nothing to keep (ASL tests a flag, not a list's length).

    Each item's ``with_target`` is the recipient's place in ``targets`` (the sender's is 1): the fan-out then moves
    both users' conversations forward (their usernames and names are in those targets). An index, not a copy of
    the names: the largest input (20 recipients, the longest names) is within a few hundred bytes of Step
    Functions' 256 KiB (tests/unit/test_frame_sizes.py)."""
    if sender is None:
        return {"store": False, "items": []}
    place = sent_key(sent_at=frame["sent_at"], message_id=frame["message_id"])
    expiry = expires_at(sent_at=frame["sent_at"], retention_days=days)
    items = {
        direct_conversation(sender.key, user.key): {
            "conversation": direct_conversation(sender.key, user.key),
            "sent_key": place,
            "expires_at": expiry,
            "with_target": target_of[user.key],
        }
        for user in recipient_users
    }
    return {"store": bool(items), "items": list(items.values())}
