"""The sample events are what API Gateway and Step Functions really send: the parser models accept them."""

import pytest
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import (
    APIGatewayWebSocketConnectEventModel,
    APIGatewayWebSocketDisconnectEventModel,
    APIGatewayWebSocketMessageEventModel,
)
from chat.events import AuthorizerEvent, ConnectEvent, MessageEvent
from chat.tasks import HandshakeTask
from pydantic import ValidationError

from tests.conftest import SignedInUser


def test_connect_event_is_a_websocket_connect_event(events):
    request = parse(event=events.connect(), model=APIGatewayWebSocketConnectEventModel).request_context
    assert (request.route_key, request.event_type) == ("$connect", "CONNECT")
    assert request.connection_id.endswith("=")


def test_disconnect_event_is_a_websocket_disconnect_event(events):
    request = parse(event=events.disconnect(), model=APIGatewayWebSocketDisconnectEventModel).request_context
    assert (request.route_key, request.event_type) == ("$disconnect", "DISCONNECT")


@pytest.mark.parametrize("route_key", ["sendMessage", "$default"])
def test_message_events_are_websocket_message_events(events, route_key):
    event = events.send_message() if route_key == "sendMessage" else events.default()
    request = parse(event=event, model=APIGatewayWebSocketMessageEventModel)
    assert request.request_context.route_key == route_key
    assert request.request_context.event_type == "MESSAGE"
    assert isinstance(request.body, str)


def test_a_connect_event_is_not_a_disconnect_event(events):
    with pytest.raises(ValidationError):
        parse(event=events.connect(), model=APIGatewayWebSocketDisconnectEventModel)


def test_task_payload_matches_the_task_model(events):
    assert HandshakeTask.model_validate(events.handshake_task()).connection_id


def test_authorizer_event_is_a_websocket_request_authorizer_event(events):
    event = parse(event=events.authorize(token="t"), model=AuthorizerEvent)
    assert event.method_arn.endswith("/dev/$connect")
    assert event.query_string_parameters == {"token": "t"}
    assert event.request_context.route_key == "$connect"


def test_the_authorizer_context_survives_parsing_on_every_route(events):
    user = SignedInUser("7d3c6a0e-sub", "alice")

    connect = parse(event=events.connect(user=user), model=ConnectEvent)
    message = parse(event=events.send_message(user=user), model=MessageEvent)

    assert connect.request_context.authorizer == message.request_context.authorizer == user.authorizer()
    assert parse(event=events.send_message(), model=MessageEvent).request_context.authorizer is None
