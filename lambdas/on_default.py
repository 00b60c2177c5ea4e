"""$default: frames that name no known action get an error frame listing the valid ones."""

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import APIGatewayWebSocketMessageEventModel
from aws_lambda_powertools.utilities.typing import LambdaContext
from chat.frames import error_frame, route_response
from chat.observability import logger, metrics, tracer
from chat.requests import InvalidRequest, parse_body, quoted
from chat.settings import require_names

# The API's action routes, as the stack routes them (cdk/functions.py: ChatFunctions.actions).
VALID_ACTIONS = require_names("VALID_ACTIONS")


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    request = parse(event=event, model=APIGatewayWebSocketMessageEventModel)
    logger.set_correlation_id(request.request_context.connection_id)
    problem = describe_unroutable(request.body)
    logger.info("rejected frame", extra={"code": problem.code})
    metrics.add_metric(name="RejectedInputs", unit=MetricUnit.Count, value=1)
    return route_response(error_frame(problem.code, str(problem), valid_actions=list(VALID_ACTIONS)))


def describe_unroutable(body: str | None) -> InvalidRequest:
    valid = ", ".join(VALID_ACTIONS)
    try:
        action = parse_body(body).get("action")
    except InvalidRequest as error:
        return InvalidRequest(error.code, f"{error}; send a JSON object whose action is one of: {valid}")
    if action is None:
        return InvalidRequest("missing_action", f"the frame has no action; valid actions: {valid}")
    return InvalidRequest("unknown_action", f"unknown action {quoted(action)}; valid actions: {valid}")
