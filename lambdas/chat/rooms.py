"""Room names, stated once for every frame that names a room (joinRoom, leaveRoom, inviteToRoom, roomMembers,
sendMessage and history with ``room``).

A room name is 1 to 64 characters of ``[A-Za-z0-9_-]`` and case-insensitive: the tables key a room by its name in
lower case (cdk/data_model.py, ROOMS), and every frame about a room carries that key.
"""

import re

from chat.requests import InvalidRequest, quoted

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
