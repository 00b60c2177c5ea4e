"""Task of history_page: pure computation, no AWS call. The page of stored messages its query read becomes the
frames it posts: ``history`` frames each under API Gateway's 32 KB frame limit, then ``history_end``."""

from chat.history import history_frames
from chat.observability import handles
from chat.tasks import HistoryPage


@handles(HistoryPage, connection_id=lambda page: page.connection_id, publishes_metrics=False)
def handler(page: HistoryPage) -> dict:
    items = [item.model_dump() for item in page.items]
    return {"frames": history_frames(with_user=page.with_user, room=page.room, items=items, limit=page.limit)}
