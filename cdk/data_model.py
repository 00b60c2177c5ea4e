"""The chat's DynamoDB data model, stated once: the tables' keys, index and time to live, as the stack creates
them (cdk/tables.py), the state machines read and write them (statemachines/), and the workflow tests create
them on the local engine. README, "Data model", says why each is so.

- connections: the connection registry, one item per open connection: ``connection_id`` (key), ``connected_at``
  and ``expires_at`` (seconds since the epoch; the TTL attribute), and on a stage with sign-in ``user_id``
  (Cognito's sub) and ``username`` (the username's key, lower-case). The ``by_username`` index (username ->
  connection_id, keys only) finds every connection of a user; items without a username (a stage without
  sign-in) are in no index entry (a sparse index).
- users: the directory of users who ever connected: ``username`` (key, lower-case), ``user_id``, ``name`` (as
  Cognito has it); ``room_count``: how many rooms the user is a member of (kept by the same transaction that adds
  or removes the membership, so the rooms-per-user limit holds); ``live_connections``: a string set of the user's
  open connection ids (presence: a user is online while it is not empty; DynamoDB removes an empty set, so an
  absent attribute means offline); ``presence_version``: counts every change of that set (orders presence frames);
  ``closed_connections``: connection ids connection_cleanup removed before the handshake had added them (never added
  later).
- rooms: ``room`` (key: the room's name in lower case; names are case-insensitive) -> ``policy`` (``open`` or
  ``invite``), ``created_by`` (username key), ``created_at``, ``member_count`` (kept by the join and leave
  transactions, so the members-per-room limit holds).
- memberships: who is in which room: ``room`` (partition) + ``username`` (sort) -> ``user_id``, ``joined_at``,
  ``invited_by``. The ``by_member`` index (username -> room, keys only) lists a user's rooms.
- conversations: a user's direct conversations, for a client that reconnects to fetch what it missed:
  ``username`` (partition) + ``conversation`` (sort, ``dm#<a> <b>`` as in messages) -> ``with`` (the other
  username) and ``last_sent_key`` (the newest message's sort key, only ever moved forward).
- messages: the history, one item per message and conversation. ``conversation`` (partition): ``dm#<a> <b>``, the
  two usernames' keys sorted, so both users' messages to each other share one partition, or ``room#<room>``;
  ``sent_key`` (sort): ``<sent_at>#<message_id>``, both fixed by sendMessage before the fan-out starts, so that a
  second execution of the same message writes the same item (putItem is then idempotent) and a query reads a
  conversation in the order it was sent (ISO 8601 UTC times with milliseconds sort as text); ``frame``: the message
  frame as JSON text, as delivered; ``expires_at`` (seconds since the epoch; the TTL attribute): the stage's
  history.retention_days after it was sent.
"""

from dataclasses import dataclass

STRING = "S"
NUMBER = "N"


@dataclass(frozen=True)
class IndexDesign:
    name: str
    partition_key: str
    sort_key: str | None
    projection: str  # KEYS_ONLY, INCLUDE or ALL


@dataclass(frozen=True)
class TableDesign:
    """A table's keys, indexes and time to live: what the stack declares and the local runtime reads back."""

    partition_key: str
    attribute_types: dict[str, str]  # every key attribute (table's and indexes') -> S, N or B
    sort_key: str | None = None
    indexes: tuple[IndexDesign, ...] = ()
    ttl_attribute: str | None = None


USERNAME_INDEX = IndexDesign(
    name="by_username", partition_key="username", sort_key="connection_id", projection="KEYS_ONLY"
)
CONNECTIONS = TableDesign(
    partition_key="connection_id",
    attribute_types={"connection_id": STRING, "username": STRING},
    indexes=(USERNAME_INDEX,),
    ttl_attribute="expires_at",
)
USERS = TableDesign(partition_key="username", attribute_types={"username": STRING})
MESSAGES = TableDesign(
    partition_key="conversation",
    sort_key="sent_key",
    attribute_types={"conversation": STRING, "sent_key": STRING},
    ttl_attribute="expires_at",
)
ROOMS = TableDesign(partition_key="room", attribute_types={"room": STRING})
MEMBER_INDEX = IndexDesign(name="by_member", partition_key="username", sort_key="room", projection="KEYS_ONLY")
MEMBERSHIPS = TableDesign(
    partition_key="room",
    sort_key="username",
    attribute_types={"room": STRING, "username": STRING},
    indexes=(MEMBER_INDEX,),
)
CONVERSATIONS = TableDesign(
    partition_key="username",
    sort_key="conversation",
    attribute_types={"username": STRING, "conversation": STRING},
)
