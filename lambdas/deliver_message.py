"""Task of message_fanout's Map: deliver one frame to one connection."""

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.typing import LambdaContext
from chat.clients import connections_client
from chat.connections import ConnectionGone, post_frame
from chat.observability import logger, metrics, tracer
from chat.settings import require_http_url
from chat.tasks import DeliveryTask

connections = connections_client(require_http_url("CALLBACK_URL"))


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    task = parse(event=event, model=DeliveryTask)
    # Every frame a fan-out delivers (message, delivery_failed) names its message: its lines join that story.
    logger.set_correlation_id(task.frame.get("message_id") or task.connection_id)
    logger.append_keys(connection_id=task.connection_id)
    frame_type = {"frame_type": task.frame.get("type")}
    try:
        post_frame(connections, task.connection_id, task.frame)
    except ConnectionGone:
        logger.info("connection gone", extra=frame_type)
        metrics.add_metric(name="GoneRecipients", unit=MetricUnit.Count, value=1)
        raise
    except Exception:  # re-raised: the state machine retries or reports it; the log keeps the cause
        logger.exception("delivery attempt failed", extra=frame_type)
        raise
    logger.info("delivered", extra=frame_type)
    metrics.add_metric(name="Deliveries", unit=MetricUnit.Count, value=1)
    return {"connection_id": task.connection_id, "status": "delivered"}
