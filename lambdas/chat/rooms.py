"""Room names, stated once for every frame that names a room (joinRoom, leaveRoom, inviteToRoom, roomMembers,
sendMessage and history with ``room``).

A room name is 1 to 64 characters of ``[A-Za-z0-9_-]`` and case-insensitive: the tables key a room by its name in
lower case (cdk/data_model.py, ROOMS), and every frame about a room carries that key.
"""

import re

from chat.requests import InvalidRequest, check_username, parse_body, quoted
from chat.users import username_key

MAX_ROOM_NAME_LENGTH = 64
ROOM_NAME = re.compile(rf"[A-Za-z0-9_-]{{1,{MAX_ROOM_NAME_LENGTH}}}")
# Who may join a room: anyone (open), or only whom a member invites (invite). Set by the room's first joinRoom.
POLICIES = ("open", "invite")
DEFAULT_POLICY = "open"


def room_key(name: object) -> str:
    """The room's key (its name in lower case), or InvalidRequest('invalid_room') for anything that is not a room
    name."""
    if not isinstance(name, str) or ROOM_NAME.fullmatch(name) is None:
        raise InvalidRequest(
            "invalid_room",
            f"{quoted(name)} is not a room name: room names are 1 to {MAX_ROOM_NAME_LENGTH} characters of "
            "A-Z, a-z, 0-9, '_' and '-' (not case-sensitive)",
        )
    return name.lower()


# --- the room frames --------------------------------------------------------------------------------------------

# The actions about rooms, each routed to lambdas/rooms.py: the first three change a membership (room_change
# workflow), the last two only read (room_listing workflow).
CHANGES = ("joinRoom", "leaveRoom", "inviteToRoom")
LISTINGS = ("listRooms", "roomMembers")
ACTIONS = CHANGES + LISTINGS


def parse_room_request(body: str | None) -> dict[str, str]:
    """What a room frame asks for: ``action``, and ``room`` (its key) unless it is listRooms, ``policy`` for joinRoom
    (default open; used only when the join creates the room), ``invitee`` (the frame's ``user``, as a username key)
    for inviteToRoom. Anything else: InvalidRequest (``invalid_room`` for a bad or missing room name)."""
    payload = parse_body(body)
    action = payload.get("action")
    if action not in ACTIONS:
        raise InvalidRequest("invalid_request", f"action: {quoted(action)} is not one of {', '.join(ACTIONS)}")
    request = {"action": action}
    if action != "listRooms":
        request["room"] = room_key(payload.get("room"))
    if action == "joinRoom":
        policy = payload.get("policy", DEFAULT_POLICY)
        if policy not in POLICIES:
            raise InvalidRequest("invalid_request", f"policy: {quoted(policy)} is not one of {', '.join(POLICIES)}")
        request["policy"] = policy
    if action == "inviteToRoom":
        user = payload.get("user")
        if not isinstance(user, str):
            raise InvalidRequest("invalid_request", "user: give the username of the user to invite")
        try:
            check_username(user)
        except ValueError as error:
            raise InvalidRequest("invalid_request", f"user: {error}") from None
        request["invitee"] = username_key(user)
    return request
