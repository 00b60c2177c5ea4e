"""Task of connection_handshake: tell a new client its connection id.

The handshake starts while $connect is still answering, so the first post may find the connection not
open yet (410): it is retried here after tens of milliseconds, and only a connection still not open
after those pauses fails the task (ConnectionGone) for the state machine's Retry.
"""

from chat.clients import connections_client
from chat.connections import OPENING_BUDGET_SECONDS, post_frame_once_open
from chat.frames import connection_frame
from chat.observability import handles, logger
from chat.settings import require_http_url
from chat.tasks import HandshakeTask

connections = connections_client(require_http_url("CALLBACK_URL"), waiting_seconds=OPENING_BUDGET_SECONDS)


# No metrics of its own: the handshake's outcome is in its execution history.
@handles(HandshakeTask, connection_id=lambda task: task.connection_id, publishes_metrics=False)
def handler(task: HandshakeTask) -> dict:
    # A 410 while the connection opens is expected, not an error: logged with the attempt count only.
    frame = connection_frame(task.connection_id, task.signed_in_user)
    posts = post_frame_once_open(connections, task.connection_id, frame)
    logger.info("connection id sent", extra={"posts": posts})
    return {"connection_id": task.connection_id, "status": "delivered"}
