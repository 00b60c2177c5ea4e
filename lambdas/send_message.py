"""sendMessage: validate the frame, check the users it names, then start the fan-out workflow that delivers it.

Who sends is the connection's own: its connection id, and on a stage with sign-in the user the $connect
authorizer verified (``requestContext.authorizer``), never a field of the frame.
"""

import json
import os
import uuid
from datetime import UTC, datetime

from aws_lambda_powertools.metrics import MetricUnit
from botocore.exceptions import BotoCoreError, ClientError
from chat.clients import directory_clients, stepfunctions_client
from chat.directory import Directory
from chat.events import MessageEvent
from chat.fanout import fanout_input, room_fanout_input
from chat.frames import accepted_frame, error_frame, message_frame, route_response
from chat.observability import execution_trace_header, handles, logger, metrics, tracer
from chat.rejections import rejected
from chat.requests import InvalidRequest, SendMessageRequest, parse_send_message, quoted, refuse_an_expired_sign_in
from chat.rooms import room_key
from chat.settings import require_env, require_positive_number
from chat.users import SignedIn, User, signed_in, username_key

FANOUT_STATE_MACHINE_ARN = require_env("FANOUT_STATE_MACHINE_ARN")
HISTORY_RETENTION_DAYS = int(require_positive_number("HISTORY_RETENTION_DAYS"))
stepfunctions = stepfunctions_client()


def _directory() -> Directory | None:
    """The stage's users (USERS_TABLE_NAME and USER_POOL_ID are set only on a stage with sign-in)."""
    if not os.environ.get("USERS_TABLE_NAME"):
        return None
    dynamodb, cognito = directory_clients()
    return Directory(
        dynamodb=dynamodb,
        cognito=cognito,
        users_table=require_env("USERS_TABLE_NAME"),
        user_pool_id=require_env("USER_POOL_ID"),
    )


directory = _directory()


class NotSent(Exception):
    """A service the message needs could not be reached in time: nothing was sent; the client may resend."""


@handles(MessageEvent)
def handler(event: MessageEvent) -> dict:
    sender_id = event.request_context.connection_id
    sender = signed_in(event.request_context.authorizer)
    try:
        chat_message = parse_send_message(event.body)
        refuse_an_expired_sign_in(sender, client_message_id=chat_message.client_message_id)
        room = addressed_room(chat_message, sender)
        recipient_users = resolve_recipient_users(chat_message)
    except InvalidRequest as error:
        return rejected(error, what="message")
    except NotSent:
        return not_sent(chat_message)
    try:
        message_id = start_fanout(
            sender_id=sender_id, sender=sender, chat_message=chat_message, recipient_users=recipient_users, room=room
        )
    except (ClientError, BotoCoreError):  # an error answer, or none in time (connection, timeout)
        logger.exception("could not start the fan-out")
        return not_sent(chat_message)
    metrics.add_metric(name="AcceptedMessages", unit=MetricUnit.Count, value=1)
    # The route has a route response: an answer without a body would reach the client as an empty frame.
    accepted = accepted_frame(message_id=message_id, client_message_id=chat_message.client_message_id, room=room)
    return route_response(accepted)


def addressed_room(chat_message: SendMessageRequest, sender: SignedIn | None) -> str | None:
    """The key of the room the message goes to (None for a message to connections or users). Whether the sender is
    a member is the fan-out's first step (a state, in the execution history, as every room check is), not asked
    here: route handlers check the frame, the workflows the tables."""
    if chat_message.room is None:
        return None
    client_message_id = chat_message.client_message_id
    if sender is None:
        raise InvalidRequest(
            "no_users",
            "this stage has no sign-in, so it has no users and no rooms",
            client_message_id=client_message_id,
        )
    try:
        return room_key(chat_message.room)
    except InvalidRequest as error:
        raise InvalidRequest(error.code, str(error), client_message_id=client_message_id) from None


def resolve_recipient_users(chat_message: SendMessageRequest) -> list[User]:
    """The users ``recipient_users`` names, in the order named (empty when it names connections)."""
    names = chat_message.recipient_users
    if names is None:
        return []
    if directory is None:
        raise InvalidRequest(
            "no_users",
            "this stage has no sign-in, so it has no users; send to connection ids (recipient_id or recipient_ids)",
            client_message_id=chat_message.client_message_id,
        )
    try:
        resolution = directory.resolve(names)
    except (ClientError, BotoCoreError):
        logger.exception("could not check the recipients")
        raise NotSent() from None
    if resolution.unknown:
        listed = ", ".join(quoted(name) for name in resolution.unknown)
        raise InvalidRequest(
            "unknown_user",
            f"no user is called {listed}" if len(resolution.unknown) == 1 else f"no users are called {listed}",
            client_message_id=chat_message.client_message_id,
            unknown_users=resolution.unknown,
        )
    return [resolution.known[username_key(name)] for name in names]


def not_sent(chat_message: SendMessageRequest) -> dict:
    metrics.add_metric(name="UnsentMessages", unit=MetricUnit.Count, value=1)
    error = InvalidRequest(
        "not_sent", "the message was not sent; please try again", client_message_id=chat_message.client_message_id
    )
    return route_response(error_frame(error.code, str(error), **error.details), status_code=503)


@tracer.capture_method
def start_fanout(
    *,
    sender_id: str,
    sender: SignedIn | None,
    chat_message: SendMessageRequest,
    recipient_users: list[User],
    room: str | None = None,
) -> str:
    message_id = str(uuid.uuid4())
    # From here on every line is about this message; the fan-out execution is named after it too.
    logger.set_correlation_id(message_id)
    frame = message_frame(
        message_id=message_id,
        message=chat_message.message,
        sender_id=sender_id,
        sender=sender.user if sender else None,
        recipient_ids=chat_message.recipients,
        recipient_users=recipient_users,
        room=room,
        sent_at=datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        client_message_id=chat_message.client_message_id,
    )
    if room is not None:
        execution_input = room_fanout_input(
            sender_id=sender_id, sender=sender.user, room=room, frame=frame, retention_days=HISTORY_RETENTION_DAYS
        )
    else:
        execution_input = fanout_input(
            sender_id=sender_id,
            sender=sender.user if sender else None,
            connection_ids=chat_message.recipients,
            recipient_users=recipient_users,
            frame=frame,
            retention_days=HISTORY_RETENTION_DAYS,
        )
    stepfunctions.start_execution(
        stateMachineArn=FANOUT_STATE_MACHINE_ARN,
        name=message_id,
        input=json.dumps(execution_input),
        **execution_trace_header(),
    )
    logger.info(
        "fan-out started",
        extra={
            "message_id": message_id,
            "connections": len(execution_input["targets"][0]["connection_ids"]),
            "users": len(recipient_users),
            "room": room,
        },
    )
    return message_id
