"""history: validate the request, then start the history_page workflow, which reads the page and posts it.

The conversation is the caller's own (their username from the $connect authorizer, never from the frame) with the
user the frame names: a request can only ever read a conversation its caller is in, whatever its cursor says.
"""

import json
import uuid

from botocore.exceptions import BotoCoreError, ClientError
from chat.clients import stepfunctions_client
from chat.events import MessageEvent
from chat.frames import error_frame, route_response
from chat.history import InvalidCursor, direct_conversation, key_of, room_conversation
from chat.observability import execution_trace_header, handles, logger
from chat.rejections import rejected
from chat.requests import InvalidRequest, parse_history, refuse_an_expired_sign_in
from chat.rooms import room_key
from chat.settings import require_env, require_positive_number
from chat.users import signed_in, username_key

HISTORY_STATE_MACHINE_ARN = require_env("HISTORY_STATE_MACHINE_ARN")
HISTORY_MAX_PAGE = int(require_positive_number("HISTORY_MAX_PAGE"))
stepfunctions = stepfunctions_client()


@handles(MessageEvent)
def handler(event: MessageEvent) -> dict:
    connection_id = event.request_context.connection_id
    caller = signed_in(event.request_context.authorizer)
    try:
        if caller is None:
            raise InvalidRequest("no_users", "this stage has no sign-in, so it has no users and keeps no conversations")
        refuse_an_expired_sign_in(caller)
        request = parse_history(event.body, max_page=HISTORY_MAX_PAGE)
        room = room_key(request.room) if request.room is not None else None
        before = key_of(request.before) if request.before is not None else None
    except InvalidCursor as error:
        return rejected(InvalidRequest("invalid_cursor", str(error)), what="history request")
    except InvalidRequest as error:
        return rejected(error, what="history request")
    if room is not None:
        # A room's history: history_page reads the caller's membership first (members only).
        conversation, about = room_conversation(room), {"room": room}
    else:
        conversation = direct_conversation(caller.user.key, username_key(request.with_user))
        about = {"with": request.with_user}
    execution_input = {
        "connection_id": connection_id,
        "username": caller.user.key,
        # both present (null when not asked): the workflow's choices read a value, never a missing path
        "with": request.with_user,
        "room": room,
        "conversation": conversation,
        "limit": request.limit or HISTORY_MAX_PAGE,
        "has_before": before is not None,
        "before": before,
    }
    try:
        stepfunctions.start_execution(
            stateMachineArn=HISTORY_STATE_MACHINE_ARN,
            name=str(uuid.uuid4()),
            input=json.dumps(execution_input),
            **execution_trace_header(),
        )
    except (ClientError, BotoCoreError):
        logger.exception("could not start the history page")
        unsent = InvalidRequest("not_sent", "the history could not be read; please try again")
        return route_response(error_frame(unsent.code, str(unsent)), status_code=503)
    return route_response({"type": "history_requested", **about, "limit": execution_input["limit"]})
