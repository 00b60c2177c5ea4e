"""The WebSocket API construct routes each action of its mapping to its function: adding an action is one entry."""

import aws_cdk
import pytest
from aws_cdk import aws_lambda as lambda_
from infra_support import CONTEXT, render, resources

from cdk.stage_config import load_stage_config
from cdk.websocket_api import ChatWebSocketApi


def api_template(action_names: list[str]) -> dict:
    stack = aws_cdk.Stack(aws_cdk.App(), "Api")
    functions = {
        name: lambda_.Function(
            stack,
            name,
            runtime=lambda_.Runtime.PYTHON_3_13,
            handler=f"{name}.handler",
            code=lambda_.Code.from_inline("def handler(event, context): pass"),
        )
        for name in ["connect", "disconnect", "default", *action_names]
    }
    ChatWebSocketApi(
        stack,
        "WebSocket",
        config=load_stage_config(CONTEXT["stages"], "dev"),
        on_connect=functions["connect"],
        on_disconnect=functions["disconnect"],
        on_default=functions["default"],
        actions={name: functions[name] for name in action_names},
    )
    return aws_cdk.assertions.Template.from_stack(stack).to_json()


def test_each_action_gets_a_route_to_its_function_answering_the_caller():
    template = api_template(["sendMessage", "setName"])
    routes = resources(template, "AWS::ApiGatewayV2::Route")
    integrations = resources(template, "AWS::ApiGatewayV2::Integration")
    responses = resources(template, "AWS::ApiGatewayV2::RouteResponse")

    targets = {}
    for route in routes.values():
        integration = integrations[render(route["Target"]).removeprefix("integrations/").strip("<>")]
        targets[route["RouteKey"]] = render(integration["IntegrationUri"])
    assert set(targets) == {"$connect", "$disconnect", "$default", "sendMessage", "setName"}
    assert "<sendMessage" in targets["sendMessage"] and "<setName" in targets["setName"]
    answered = {routes[render(response["RouteId"]).strip("<>")]["RouteKey"] for response in responses.values()}
    assert answered == {"$default", "sendMessage", "setName"}


@pytest.mark.parametrize("names", [[], ["$connect"], ["send message"], ["a,b"]])
def test_an_action_must_be_a_plain_name(names):
    with pytest.raises(ValueError, match="actions must be 1 or more names"):
        api_template(names)
