"""joinRoom, leaveRoom, inviteToRoom, listRooms and roomMembers: validate the frame, then start the workflow that does
the work and answers the caller (room_change for the first three, room_listing for the other two).

Who asks is the connection's own user (from the $connect authorizer), never what a frame says. The room's key (its
name in lower case) is fixed here, so a workflow only ever reads and writes the room the frame named.
"""

from datetime import UTC, datetime

from chat.clients import stepfunctions_client
from chat.events import MessageEvent
from chat.frames import route_response
from chat.observability import handles
from chat.rejections import rejected
from chat.requests import InvalidRequest, refuse_an_expired_sign_in
from chat.rooms import CHANGES, parse_room_request
from chat.settings import require_env
from chat.starts import start_or_refuse
from chat.users import signed_in

ROOM_CHANGE_STATE_MACHINE_ARN = require_env("ROOM_CHANGE_STATE_MACHINE_ARN")
ROOM_LISTING_STATE_MACHINE_ARN = require_env("ROOM_LISTING_STATE_MACHINE_ARN")
stepfunctions = stepfunctions_client()


@handles(MessageEvent)
def handler(event: MessageEvent) -> dict:
    caller = signed_in(event.request_context.authorizer)
    try:
        if caller is None:
            raise InvalidRequest("no_users", "this stage has no sign-in, so it has no users and no rooms")
        refuse_an_expired_sign_in(caller)
        request = parse_room_request(event.body)
        if request.get("invitee") == caller.user.key:
            raise InvalidRequest("invalid_request", "user: you cannot invite yourself (joinRoom joins a room)")
    except InvalidRequest as error:
        return rejected(error, what="room request")
    action = request["action"]
    execution_input = {
        **request,
        "connection_id": event.request_context.connection_id,
        "user": caller.user.as_frame(),
        "username": caller.user.key,
        # Fixed before the workflow starts: a second execution of the same request writes the same membership.
        "requested_at": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    }
    workflow = ROOM_CHANGE_STATE_MACHINE_ARN if action in CHANGES else ROOM_LISTING_STATE_MACHINE_ARN
    refusal = start_or_refuse(stepfunctions, state_machine_arn=workflow, execution_input=execution_input, what=action)
    if refusal is not None:
        return refusal
    asked = {"room": request["room"]} if "room" in request else {}
    if "invitee" in request:
        asked["user"] = request["invitee"]
    return route_response({"type": f"{action}_requested", **asked})
