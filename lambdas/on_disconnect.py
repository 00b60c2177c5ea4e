"""$disconnect: record why a connection closed."""

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import APIGatewayWebSocketDisconnectEventModel
from aws_lambda_powertools.utilities.typing import LambdaContext
from chat.observability import logger, metrics, tracer


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    request = parse(event=event, model=APIGatewayWebSocketDisconnectEventModel).request_context
    logger.set_correlation_id(request.connection_id)
    logger.info(
        "connection closed",
        extra={"status_code": request.disconnect_status_code, "reason": request.disconnect_reason},
    )
    metrics.add_metric(name="Disconnections", unit=MetricUnit.Count, value=1)
    return {"statusCode": 200}
