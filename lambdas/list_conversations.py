"""listConversations: check the caller, then start the list_conversations workflow, which reads the caller's direct
conversations and posts them (``conversations`` frames).

The list is the caller's own: their username from the $connect authorizer, never from the frame. A client that
reconnects compares each conversation's ``last_sent_key`` with the newest message it has, and asks ``history`` for
what it missed.
"""

from chat.clients import stepfunctions_client
from chat.events import MessageEvent
from chat.frames import route_response
from chat.observability import handles
from chat.rejections import rejected
from chat.requests import InvalidRequest, parse_body, require_a_user
from chat.settings import require_env
from chat.starts import start_or_refuse
from chat.users import signed_in

CONVERSATIONS_STATE_MACHINE_ARN = require_env("CONVERSATIONS_STATE_MACHINE_ARN")
stepfunctions = stepfunctions_client()


@handles(MessageEvent)
def handler(event: MessageEvent) -> dict:
    try:
        caller = require_a_user(signed_in(event.request_context.authorizer))
        parse_body(event.body)  # a JSON object; it has nothing else to say
    except InvalidRequest as error:
        return rejected(error, what="listConversations request")
    execution_input = {"connection_id": event.request_context.connection_id, "username": caller.user.key}
    refusal = start_or_refuse(
        stepfunctions,
        state_machine_arn=CONVERSATIONS_STATE_MACHINE_ARN,
        execution_input=execution_input,
        what="the list of conversations",
    )
    return refusal or route_response({"type": "listConversations_requested"})
