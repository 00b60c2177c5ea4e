"""Task of connection_handshake: tell a new client its connection id.

A 410 here usually means API Gateway has not opened the connection yet; the state machine retries it.
"""

from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.typing import LambdaContext
from chat.clients import connections_client
from chat.connections import post_frame
from chat.frames import connection_frame
from chat.observability import logger, tracer
from chat.settings import require_http_url
from chat.tasks import HandshakeTask

connections = connections_client(require_http_url("CALLBACK_URL"))


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
def handler(event: dict, context: LambdaContext) -> dict:
    task = parse(event=event, model=HandshakeTask)
    logger.set_correlation_id(task.connection_id)
    post_frame(connections, task.connection_id, connection_frame(task.connection_id))
    logger.info("connection id sent")
    return {"connection_id": task.connection_id, "status": "delivered"}
