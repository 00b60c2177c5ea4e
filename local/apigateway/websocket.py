"""The stage's WebSocket API, as API Gateway runs it: upgrade, $connect and $disconnect, frames routed
to their integrations, route responses, idle and lifetime expiry, and closing on shutdown."""

import asyncio
import base64
import binascii
import contextlib
import json
from collections.abc import Awaitable
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web
from aiohttp.http_websocket import WebSocketError

from local.apigateway.authorizer import RequestAuthorizer, method_arn
from local.apigateway.events import ClientInfo, EventFactory, aws_style_id, now_ms
from local.apigateway.frame_headers import check_client_frames
from local.apigateway.limits import INTEGRATION_TIMEOUT_SECONDS, MAX_MESSAGE_BYTES, GatewayLimits
from local.apigateway.open_connections import Connection, Connections
from local.apigateway.routing import RouteSelector
from local.apigateway.throttle import StageThrottle
from local.apigateway.turns import FairTurns
from local.awslambda.invocation import Invocation, Throttled
from local.awslambda.service import LambdaService
from local.console import Console
from local.template import RouteSpec, WebSocketApiSpec

GOING_AWAY = 1001
# Ctrl-C, or a reload that changes the API: clients are told (1001) and their $disconnect handlers get
# this long in all; frames still being routed then are dropped.
SHUTDOWN_GRACE_SECONDS = 4


class WebSocketApi:
    def __init__(
        self,
        api: WebSocketApiSpec,
        lambdas: LambdaService,
        console: Console,
        connections: Connections,
        *,
        limits: GatewayLimits,
        region: str,
        account: str,
    ):
        self._api = api
        self._lambdas = lambdas
        self._console = console
        self._connections = connections
        self._limits = limits
        self._events = EventFactory(api_id=api.api_id, stage=api.stage)
        connect = api.routes.get("$connect")
        self._authorizer = (
            RequestAuthorizer(
                connect.authorizer,
                lambdas,
                console,
                method_arn=method_arn(region=region, account=account, api_id=api.api_id, stage=api.stage),
            )
            if connect is not None and connect.authorizer is not None
            else None
        )
        # $connect and $disconnect run only on connect and close; a frame naming them goes to $default.
        selectable = {key for key in api.routes if key not in ("$connect", "$disconnect")}
        self._selector = RouteSelector(api.route_selection_expression, selectable)
        self._throttle = StageThrottle(api.throttle, api.route_throttles) if limits.stage_throttle else None
        self._turns: dict[str, FairTurns] = {}  # function name -> its workers' turns
        self._at_capacity = False  # the connection cap is logged once each time it is reached
        self._tasks: set[asyncio.Task] = set()

    def add_routes(self, app: web.Application) -> None:
        stage = self._api.stage
        app.router.add_get(f"/{stage}", self._websocket)
        app.router.add_get(f"/{stage}/", self._websocket)

    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        socket = web.WebSocketResponse(max_msg_size=MAX_MESSAGE_BYTES, compress=False, autoping=True)
        if not socket.can_prepare(request).ok:
            return web.Response(status=426, text="Upgrade Required: this is a WebSocket endpoint\n")
        if self._refuse_beyond_the_cap():
            return web.json_response({"message": "Too Many Requests"}, status=429)
        client = ClientInfo(
            connection_id=aws_style_id(),
            source_ip=request.remote or "127.0.0.1",
            user_agent=request.headers.get("User-Agent", ""),
            host=request.host,
        )
        with self._connections.connecting(client.connection_id):
            rejection = await self._run_connect(client, request)
            if rejection is not None:
                return rejection
            try:
                await socket.prepare(request)
            except ConnectionResetError:  # it went while $connect ran; aiohttp answers nobody, quietly
                self._console.info(
                    f"client {client.connection_id} left during the handshake: its connection never opened"
                    " (posts to it answer 410)"
                )
                return socket
            connection = Connection(client, socket, request.transport)
            check_client_frames(socket, request, on_eof=connection.gone.set)
            self._connections.add(connection)
        self._console.info(f"connected {client.connection_id} from {client.source_ip}")
        watchdog = asyncio.create_task(self._expire(connection))
        try:
            async for message in socket:
                if message.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                    client.last_active_at = now_ms()
                    is_base64 = message.type == WSMsgType.BINARY
                    body = base64.b64encode(message.data).decode("ascii") if is_base64 else message.data
                    await self._accept_frame(connection, body, is_base64=is_base64)
                elif message.type == WSMsgType.ERROR:
                    connection.server_close = _closed_for(message.data)
        finally:
            watchdog.cancel()
            connection.gone.set()
            self._connections.remove(client.connection_id)
            status, reason = connection.disconnect_status()
            self._console.info(f"disconnected {client.connection_id} ({status}: {reason}){_frame_counts(connection)}")
            self._spawn(self._run_disconnect(client, status, reason))
        return socket

    def _refuse_beyond_the_cap(self) -> bool:
        """At `max_connections`, a new client is refused with 429 (said once, not per refusal)."""
        cap = self._limits.max_connections
        if len(self._connections) < cap:
            self._at_capacity = False
            return False
        if not self._at_capacity:
            self._at_capacity = True
            self._console.info(
                f"{cap} connections open: refusing new ones with 429 until one closes (serve --max-connections)"
            )
        return True

    def _allowed(self, route_key: str, client: ClientInfo) -> bool:
        return self._throttle is None or self._throttle.allows(route_key, client.connection_id)

    async def _accept_frame(self, connection: Connection, body: str, *, is_base64: bool) -> None:
        """Route selection and the stage's throttle, then the frame waits for its turn at a worker."""
        if connection.gone.is_set():  # read from the buffer after the client went: not routed
            connection.dropped += 1
            return
        route_key = "$default" if is_base64 else self._selector.select(body)
        route = self._api.routes.get(route_key)
        if route is None:
            self._console.info(f"no route for a frame from {connection.client.connection_id}: dropped, like AWS")
            return
        if not self._allowed(route_key, connection.client):
            connection.throttled += 1
            reply = {
                "message": "Too Many Requests",
                "connectionId": connection.client.connection_id,
                "requestId": aws_style_id(),
            }
            await self._send_quietly(connection, json.dumps(reply))
            return
        if not await connection.reserve():  # at its limit, stop reading: TCP pushes back
            connection.dropped += 1
            return
        self._spawn(self._route_message(connection, route, body, is_base64=is_base64))

    async def _run_connect(self, client: ClientInfo, request: web.Request) -> web.Response | None:
        route = self._api.routes.get("$connect")
        if route is None:
            return None
        headers = dict(request.headers)
        headers.setdefault("X-Forwarded-For", client.source_ip)
        query = {name: request.query.getall(name) for name in request.query}
        if not self._allowed("$connect", client):
            return web.json_response({"message": "Too Many Requests"}, status=429)
        event = self._events.connect(client, headers, query)
        if self._authorizer is not None:
            decision = await self._authorizer.decide(event, headers, query)
            if not decision.allowed:
                self._console.info(f"$connect refused {decision.status}: {decision.reason}")
                return web.json_response({"message": decision.message}, status=decision.status)
            client.authorizer = decision.authorizer
            event["requestContext"]["authorizer"] = dict(decision.authorizer)
        outcome = await self._invoke_route(route, event)
        if outcome is None or outcome.function_error:
            return web.json_response({"message": "Internal server error"}, status=500)
        status = _status_code(outcome.payload)
        if not 200 <= status < 300:
            self._console.info(f"$connect rejected the handshake with {status}")
            return web.Response(status=status if status >= 400 else 403)
        return None

    async def _route_message(self, connection: Connection, route: RouteSpec, body: str, *, is_base64: bool) -> None:
        turns = self._turns.get(route.function.name)
        if turns is None:
            turns = self._turns[route.function.name] = FairTurns(self._limits.route_concurrency)
        try:
            async with turns.turn(connection.client.connection_id):
                if connection.gone.is_set():  # it closed while this frame waited: not routed
                    connection.dropped += 1
                    return
                await self._run_route(connection, route, body, is_base64=is_base64)
        finally:
            connection.in_flight.release()

    async def _run_route(self, connection: Connection, route: RouteSpec, body: str, *, is_base64: bool) -> None:
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
            if body is not None:
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

    async def _send_quietly(self, connection: Connection, data: str) -> None:
        with contextlib.suppress(ConnectionError):  # the client left meanwhile; AWS drops the reply too
            await connection.send(data)

    async def _expire(self, connection: Connection) -> None:
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
        """Close every connection with 1001 and let their $disconnect handlers finish, for at most
        SHUTDOWN_GRACE_SECONDS; what is still running then is cancelled."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._close(), SHUTDOWN_GRACE_SECONDS)

    async def _close(self) -> None:
        closing = [
            connection.close(GOING_AWAY, "Going away: server shutting down") for connection in self._connections.all()
        ]
        await asyncio.gather(*closing)
        while self._connections:
            await asyncio.sleep(0.05)  # each socket's handler unregisters it and spawns its $disconnect
        await asyncio.gather(*self._tasks, return_exceptions=True)


def _frame_counts(connection: Connection) -> str:
    counts = [f"{connection.throttled} frames throttled"] if connection.throttled else []
    if connection.dropped:
        counts.append(f"{connection.dropped} frames dropped: it went before they were routed")
    return "; " + ", ".join(counts) if counts else ""


def _closed_for(error: BaseException) -> tuple[int, str]:
    """What the client was told when its frames broke the protocol: aiohttp has sent a close frame
    with the error's code (1002, 1007, 1009) before giving up on the socket; 1006 for a dropped one."""
    if isinstance(error, WebSocketError):
        return error.code, str(error)
    return WSCloseCode.ABNORMAL_CLOSURE, str(error) or type(error).__name__


def _status_code(payload: Any) -> int:
    if isinstance(payload, dict) and "statusCode" in payload:
        try:
            return int(payload["statusCode"])
        except (TypeError, ValueError):
            return 500
    return 200


def _response_body(payload: Any) -> str | None:
    """What a route response forwards: a proxy answer without a body still reaches the client, as an
    empty frame (reported against API Gateway: serverless/serverless#6816)."""
    if isinstance(payload, dict):
        body = payload.get("body")
        if body is None:
            return ""
        if payload.get("isBase64Encoded"):
            try:
                return base64.b64decode(body).decode("utf-8", "replace")
            except (binascii.Error, ValueError):
                return None
        return body if isinstance(body, str) else json.dumps(body)
    if payload is None:
        return None
    return payload if isinstance(payload, str) else json.dumps(payload)
