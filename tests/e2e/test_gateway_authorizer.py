"""The gateway's $connect REQUEST authorizer, with a scripted authorizer function: real WebSocket clients on
loopback, every answer API Gateway distinguishes (Allow, Deny, Unauthorized, error, timeout, malformed), the
identity source, and the context on every later route of the connection."""

import asyncio
import json

import pytest
import websockets

from local.awslambda.invocation import Invocation
from local.template import AuthorizerSpec, RouteSpec, WebSocketApiSpec
from tests.e2e.test_gateway_semantics import OK, ScriptedLambdas, function, serving

METHOD_ARN = "arn:aws:execute-api:us-east-1:123456789012:abc123/dev/$connect"
CONTEXT = {"user_id": "sub-1", "username": "alice", "token_expires_at": 1999999999}


def authorized_api(*sources: str) -> WebSocketApiSpec:
    authorizer = AuthorizerSpec("Authorizer", function("authorize"), sources or ("route.request.querystring.token",))
    routes = {
        "$connect": RouteSpec("$connect", function("connect"), False, authorizer),
        "$default": RouteSpec("$default", function("default"), False),
        "sendMessage": RouteSpec("sendMessage", function("send"), False),
        "$disconnect": RouteSpec("$disconnect", function("disconnect"), False),
    }
    return WebSocketApiSpec("Api", "abc123", "chat", "$request.body.action", "dev", routes)


def policy(effect: str, resource: str = METHOD_ARN, **extra) -> Invocation:
    statement = {"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}
    return Invocation(
        {"principalId": "sub-1", "policyDocument": {"Version": "2012-10-17", "Statement": [statement]}, **extra}
    )


def lambdas_with(authorizer_answer: Invocation) -> ScriptedLambdas:
    return ScriptedLambdas({"authorize": authorizer_answer, "connect": OK, "default": OK, "send": OK, "disconnect": OK})


def handshake_status(lambdas: ScriptedLambdas, query: str = "?token=abc", **connect_options) -> int:
    async def scenario():
        async with serving(authorized_api(), lambdas) as host:
            try:
                client = await websockets.connect(f"ws://{host}/dev{query}", **connect_options)
            except websockets.InvalidStatus as refused:
                return refused.response.status_code
            await client.close()
            return 101

    return asyncio.run(scenario())


def test_allowed_context_reaches_connect_and_every_later_route_of_the_connection():
    lambdas = lambdas_with(policy("Allow", context=CONTEXT))

    async def scenario():
        async with serving(authorized_api(), lambdas) as host:
            client = await websockets.connect(f"ws://{host}/dev?token=abc")
            await client.send("plain")
            await client.send(json.dumps({"action": "sendMessage", "message": "hi"}))
            await asyncio.sleep(0.3)
            await client.close()
            await asyncio.sleep(0.3)

    asyncio.run(scenario())
    expected = {**CONTEXT, "principalId": "sub-1"}
    events = [lambdas.events[name][0] for name in ("connect", "default", "send", "disconnect")]
    assert [event["requestContext"]["authorizer"] for event in events] == [expected] * 4
    (event,) = lambdas.events["authorize"]
    assert event["type"] == "REQUEST" and event["methodArn"] == METHOD_ARN
    assert event["queryStringParameters"] == {"token": "abc"}
    assert event["multiValueQueryStringParameters"] == {"token": ["abc"]}
    assert event["headers"]["Upgrade"] == "websocket" and event["multiValueHeaders"]["Upgrade"] == ["websocket"]
    assert event["requestContext"]["routeKey"] == "$connect" and event["requestContext"]["eventType"] == "CONNECT"
    assert event["requestContext"]["connectionId"] == events[0]["requestContext"]["connectionId"]
    assert "authorizer" not in event["requestContext"]


def test_a_missing_or_empty_identity_source_is_refused_401_without_invoking_the_authorizer():
    for query in ("", "?other=1", "?token="):
        lambdas = lambdas_with(policy("Allow"))
        assert handshake_status(lambdas, query) == 401, query
        assert lambdas.events["authorize"] == [] and lambdas.events["connect"] == []


def test_a_token_in_a_header_is_not_the_query_string_identity_source():
    lambdas = lambdas_with(policy("Allow"))
    assert handshake_status(lambdas, "", additional_headers={"token": "abc"}) == 401
    assert lambdas.events["authorize"] == []


def test_a_header_identity_source_is_read_case_insensitively():
    lambdas = lambdas_with(policy("Allow"))

    async def scenario():
        async with serving(authorized_api("route.request.header.Auth"), lambdas) as host:
            client = await websockets.connect(f"ws://{host}/dev", additional_headers={"auth": "abc"})
            await client.close()

    asyncio.run(scenario())
    assert len(lambdas.events["authorize"]) == 1


@pytest.mark.parametrize(
    ("answer", "status"),
    [
        (policy("Deny"), 403),
        (policy("Allow", resource="arn:aws:execute-api:us-east-1:123456789012:other/dev/$connect"), 403),
        (Invocation({"errorType": "Exception", "errorMessage": "Unauthorized"}, "Unhandled"), 401),
        (Invocation({"errorType": "KeyError", "errorMessage": "boom"}, "Unhandled"), 500),
        (Invocation({"errorType": "Sandbox.Timedout", "errorMessage": "Task timed out"}, "Unhandled"), 500),
        (Invocation("Allow"), 500),
        (Invocation({"policyDocument": {"Statement": []}}), 500),
        (policy("Allow", context={"user": {"id": "nested"}}), 500),
    ],
    ids=["deny", "allow-elsewhere", "unauthorized", "error", "timeout", "not-an-object", "no-principal", "nested"],
)
def test_refusals_answer_as_api_gateway_does_and_never_reach_connect(answer, status):
    lambdas = lambdas_with(answer)
    assert handshake_status(lambdas) == status
    assert lambdas.events["connect"] == []


def test_a_wildcard_allow_covers_the_method_arn():
    lambdas = lambdas_with(policy("Allow", resource="arn:aws:execute-api:us-east-1:123456789012:abc123/*"))
    assert handshake_status(lambdas) == 101


def test_results_are_not_cached_every_connect_invokes_the_authorizer():
    lambdas = lambdas_with(policy("Allow"))
    for _ in range(2):
        assert handshake_status(lambdas) == 101
    assert len(lambdas.events["authorize"]) == 2
