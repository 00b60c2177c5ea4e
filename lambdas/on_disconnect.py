"""$disconnect: record why a connection closed."""

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser.models import APIGatewayWebSocketDisconnectEventModel
from chat.observability import handles, logger, metrics


@handles(APIGatewayWebSocketDisconnectEventModel)
def handler(event: APIGatewayWebSocketDisconnectEventModel) -> dict:
    request = event.request_context
    logger.info(
        "connection closed",
        extra={"status_code": request.disconnect_status_code, "reason": request.disconnect_reason},
    )
    metrics.add_metric(name="Disconnections", unit=MetricUnit.Count, value=1)
    return {"statusCode": 200}
