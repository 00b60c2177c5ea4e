"""Validation of what clients send on the sendMessage route."""

import json
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from chat.users import SignedIn, username_key

# json.dumps escapes a byte into at most 6 characters (\u00XX), so a 16 KiB message stays under
# 100 KB inside any frame, well within API Gateway's 128 KB message limit and Step Functions' 256 KB.
MAX_MESSAGE_BYTES = 16 * 1024
MAX_RECIPIENTS = 20
MAX_CONNECTION_ID_LENGTH = 128
# API Gateway connection ids are base64-like ("CfF2b3hQoAMCJ-g="); anything else can only fail later.
CONNECTION_ID = re.compile(rf"[A-Za-z0-9+/=_-]{{1,{MAX_CONNECTION_ID_LENGTH}}}")
# A client's own id for a message it sends, echoed in the frames about it (error, message) so the
# client can tell which of its pending messages an answer concerns.
CLIENT_MESSAGE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
# How much of a client-supplied value an error message quotes back.
QUOTED_LENGTH = 32
# A Cognito username: 1 to 128 characters, none of them white space or control characters (Cognito's own rule
# is stricter; a name it would never accept is simply unknown). docs/asyncapi.yaml's Username.
MAX_USERNAME_LENGTH = 128
USERNAME = re.compile(rf"[^\s\x00-\x1f\x7f]{{1,{MAX_USERNAME_LENGTH}}}")
# Fields only the server sets: who sent a message is the connection's own user, never what a frame says.
SERVER_SET_FIELDS = ("sender", "sender_id")


class InvalidRequest(ValueError):
    """The client's frame cannot be accepted; ``code``, ``str(self)`` and ``details`` go back in an error frame
    (answered with 200: a client's error is no integration error), with the frame's ``client_message_id`` when it had
    a valid one."""

    def __init__(self, code: str, message: str, *, client_message_id: str | None = None, **details):
        super().__init__(message)
        self.code = code
        self.client_message_id = client_message_id
        self._details = details

    @property
    def details(self) -> dict:
        """The error frame's fields beside code and message."""
        echo = {"client_message_id": self.client_message_id} if self.client_message_id else {}
        return {**self._details, **echo}


def refuse_an_expired_sign_in(user: SignedIn | None, *, client_message_id: str | None = None) -> None:
    """API Gateway checks the token only when the connection opens: a connection outliving its token may still
    receive, but not act (send, read history); the client reconnects with a fresh token."""
    if user is not None and user.expired():
        raise InvalidRequest(
            "token_expired",
            f"the sign-in of this connection expired at {user.expired_at_text}; reconnect with a fresh token",
            client_message_id=client_message_id,
        )


def require_a_user(user: SignedIn | None) -> SignedIn:
    """The signed-in caller of an action that needs users (history, conversations); InvalidRequest on a stage
    without sign-in (``no_users``) or once the sign-in expired (``token_expired``)."""
    if user is None:
        raise InvalidRequest("no_users", "this stage has no sign-in, so it has no users and keeps no conversations")
    refuse_an_expired_sign_in(user)
    return user


class SendMessageRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    action: str
    message: str
    recipient_id: str | None = None
    recipient_ids: list[str] | None = Field(default=None, min_length=1, max_length=MAX_RECIPIENTS)
    recipient_users: list[str] | None = Field(default=None, min_length=1, max_length=MAX_RECIPIENTS)
    # A room's name, as the client wrote it: the handler checks it and takes its key (chat.rooms.room_key), so that
    # a bad name is answered invalid_room, not invalid_request.
    room: Any = None
    client_message_id: str | None = None

    @field_validator("client_message_id")
    @classmethod
    def _client_message_id_format(cls, value: str | None) -> str | None:
        if value is not None and not CLIENT_MESSAGE_ID.fullmatch(value):
            raise ValueError("must be 1 to 64 characters of A-Z, a-z, 0-9, '_' and '-'")
        return value

    @field_validator("message")
    @classmethod
    def _message_within_limits(cls, message: str) -> str:
        if not message.strip():
            raise ValueError("must not be empty")
        size = len(message.encode("utf-8"))
        if size > MAX_MESSAGE_BYTES:
            raise ValueError(f"is {size} bytes; the limit is {MAX_MESSAGE_BYTES} bytes (UTF-8)")
        return message

    @field_validator("recipient_id")
    @classmethod
    def _recipient_id_is_a_connection_id(cls, connection_id: str | None) -> str | None:
        if connection_id is not None:
            _check_connection_id(connection_id)
        return connection_id

    @field_validator("recipient_ids")
    @classmethod
    def _recipient_ids_are_connection_ids(cls, connection_ids: list[str] | None) -> list[str] | None:
        for connection_id in connection_ids or []:
            _check_connection_id(connection_id)
        return connection_ids

    @field_validator("recipient_users")
    @classmethod
    def _recipient_users_are_distinct_usernames(cls, names: list[str] | None) -> list[str] | None:
        seen: dict[str, str] = {}
        for name in names or []:
            check_username(name)
            if username_key(name) in seen:
                raise ValueError(f"{quoted(name)} is named twice (usernames are not case-sensitive)")
            seen[username_key(name)] = name
        return names

    @model_validator(mode="before")
    @classmethod
    def _no_server_set_fields(cls, payload: Any) -> Any:
        claimed = [name for name in SERVER_SET_FIELDS if isinstance(payload, dict) and name in payload]
        if claimed:
            raise ValueError(
                f"{' and '.join(claimed)} cannot be sent: the sender is the connection's own "
                "(its connection id, and on a stage with sign-in its user)"
            )
        return payload

    @model_validator(mode="after")
    def _exactly_one_recipient_form(self) -> "SendMessageRequest":
        forms = [self.recipient_id, self.recipient_ids, self.recipient_users, self.room]
        if sum(form is not None for form in forms) != 1:
            raise ValueError(
                "give exactly one of recipient_id (one connection id), recipient_ids (a list of connection ids), "
                "recipient_users (a list of usernames) or room (a room's name)"
            )
        if len(set(self.recipients)) != len(self.recipients):
            raise ValueError("recipient_ids must be distinct")
        return self

    @property
    def recipients(self) -> list[str]:
        """The connection ids named (none when the message is addressed to users)."""
        return [self.recipient_id] if self.recipient_id is not None else list(self.recipient_ids or [])


def check_username(name: str) -> None:
    if USERNAME.fullmatch(name) is None:
        raise ValueError(
            f"{quoted(name)} is not a username: usernames are 1 to {MAX_USERNAME_LENGTH} characters "
            "with no white space or control characters"
        )


def _check_connection_id(connection_id: str) -> None:
    if CONNECTION_ID.fullmatch(connection_id) is None:
        raise ValueError(
            f"{quoted(connection_id)} is not a connection id: connection ids are 1 to {MAX_CONNECTION_ID_LENGTH} "
            "characters of A-Z, a-z, 0-9, '+', '/', '=', '_' and '-'"
        )


def quoted(value: Any) -> str:
    """A client's value as it can go back in an error message: escaped (repr) and cut short."""
    if isinstance(value, str) and len(value) > QUOTED_LENGTH:
        return f"{value[:QUOTED_LENGTH]!r}... ({len(value)} characters)"
    text = repr(value)
    return text if len(text) <= QUOTED_LENGTH else f"{text[:QUOTED_LENGTH]}..."


def parse_body(body: str | None) -> dict[str, Any]:
    """The frame's JSON object, or InvalidRequest('invalid_json')."""
    try:
        payload = json.loads(body or "")
    except json.JSONDecodeError as error:
        raise InvalidRequest("invalid_json", f"the frame is not valid JSON: {error.msg}") from None
    except RecursionError:
        raise InvalidRequest("invalid_json", "the frame is not valid JSON: it is nested too deeply") from None
    except ValueError:  # e.g. an integer longer than Python's int/str conversion limit (4300 digits)
        raise InvalidRequest("invalid_json", "the frame's JSON cannot be read: a value in it is too large") from None
    if not isinstance(payload, dict):
        raise InvalidRequest("invalid_json", "the frame must be a JSON object")
    return payload


def parse_send_message(body: str | None) -> SendMessageRequest:
    payload = parse_body(body)
    try:
        return SendMessageRequest.model_validate(payload)
    except ValidationError as error:
        echo = payload.get("client_message_id")
        valid_echo = echo if isinstance(echo, str) and CLIENT_MESSAGE_ID.fullmatch(echo) else None
        raise InvalidRequest("invalid_request", _describe(error), client_message_id=valid_echo) from None


def _describe(error: ValidationError) -> str:
    problems = []
    for detail in error.errors():
        field = ".".join(str(part) for part in detail["loc"]) or "body"
        reason = detail["msg"].removeprefix("Value error, ")
        problems.append(f"{field}: {reason}")
    return "; ".join(problems)


class HistoryRequest(BaseModel):
    """``{"action": "history", "with": <username>, "before": <cursor>, "limit": n}``: a page of the caller's direct
    conversation with ``with``, newest first, older than ``before`` (a cursor from a previous history_end); or, with
    ``room`` instead of ``with``, a page of that room's messages."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    action: str
    with_user: str | None = Field(default=None, alias="with")
    # As in SendMessageRequest: the handler checks the name (invalid_room).
    room: Any = None
    before: str | None = None
    limit: int | None = Field(default=None, ge=1, strict=True)

    @field_validator("with_user")
    @classmethod
    def _with_is_a_username(cls, name: str | None) -> str | None:
        if name is not None:
            check_username(name)
        return name

    @model_validator(mode="after")
    def _exactly_one_conversation(self) -> "HistoryRequest":
        if (self.with_user is None) == (self.room is None):
            raise ValueError("give exactly one of with (a username) or room (a room's name)")
        return self


def parse_history(body: str | None, *, max_page: int) -> HistoryRequest:
    payload = parse_body(body)
    try:
        request = HistoryRequest.model_validate(payload)
    except ValidationError as error:
        raise InvalidRequest("invalid_request", _describe(error)) from None
    if request.limit is not None and request.limit > max_page:
        raise InvalidRequest("invalid_request", f"limit: at most {max_page} messages a page", max_page=max_page)
    return request
