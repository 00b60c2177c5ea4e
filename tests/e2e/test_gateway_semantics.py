"""The gateway's API Gateway semantics, with scripted integrations in place of the Lambda service.

Real WebSocket and HTTP clients on loopback; what each route's function answers is scripted, so the
cases the chat's own handlers never produce ($connect refusing, a route without a response, no
$default route, an integration error) are covered too.
"""

import asyncio
import base64
import contextlib
import json
from pathlib import Path

import aiohttp
import pytest
import websockets
from aiohttp import web

from local.apigateway.limits import MAX_MESSAGE_BYTES, GatewayLimits
from local.apigateway.management_api import ManagementApi
from local.apigateway.open_connections import Connections
from local.apigateway.websocket import WebSocketApi
from local.awslambda.invocation import Invocation
from local.awslambda.invoke_api import InvokeApi
from local.console import Console
from local.static import StaticFiles
from local.template import FunctionSpec, RouteSpec, WebSocketApiSpec


def function(name: str) -> FunctionSpec:
    return FunctionSpec(
        logical_id=name,
        display_name=name,
        name=name,
        arn=f"arn:aws:lambda:us-east-1:123456789012:function:{name}",
        handler=f"{name}.handler",
        runtime="python3.13",
        code_dir=Path("."),
        environment={},
        timeout_seconds=3,
        memory_mb=128,
    )


class ScriptedLambdas:
    """Answers each function with a scripted Invocation and records the events it was given."""

    def __init__(self, answers: dict[str, Invocation], *, hold: dict[str, asyncio.Event] | None = None):
        self.answers = answers
        self.hold = hold or {}  # function name -> answered only once the event is set
        self.events: dict[str, list[dict]] = {name: [] for name in answers}

    async def invoke(self, spec: FunctionSpec, event, *, queue_timeout=None) -> Invocation:
        self.events[spec.name].append(event)
        if spec.name in self.hold:
            await self.hold[spec.name].wait()
        return self.answers[spec.name]

    def invoke_async(self, spec, event) -> None:
        self.events[spec.name].append(event)


def api_with(routes: dict[str, bool]) -> WebSocketApiSpec:
    """routes: route key -> whether the route has a route response."""
    specs = {key: RouteSpec(key, function(_name(key)), returns) for key, returns in routes.items()}
    return WebSocketApiSpec("Api", "abc123", "chat", "$request.body.action", "dev", specs)


def _name(route_key: str) -> str:
    return route_key.strip("$") or "route"


@contextlib.asynccontextmanager
async def serving(
    api: WebSocketApiSpec,
    lambdas: ScriptedLambdas,
    *,
    limits: GatewayLimits | None = None,
    web_dir: Path | None = None,
    find_function=None,
):
    """The WebSocket and @connections APIs; the Invoke API with `find_function`, the files of `web_dir`."""
    connections = Connections()
    limits = limits or GatewayLimits()
    websocket = WebSocketApi(api, lambdas, Console(), connections, limits=limits, region="us-east-1", account=ACCOUNT)
    app = web.Application()
    websocket.add_routes(app)
    ManagementApi(api.stage, connections).add_routes(app)
    if find_function is not None:
        InvokeApi(lambdas, find_function=find_function).add_routes(app)
    if web_dir is not None:
        StaticFiles(web_dir).add_routes(app)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    try:
        yield f"127.0.0.1:{port}"
    finally:
        await websocket.close()
        await runner.cleanup()


OK = Invocation({"statusCode": 200})
ACCOUNT = "123456789012"


@pytest.mark.parametrize(
    ("answer", "status"),
    [
        (Invocation({"statusCode": 403}), 403),
        (Invocation({"statusCode": 401, "body": "no"}), 401),
        (Invocation({"errorType": "ValueError", "errorMessage": "boom"}, "Unhandled"), 500),
    ],
)
def test_connect_refusing_or_failing_rejects_the_handshake(answer, status):
    lambdas = ScriptedLambdas({"connect": answer})

    async def scenario():
        async with serving(api_with({"$connect": False}), lambdas) as host:
            with pytest.raises(websockets.InvalidStatus) as refused:
                await websockets.connect(f"ws://{host}/dev")
            return refused.value.response.status_code

    assert asyncio.run(scenario()) == status
    event = lambdas.events["connect"][0]
    assert event["requestContext"]["eventType"] == "CONNECT" and event["requestContext"]["routeKey"] == "$connect"


def test_events_carry_what_api_gateway_sends():
    lambdas = ScriptedLambdas({"connect": OK, "default": OK, "disconnect": OK})

    async def scenario():
        async with serving(api_with({"$connect": False, "$default": False, "$disconnect": False}), lambdas) as host:
            client = await websockets.connect(f"ws://{host}/dev?room=blue", user_agent_header="tester/1")
            await client.send("plain text")
            await client.send(b"\x00\x01binary")
            await asyncio.sleep(0.3)
            await client.close()
            await asyncio.sleep(0.3)

    asyncio.run(scenario())
    connect = lambdas.events["connect"][0]
    assert connect["queryStringParameters"] == {"room": "blue"}
    assert connect["requestContext"]["identity"] == {"sourceIp": "127.0.0.1", "userAgent": "tester/1"}
    text, binary = lambdas.events["default"]
    assert (text["body"], text["isBase64Encoded"]) == ("plain text", False)
    assert base64.b64decode(binary["body"]) == b"\x00\x01binary" and binary["isBase64Encoded"]
    connection_id = connect["requestContext"]["connectionId"]
    for event in (text, binary):
        context = event["requestContext"]
        assert context["connectionId"] == connection_id and context["eventType"] == "MESSAGE"
        assert context["messageId"] and context["requestId"] and context["stage"] == "dev"
    disconnect = lambdas.events["disconnect"][0]["requestContext"]
    assert disconnect["disconnectStatusCode"] == 1000 and disconnect["eventType"] == "DISCONNECT"


def test_route_response_only_where_the_route_has_one():
    answer = Invocation({"statusCode": 200, "body": '{"reply":true}'})
    lambdas = ScriptedLambdas({"talk": answer, "quiet": answer})

    async def scenario():
        async with serving(api_with({"talk": True, "quiet": False}), lambdas) as host:
            client = await websockets.connect(f"ws://{host}/dev")
            await client.send(json.dumps({"action": "quiet"}))
            await client.send(json.dumps({"action": "talk"}))
            reply = await asyncio.wait_for(client.recv(), 5)
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(client.recv(), 0.5)
            await client.close()
            return reply

    assert json.loads(asyncio.run(scenario())) == {"reply": True}
    assert len(lambdas.events["quiet"]) == 1


def route_response_reply(lambdas: ScriptedLambdas) -> str | bytes:
    """What a client gets back for an action routed to ``talk``, a route with a route response."""

    async def scenario():
        async with serving(api_with({"talk": True}), lambdas) as host:
            client = await websockets.connect(f"ws://{host}/dev")
            await client.send(json.dumps({"action": "talk"}))
            reply = await asyncio.wait_for(client.recv(), 5)
            await client.close()
            return reply

    return asyncio.run(scenario())


@pytest.mark.parametrize("status", [200, 400, 503])
def test_a_route_response_forwards_the_answer_whatever_its_status(status):
    """As API Gateway's route response does: the status only decides whether the API counts an IntegrationError
    (4XX/5XX, "Monitor WebSocket API execution with CloudWatch metrics"); the client gets the body either way."""
    lambdas = ScriptedLambdas({"talk": Invocation({"statusCode": status, "body": '{"type":"error"}'})})

    assert json.loads(route_response_reply(lambdas)) == {"type": "error"}


def test_an_answer_without_a_body_reaches_a_route_response_client_as_an_empty_frame():
    # As reported against API Gateway (serverless/serverless#6816): {"statusCode": 200} with no body on a
    # route with a route response arrives as an empty message, so every handler on such a route gives a body.
    lambdas = ScriptedLambdas({"talk": Invocation({"statusCode": 200})})

    assert route_response_reply(lambdas) == ""


def test_without_a_default_route_unmatched_frames_are_dropped_and_the_connection_stays():
    lambdas = ScriptedLambdas({"talk": Invocation({"statusCode": 200, "body": "ok"})})

    async def scenario():
        async with serving(api_with({"talk": True}), lambdas) as host:
            client = await websockets.connect(f"ws://{host}/dev")
            await client.send("not json")
            await client.send(json.dumps({"action": "talk"}))
            reply = await asyncio.wait_for(client.recv(), 5)
            await client.close()
            return reply

    assert asyncio.run(scenario()) == "ok"


def test_integration_error_answers_like_api_gateway():
    lambdas = ScriptedLambdas({"talk": Invocation({"errorType": "KeyError", "errorMessage": "x"}, "Unhandled")})

    async def scenario():
        async with serving(api_with({"talk": True}), lambdas) as host:
            client = await websockets.connect(f"ws://{host}/dev")
            await client.send(json.dumps({"action": "talk"}))
            reply = json.loads(await asyncio.wait_for(client.recv(), 5))
            await client.close()
            return reply

    reply = asyncio.run(scenario())
    assert reply["message"] == "Internal server error" and reply["connectionId"] and reply["requestId"]


def test_connections_api_status_codes():
    lambdas = ScriptedLambdas({"connect": OK})

    async def scenario():
        async with serving(api_with({"$connect": False}), lambdas) as host:
            client = await websockets.connect(f"ws://{host}/dev")
            connection_id = lambdas.events["connect"][0]["requestContext"]["connectionId"]
            url = f"http://{host}/dev/@connections/"
            async with aiohttp.ClientSession() as http:
                too_big = await http.post(url + connection_id, data=b"x" * (MAX_MESSAGE_BYTES + 1))
                unknown = await http.get(url + "bm9ib2R5IGhlcmU=")
                fine = await http.post(url + connection_id, data=b"hello")
                received = await asyncio.wait_for(client.recv(), 5)
                deleted = await http.delete(url + connection_id)
                deleted_again = await http.delete(url + connection_id)
                statuses = [r.status for r in (too_big, unknown, fine, deleted, deleted_again)]
                error_types = [r.headers.get("x-amzn-ErrorType") for r in (too_big, unknown, deleted_again)]
            await client.close()
            return statuses, error_types, received

    statuses, error_types, received = asyncio.run(scenario())
    assert statuses == [413, 410, 200, 204, 410]
    assert error_types == ["PayloadTooLargeException", "GoneException", "GoneException"]
    assert received == "hello"


@pytest.mark.parametrize(("answer", "post_status"), [(OK, 200), (Invocation({"statusCode": 403}), 410)])
def test_post_racing_the_connect_answer_waits_for_it(answer, post_status):
    """The handshake's post may overtake the $connect answer locally: it waits for the answer, then
    is delivered once the connection opened, or gets 410 when $connect refused it."""

    async def scenario():
        answered = asyncio.Event()
        lambdas = ScriptedLambdas({"connect": answer}, hold={"connect": answered})
        async with serving(api_with({"$connect": False}), lambdas) as host:
            connecting = asyncio.ensure_future(websockets.connect(f"ws://{host}/dev"))
            while not lambdas.events["connect"]:
                await asyncio.sleep(0.01)
            connection_id = lambdas.events["connect"][0]["requestContext"]["connectionId"]
            async with aiohttp.ClientSession() as http:
                post = asyncio.ensure_future(http.post(f"http://{host}/dev/@connections/{connection_id}", data=b"hi"))
                await asyncio.sleep(0.1)
                answered.set()
                status = (await post).status
            try:
                client = await connecting
            except websockets.InvalidStatus:
                return status, None
            frame = await asyncio.wait_for(client.recv(), 5)
            await client.close()
            return status, frame

    status, frame = asyncio.run(scenario())
    assert status == post_status
    assert frame == ("hi" if post_status == 200 else None)
