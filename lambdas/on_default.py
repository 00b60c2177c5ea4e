"""$default: frames that name no known action get an error frame listing the valid ones."""

from aws_lambda_powertools.utilities.parser.models import APIGatewayWebSocketMessageEventModel
from chat.observability import handles
from chat.rejections import rejected
from chat.requests import InvalidRequest, parse_body, quoted
from chat.settings import require_names

# The API's action routes, as the stack routes them (cdk/functions.py: ChatFunctions.actions).
VALID_ACTIONS = require_names("VALID_ACTIONS")


@handles(APIGatewayWebSocketMessageEventModel)
def handler(event: APIGatewayWebSocketMessageEventModel) -> dict:
    return rejected(describe_unroutable(event.body), what="frame", valid_actions=list(VALID_ACTIONS))


def describe_unroutable(body: str | None) -> InvalidRequest:
    valid = ", ".join(VALID_ACTIONS)
    try:
        action = parse_body(body).get("action")
    except InvalidRequest as error:
        return InvalidRequest(error.code, f"{error}; send a JSON object whose action is one of: {valid}")
    if action is None:
        return InvalidRequest("missing_action", f"the frame has no action; valid actions: {valid}")
    return InvalidRequest("unknown_action", f"unknown action {quoted(action)}; valid actions: {valid}")
