"""The @connections management API under the stage's callback URL (what boto3's
apigatewaymanagementapi calls): POST sends a frame, GET describes, DELETE closes a connection.

POST is also served where moto's interpreter sends a state machine's ``apigateway:invoke`` task:
``{ApiEndpoint}/{Stage}/_user_request_/{Path}/`` (LocalStack's URL form; the trailing slash is where
it appends query parameters), ApiEndpoint being rewritten to this gateway (local.stepfunctions.service)."""

from datetime import UTC, datetime

from aiohttp import WSCloseCode, web

from local.apigateway.limits import MAX_MESSAGE_BYTES
from local.apigateway.open_connections import Connections
from local.aws_errors import aws_error


class ManagementApi:
    def __init__(self, stage: str, connections: Connections):
        self._stage = stage
        self._connections = connections

    def add_routes(self, app: web.Application) -> None:
        connection = f"/{self._stage}/@connections/{{connection_id}}"
        app.router.add_post(connection, self._post_to_connection)
        app.router.add_get(connection, self._get_connection)
        app.router.add_delete(connection, self._delete_connection)
        app.router.add_post(f"/{self._stage}/_user_request_/@connections/{{connection_id}}/", self._post_to_connection)

    async def _post_to_connection(self, request: web.Request) -> web.Response:
        connection = await self._connections.get_after_connect(request.match_info["connection_id"])
        if connection is None:
            return aws_error(410, "GoneException", None)
        data = await request.read()
        if len(data) > MAX_MESSAGE_BYTES:
            return aws_error(413, "PayloadTooLargeException", f"Message too long; max {MAX_MESSAGE_BYTES} bytes")
        try:
            await connection.send(data)
        except ConnectionError:  # it left meanwhile, or stopped reading and was dropped
            return aws_error(410, "GoneException", None)
        return web.Response(status=200)

    async def _get_connection(self, request: web.Request) -> web.Response:
        connection = self._connections.get(request.match_info["connection_id"])
        if connection is None:
            return aws_error(410, "GoneException", None)
        client = connection.client
        return web.json_response(
            {
                "connectedAt": _iso(client.connected_at),
                "lastActiveAt": _iso(client.last_active_at),
                "identity": {"sourceIp": client.source_ip, "userAgent": client.user_agent},
            }
        )

    async def _delete_connection(self, request: web.Request) -> web.Response:
        connection = self._connections.get(request.match_info["connection_id"])
        if connection is None:
            return aws_error(410, "GoneException", None)
        await connection.close(WSCloseCode.OK, "Connection closed by DeleteConnection")
        return web.Response(status=204)


def _iso(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).isoformat(timespec="milliseconds")
