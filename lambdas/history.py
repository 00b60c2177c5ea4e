"""history: validate the request, then start the history_page workflow, which reads the page and posts it.

The conversation is the caller's own (their username from the $connect authorizer, never from the frame) with the
user the frame names: a request can only ever read a conversation its caller is in, whatever its cursor says.
"""

from chat.clients import stepfunctions_client
from chat.events import MessageEvent
from chat.frames import route_response
from chat.history import InvalidCursor, direct_conversation, key_of, room_conversation
from chat.observability import handles
from chat.rejections import rejected
from chat.requests import InvalidRequest, parse_history, require_a_user
from chat.rooms import room_key
from chat.settings import require_env, require_positive_number
from chat.starts import start_or_refuse
from chat.users import signed_in, username_key

HISTORY_STATE_MACHINE_ARN = require_env("HISTORY_STATE_MACHINE_ARN")
HISTORY_MAX_PAGE = int(require_positive_number("HISTORY_MAX_PAGE"))
stepfunctions = stepfunctions_client()


@handles(MessageEvent)
def handler(event: MessageEvent) -> dict:
    connection_id = event.request_context.connection_id
    caller = signed_in(event.request_context.authorizer)
    try:
        caller = require_a_user(caller)
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
    refusal = start_or_refuse(
        stepfunctions, state_machine_arn=HISTORY_STATE_MACHINE_ARN, execution_input=execution_input, what="the history"
    )
    if refusal is not None:
        return refusal
    return route_response({"type": "history_requested", **about, "limit": execution_input["limit"]})
