"""The WebSocket API, locally: API Gateway's WebSocket behaviour and its @connections management API.

One aiohttp application on one port serves the stage's WebSocket endpoint (``/<stage>``), the
@connections API under the stage's callback URL (``/<stage>/@connections/{id}``), Lambda's Invoke
API (for Step Functions' Lambda tasks) and the browser client.
"""

import asyncio
import base64
import binascii
import contextlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from local.console import Console
from local.events import ClientInfo, EventFactory, aws_style_id, now_ms
from local.intrinsics import UnsupportedTemplate
from local.lambda_service import Invocation, LambdaService, Throttled
from local.template import FunctionSpec, RouteSpec, WebSocketApiSpec

# API Gateway WebSocket quotas (AWS docs, "API Gateway quotas for WebSocket APIs").
MAX_MESSAGE_BYTES = 128 * 1024
IDLE_TIMEOUT_SECONDS = 10 * 60
MAX_CONNECTION_SECONDS = 2 * 60 * 60
GOING_AWAY = 1001
MAX_INVOKE_PAYLOAD_BYTES = 6 * 1024 * 1024  # Lambda's synchronous payload limit
INTEGRATION_TIMEOUT_SECONDS = 29  # how long API Gateway waits for an integration
MAX_IN_FLIGHT_PER_CONNECTION = 10
SEND_TIMEOUT_SECONDS = 5
CLOSE_TIMEOUT_SECONDS = 5
SHUTDOWN_GRACE_SECONDS = 5
CONNECT_ANSWER_GRACE_SECONDS = 1


@dataclass
class GatewayLimits:
    idle_timeout_seconds: float = IDLE_TIMEOUT_SECONDS
    max_connection_seconds: float = MAX_CONNECTION_SECONDS


@dataclass
class _Connection:
    client: ClientInfo
    socket: web.WebSocketResponse
    transport: asyncio.BaseTransport | None
    send_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # Frames of this client being routed at once; reading pauses at the limit (back-pressure).
    in_flight: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(MAX_IN_FLIGHT_PER_CONNECTION))
    server_close: tuple[int, str] | None = None

    async def close(self, code: int, reason: str) -> None:
        self.server_close = (code, reason)
        try:
            await asyncio.wait_for(self.socket.close(code=code, message=reason.encode("utf-8")), CLOSE_TIMEOUT_SECONDS)
        except TimeoutError:
            self.abort(reason)

    def abort(self, reason: str) -> None:
        """Drop the TCP connection at once: for a client that stopped reading."""
        self.server_close = self.server_close or (WSCloseCode.ABNORMAL_CLOSURE, reason)
        if self.transport is not None:
            self.transport.abort()

    def disconnect_status(self) -> tuple[int, str]:
        """Status code and reason for $disconnect, worded like API Gateway's disconnectReason."""
        if self.server_close is not None:
            return self.server_close
        code = self.socket.close_code
        if code is None or code < 1000:
            code = WSCloseCode.ABNORMAL_CLOSURE
        return code, f"Client-side close frame status code '{code}'"

    async def send(self, data: bytes | str) -> None:
        """Send one frame; a client that does not take it within SEND_TIMEOUT_SECONDS is dropped."""
        async with self.send_lock:
            try:
                await asyncio.wait_for(self._send(data), SEND_TIMEOUT_SECONDS)
            except TimeoutError:
                self.abort("the client stopped reading")
                raise ConnectionResetError("the client stopped reading") from None

    async def _send(self, data: bytes | str) -> None:
        if isinstance(data, bytes):
            try:
                data = data.decode("utf-8")
            except UnicodeDecodeError:
                await self.socket.send_bytes(data)
                return
        await self.socket.send_str(data)


class RouteSelector:
    """Evaluates a route selection expression of the form ``$request.body.<path>``."""

    def __init__(self, expression: str, route_keys: set[str]):
        path = expression.strip()
        if path.startswith("${") and path.endswith("}"):
            path = "$" + path[2:-1]
        if not path.startswith("$request.body."):
            raise UnsupportedTemplate(f"route selection expression {expression!r} is not supported")
        self._path = path.removeprefix("$request.body.").split(".")
        self._route_keys = route_keys

    def select(self, body: str) -> str:
        try:
            value: Any = json.loads(body)
        except (ValueError, RecursionError):
            return "$default"
        for part in self._path:
            value = value.get(part) if isinstance(value, dict) else None
        return value if isinstance(value, str) and value in self._route_keys else "$default"


class WebSocketGateway:
    def __init__(
        self,
        api: WebSocketApiSpec,
        lambdas: LambdaService,
        console: Console,
        *,
        limits: GatewayLimits,
        web_dir: Path | None = None,
        find_function: Callable[[str], FunctionSpec | None],
    ):
        self._api = api
        self._lambdas = lambdas
        self._console = console
        self._limits = limits
        self._web_dir = web_dir.resolve() if web_dir else None
        self._find_function = find_function
        self._events = EventFactory(api_id=api.api_id, stage=api.stage)
        # $connect and $disconnect run only on connect and close; a frame naming them goes to $default.
        selectable = {key for key in api.routes if key not in ("$connect", "$disconnect")}
        self._selector = RouteSelector(api.route_selection_expression, selectable)
        self._connections: dict[str, _Connection] = {}
        self._connecting: dict[str, asyncio.Future] = {}  # connection id -> done once $connect is answered
        self._tasks: set[asyncio.Task] = set()

    def application(self) -> web.Application:
        app = web.Application(client_max_size=MAX_INVOKE_PAYLOAD_BYTES)
        stage = self._api.stage
        app.router.add_get(f"/{stage}", self._websocket)
        app.router.add_get(f"/{stage}/", self._websocket)
        connections = f"/{stage}/@connections/{{connection_id}}"
        app.router.add_post(connections, self._post_to_connection)
        app.router.add_get(connections, self._get_connection)
        app.router.add_delete(connections, self._delete_connection)
        app.router.add_post("/2015-03-31/functions/{function}/invocations", self._invoke_function)
        app.router.add_get("/{path:.*}", self._static)
        return app

    # -- WebSocket clients

    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        socket = web.WebSocketResponse(max_msg_size=MAX_MESSAGE_BYTES, compress=False, autoping=True)
        if not socket.can_prepare(request).ok:
            return web.Response(status=426, text="Upgrade Required: this is a WebSocket endpoint\n")
        client = ClientInfo(
            connection_id=aws_style_id(),
            source_ip=request.remote or "127.0.0.1",
            user_agent=request.headers.get("User-Agent", ""),
            host=request.host,
        )
        opened = asyncio.get_running_loop().create_future()
        self._connecting[client.connection_id] = opened
        try:
            rejection = await self._run_connect(client, request)
            if rejection is not None:
                return rejection
            await socket.prepare(request)
            connection = _Connection(client, socket, request.transport)
            self._connections[client.connection_id] = connection
        finally:
            del self._connecting[client.connection_id]
            opened.set_result(None)
        self._console.info(f"connected {client.connection_id} from {client.source_ip}")
        watchdog = asyncio.create_task(self._expire(connection))
        try:
            async for message in socket:
                if message.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                    client.last_active_at = now_ms()
                    is_base64 = message.type == WSMsgType.BINARY
                    body = base64.b64encode(message.data).decode("ascii") if is_base64 else message.data
                    await connection.in_flight.acquire()  # at the limit, stop reading: TCP pushes back
                    self._spawn(self._route_message(connection, body, is_base64=is_base64))
                elif message.type == WSMsgType.ERROR:
                    # aiohttp has already closed the socket, e.g. with 1009 for a frame over 128 KB
                    connection.server_close = (socket.close_code or WSCloseCode.PROTOCOL_ERROR, str(message.data))
        finally:
            watchdog.cancel()
            self._connections.pop(client.connection_id, None)
            status, reason = connection.disconnect_status()
            self._console.info(f"disconnected {client.connection_id} ({status}: {reason})")
            self._spawn(self._run_disconnect(client, status, reason))
        return socket

    async def _run_connect(self, client: ClientInfo, request: web.Request) -> web.Response | None:
        route = self._api.routes.get("$connect")
        if route is None:
            return None
        headers = dict(request.headers)
        headers.setdefault("X-Forwarded-For", client.source_ip)
        query = {name: request.query.getall(name) for name in request.query}
        outcome = await self._invoke_route(route, self._events.connect(client, headers, query))
        if outcome is None or outcome.function_error:
            return web.json_response({"message": "Internal server error"}, status=500)
        status = _status_code(outcome.payload)
        if not 200 <= status < 300:
            self._console.info(f"$connect rejected the handshake with {status}")
            return web.Response(status=status if status >= 400 else 403)
        return None

    async def _route_message(self, connection: _Connection, body: str, *, is_base64: bool) -> None:
        try:
            await self._run_route(connection, body, is_base64=is_base64)
        finally:
            connection.in_flight.release()

    async def _run_route(self, connection: _Connection, body: str, *, is_base64: bool) -> None:
        route_key = "$default" if is_base64 else self._selector.select(body)
        route = self._api.routes.get(route_key)
        if route is None:
            self._console.info(f"no route for a frame from {connection.client.connection_id}: dropped, like AWS")
            return
        event = self._events.message(connection.client, route.route_key, body, is_base64=is_base64)
        outcome = await self._invoke_route(route, event)
        if outcome is None or outcome.function_error:
            reply = {
                "message": "Internal server error",
                "connectionId": connection.client.connection_id,
                "requestId": event["requestContext"]["requestId"],
            }
            await self._send_quietly(connection, json.dumps(reply))
            return
        if route.returns_response:
            body = _response_body(outcome.payload)
            if body:
                await self._send_quietly(connection, body)

    async def _run_disconnect(self, client: ClientInfo, status: int, reason: str) -> None:
        route = self._api.routes.get("$disconnect")
        if route is not None:
            await self._invoke_route(route, self._events.disconnect(client, status, reason))

    async def _invoke_route(self, route: RouteSpec, event: dict[str, Any]) -> Invocation | None:
        try:
            outcome = await self._lambdas.invoke(route.function, event, queue_timeout=INTEGRATION_TIMEOUT_SECONDS)
        except Throttled as error:
            self._console.info(f"{route.route_key}: throttled ({error})")
            return None
        if outcome.function_error:
            message = outcome.payload.get("errorMessage") if isinstance(outcome.payload, dict) else outcome.payload
            self._console.info(f"{route.route_key}: integration failed: {message}")
        return outcome

    async def _send_quietly(self, connection: _Connection, data: str) -> None:
        with contextlib.suppress(ConnectionError):  # the client left meanwhile; AWS drops the reply too
            await connection.send(data)

    async def _expire(self, connection: _Connection) -> None:
        limits = self._limits
        while True:
            now = now_ms()
            idle_deadline = connection.client.last_active_at + limits.idle_timeout_seconds * 1000
            life_deadline = connection.client.connected_at + limits.max_connection_seconds * 1000
            if now >= life_deadline or now >= idle_deadline:
                why = "connection lifetime reached" if now >= life_deadline else "idle timeout"
                await connection.close(GOING_AWAY, f"Going away: {why}")
                return
            await asyncio.sleep(min(idle_deadline, life_deadline) / 1000 - now / 1000)

    def _spawn(self, coroutine: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        """Close every connection with 1001 and let their $disconnect handlers finish."""
        closing = [
            connection.close(GOING_AWAY, "Going away: server shutting down")
            for connection in self._connections.values()
        ]
        await asyncio.gather(*closing)
        deadline = asyncio.get_running_loop().time() + SHUTDOWN_GRACE_SECONDS
        while self._connections and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)  # each socket's handler unregisters it and spawns its $disconnect
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # -- @connections management API (what boto3's apigatewaymanagementapi calls)

    async def _post_to_connection(self, request: web.Request) -> web.Response:
        connection = await self._connection_to_post_to(request.match_info["connection_id"])
        if connection is None:
            return _aws_error(410, "GoneException", None)
        data = await request.read()
        if len(data) > MAX_MESSAGE_BYTES:
            return _aws_error(413, "PayloadTooLargeException", f"Message too long; max {MAX_MESSAGE_BYTES} bytes")
        try:
            await connection.send(data)
        except ConnectionError:  # it left meanwhile, or stopped reading and was dropped
            return _aws_error(410, "GoneException", None)
        return web.Response(status=200)

    async def _connection_to_post_to(self, connection_id: str) -> _Connection | None:
        """The open connection; one whose $connect answer is still on its way is waited for briefly.

        Inside one event loop the handshake's post can overtake the $connect function's answer,
        which over AWS's network practically never happens. A $connect that rejects, or takes longer
        than the grace, still leaves the post with 410, as on AWS.
        """
        opening = self._connecting.get(connection_id)
        if opening is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(opening), CONNECT_ANSWER_GRACE_SECONDS)
        return self._connections.get(connection_id)

    async def _get_connection(self, request: web.Request) -> web.Response:
        connection = self._connections.get(request.match_info["connection_id"])
        if connection is None:
            return _aws_error(410, "GoneException", None)
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
            return _aws_error(410, "GoneException", None)
        await connection.close(WSCloseCode.OK, "Connection closed by DeleteConnection")
        return web.Response(status=204)

    # -- Lambda Invoke API (Step Functions' Lambda tasks arrive here)

    async def _invoke_function(self, request: web.Request) -> web.Response:
        function = self._find_function(request.match_info["function"])
        if function is None:
            message = f"Function not found: {request.match_info['function']}"
            return _aws_error(404, "ResourceNotFoundException", message)
        try:
            payload = await request.read()
            event = json.loads(payload) if payload.strip() else {}
        except ValueError:
            return _aws_error(400, "InvalidRequestContentException", "Could not parse request body into json")
        invocation_type = request.headers.get("X-Amz-Invocation-Type", "RequestResponse")
        if invocation_type == "DryRun":
            return web.Response(status=204)
        if invocation_type == "Event":
            self._lambdas.invoke_async(function, event)
            return web.Response(status=202)
        try:
            outcome = await self._lambdas.invoke(function, event, queue_timeout=INTEGRATION_TIMEOUT_SECONDS)
        except Throttled as error:
            return _aws_error(429, "TooManyRequestsException", str(error))
        headers = {"X-Amz-Executed-Version": "$LATEST", "Content-Type": "application/json"}
        if outcome.function_error:
            headers["X-Amz-Function-Error"] = outcome.function_error
        return web.Response(status=200, body=outcome.payload_bytes, headers=headers)

    # -- the browser client

    async def _static(self, request: web.Request) -> web.StreamResponse:
        if self._web_dir is None:
            raise web.HTTPNotFound()
        relative = request.match_info["path"] or "index.html"
        target = (self._web_dir / relative).resolve()
        if not target.is_relative_to(self._web_dir) or not target.is_file():
            raise web.HTTPNotFound()
        return web.FileResponse(target, headers={"Cache-Control": "no-cache"})


def _status_code(payload: Any) -> int:
    if isinstance(payload, dict) and "statusCode" in payload:
        try:
            return int(payload["statusCode"])
        except (TypeError, ValueError):
            return 500
    return 200


def _response_body(payload: Any) -> str | None:
    if isinstance(payload, dict):
        body = payload.get("body")
        if body is None:
            return None
        if payload.get("isBase64Encoded"):
            try:
                return base64.b64decode(body).decode("utf-8", "replace")
            except (binascii.Error, ValueError):
                return None
        return body if isinstance(body, str) else json.dumps(body)
    if payload is None:
        return None
    return payload if isinstance(payload, str) else json.dumps(payload)


def _aws_error(status: int, code: str, message: str | None) -> web.Response:
    return web.json_response({"message": message}, status=status, headers={"x-amzn-ErrorType": code})


def _iso(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).isoformat(timespec="milliseconds")
