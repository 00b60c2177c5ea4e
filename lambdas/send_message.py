"""sendMessage: validate the frame, then start the fan-out workflow that delivers it."""

import json
import uuid
from datetime import UTC, datetime

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser.models import APIGatewayWebSocketMessageEventModel
from botocore.exceptions import BotoCoreError, ClientError
from chat.clients import stepfunctions_client
from chat.frames import accepted_frame, error_frame, message_frame, route_response
from chat.observability import execution_trace_header, handles, logger, metrics, tracer
from chat.requests import InvalidRequest, SendMessageRequest, parse_send_message
from chat.settings import require_env

FANOUT_STATE_MACHINE_ARN = require_env("FANOUT_STATE_MACHINE_ARN")
stepfunctions = stepfunctions_client()


@handles(APIGatewayWebSocketMessageEventModel)
def handler(event: APIGatewayWebSocketMessageEventModel) -> dict:
    sender_id = event.request_context.connection_id
    try:
        chat_message = parse_send_message(event.body)
    except InvalidRequest as error:
        logger.info("rejected message", extra={"code": error.code, "reason": str(error)})
        metrics.add_metric(name="RejectedInputs", unit=MetricUnit.Count, value=1)
        return route_response(error_frame(error.code, str(error), **_echo(error.client_message_id)))
    try:
        message_id = start_fanout(sender_id=sender_id, chat_message=chat_message)
    except (ClientError, BotoCoreError):  # an error answer, or none in time (connection, timeout)
        logger.exception("could not start the fan-out")
        metrics.add_metric(name="UnsentMessages", unit=MetricUnit.Count, value=1)
        not_sent = error_frame(
            "not_sent", "the message was not sent; please try again", **_echo(chat_message.client_message_id)
        )
        return route_response(not_sent, status_code=503)
    metrics.add_metric(name="AcceptedMessages", unit=MetricUnit.Count, value=1)
    # The route has a route response: an answer without a body would reach the client as an empty frame.
    accepted = accepted_frame(message_id=message_id, client_message_id=chat_message.client_message_id)
    return route_response(accepted, status_code=200)


@tracer.capture_method
def start_fanout(*, sender_id: str, chat_message: SendMessageRequest) -> str:
    message_id = str(uuid.uuid4())
    # From here on every line is about this message; the fan-out execution is named after it too.
    logger.set_correlation_id(message_id)
    frame = message_frame(
        message_id=message_id,
        message=chat_message.message,
        sender_id=sender_id,
        recipient_ids=chat_message.recipients,
        sent_at=datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        client_message_id=chat_message.client_message_id,
    )
    # The sender gets its own copy, as in the seed; a connection named twice is delivered to once.
    connection_ids = list(dict.fromkeys([sender_id, *chat_message.recipients]))
    stepfunctions.start_execution(
        stateMachineArn=FANOUT_STATE_MACHINE_ARN,
        name=message_id,
        input=json.dumps({"sender_id": sender_id, "connection_ids": connection_ids, "frame": frame}),
        **execution_trace_header(),
    )
    logger.info("fan-out started", extra={"message_id": message_id, "connections": len(connection_ids)})
    return message_id


def _echo(client_message_id: str | None) -> dict[str, str]:
    return {"client_message_id": client_message_id} if client_message_id else {}
