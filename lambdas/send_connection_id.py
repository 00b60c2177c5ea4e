"""Task of connection_handshake: tell a new client its connection id.

The handshake starts while $connect is still answering, so the first post may find the connection not
open yet (410): it is retried here after tens of milliseconds, and only a connection still not open
after those pauses fails the task (ConnectionGone) for the state machine's Retry.
"""

from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.typing import LambdaContext
from chat.clients import connections_client
from chat.connections import OPENING_BUDGET_SECONDS, post_frame_once_open
from chat.frames import connection_frame
from chat.observability import logger, tracer
from chat.settings import require_http_url
from chat.tasks import HandshakeTask

connections = connections_client(require_http_url("CALLBACK_URL"), waiting_seconds=OPENING_BUDGET_SECONDS)


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
def handler(event: dict, context: LambdaContext) -> dict:
    task = parse(event=event, model=HandshakeTask)
    logger.set_correlation_id(task.connection_id)
    # A 410 while the connection opens is expected, not an error: logged with the attempt count only.
    posts = post_frame_once_open(connections, task.connection_id, connection_frame(task.connection_id))
    logger.info("connection id sent", extra={"posts": posts})
    return {"connection_id": task.connection_id, "status": "delivered"}
