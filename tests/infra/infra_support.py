"""Helpers of the infra tests: cdk.json's stages, reading templates (imported by conftest and tests); synthesis
is the app's own (cdk/synthesis.py)."""

import os
import subprocess
from pathlib import Path
from typing import Any

from cdk.functions import ROOM_ACTIONS
from cdk.paths import PROJECT_ROOT  # noqa: F401  (the tests' one name for it)
from cdk.synthesis import cdk_json_context
from local.template import custom_resource_providers

CONTEXT = cdk_json_context()  # cdk.json's context
STAGES = tuple(CONTEXT["stages"])  # every stage cdk.json defines
# The chat's functions as the tests expect them: construct id -> (handler module, route key or keys; None for a
# task).
FUNCTIONS = {
    "OnConnect": ("on_connect", "$connect"),
    "OnDisconnect": ("on_disconnect", "$disconnect"),
    "OnDefault": ("on_default", "$default"),
    "SendMessage": ("send_message", "sendMessage"),
    "History": ("history", "history"),
    "ListConversations": ("list_conversations", "listConversations"),
    "Rooms": ("rooms", ROOM_ACTIONS),  # one function, five routes
    "SendConnectionId": ("send_connection_id", None),
    "PackHistory": ("pack_history", None),
}
ROUTES = {  # route key -> handler module
    route: module
    for module, routes in FUNCTIONS.values()
    for route in ((routes,) if isinstance(routes, str) else routes or ())
}
ROUTE_HANDLERS = tuple(name for name, (_, route) in FUNCTIONS.items() if route)  # construct ids
TASKS = tuple(name for name, (_, route) in FUNCTIONS.items() if not route)  # construct ids
MODULES = {name: module for name, (module, _) in FUNCTIONS.items()}  # construct id -> handler module
# On a stage with sign-in, one function more: the $connect authorizer (construct id -> handler module). It is no
# route's integration; it is alarmed as the route handlers are.
AUTHORIZER = {"Authorize": "authorize"}


MAKE_SILENCES_JSII = "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"  # the Makefile's, and tests/conftest.py's


def npx_cdk(checkout: Path, *args: str) -> subprocess.CompletedProcess:
    """``npx cdk <args>`` in ``checkout`` as a developer types it in a terminal of their own: without make's
    environment (MAKE_SILENCES_JSII), with no standard input, as CI runs (CI=true)."""
    environment = {name: value for name, value in os.environ.items() if name != MAKE_SILENCES_JSII} | {"CI": "true"}
    return subprocess.run(
        ["npx", "cdk", *args],
        cwd=checkout,
        env=environment,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def stage_settings(stage: str) -> dict[str, Any]:
    return CONTEXT["stages"][stage]


def has_users(stage: str) -> bool:
    """The stage signs clients in (auth cognito): a user pool, the $connect authorizer."""
    return stage_settings(stage)["auth"] == "cognito"


def modules(stage: str) -> dict[str, str]:
    """Every function of the stage: construct id -> handler module."""
    return {**MODULES, **(AUTHORIZER if has_users(stage) else {})}


def route_handlers(stage: str) -> tuple[str, ...]:
    """The functions API Gateway invokes (construct ids): the route handlers, and the authorizer if there is one."""
    return (*(AUTHORIZER if has_users(stage) else {}), *ROUTE_HANDLERS)


# --- reading templates ---


def resources(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    """Logical id -> Properties of every resource of ``resource_type``."""
    return {
        logical_id: resource.get("Properties", {})
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == resource_type
    }


def chat_functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Logical id -> Properties of the chat's own functions: every Lambda function but the deploy-time ones
    CloudFormation runs for custom resources (as the local runtime tells them apart)."""
    deploy_time = custom_resource_providers(template["Resources"])
    return {
        logical_id: properties
        for logical_id, properties in resources(template, "AWS::Lambda::Function").items()
        if logical_id not in deploy_time
    }


def chat_layers(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Logical id -> Properties of the chat's own Lambda layers: not the AWS CLI layer CDK's BucketDeployment brings
    for the web client's files (deploy-time, like its function)."""
    return {
        logical_id: properties
        for logical_id, properties in resources(template, "AWS::Lambda::LayerVersion").items()
        if "/WebClient/" not in template["Resources"][logical_id].get("Metadata", {}).get("aws:cdk:path", "")
    }


def render(value: Any) -> Any:
    """Intrinsics as readable text: Ref X -> <X>, GetAtt X.Arn -> <X.Arn>, Fn::Join joined; lists element-wise."""
    if isinstance(value, list):
        return [render(item) for item in value]
    if isinstance(value, dict):
        if set(value) == {"Ref"}:
            return f"<{value['Ref']}>"
        if set(value) == {"Fn::GetAtt"}:
            return f"<{'.'.join(value['Fn::GetAtt'])}>"
        if set(value) == {"Fn::Join"}:
            separator, parts = value["Fn::Join"]
            return separator.join(str(render(part)) for part in parts)
        return {key: render(item) for key, item in value.items()}
    return value


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def function_id(template: dict[str, Any], module: str) -> str:
    """Logical id of the Lambda function whose handler lives in lambdas/<module>.py."""
    (logical_id,) = [
        logical_id
        for logical_id, properties in chat_functions(template).items()
        if properties["Handler"] == f"{module}.handler"
    ]
    return logical_id


def workflow_id(template: dict[str, Any], name: str) -> str:
    """Logical id of the state machine of construct Workflows/<name> (ConnectionHandshake, MessageFanout, ...)."""
    (logical_id,) = [
        logical_id
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::StepFunctions::StateMachine"
        and resource.get("Metadata", {}).get("aws:cdk:path", "").endswith(f"/Workflows/{name}/Resource")
    ]
    return logical_id


# Every state machine, by its construct id (Workflows/<id>).
WORKFLOWS = (
    "ConnectionHandshake",
    "MessageFanout",
    "ConnectionCleanup",
    "HistoryPage",
    "ConversationList",
    "RoomFanout",
    "UserRemoval",
    "RoomChange",
    "RoomListing",
)


# The data model's tables by their keys (partition, sort): a table's name in the tests is what it holds.
TABLE_KEYS = {
    ("connection_id", None): "connections",
    ("username", None): "users",
    ("conversation", "sent_key"): "messages",
    ("room", None): "rooms",
    ("room", "username"): "memberships",
    ("username", "conversation"): "conversations",
}


def table_ids(template: dict[str, Any]) -> dict[str, str]:
    """ "connections", "users", "messages", "rooms", "memberships", "conversations" -> that table's logical id."""

    def keys(properties: dict[str, Any]) -> tuple[str, str | None]:
        schema = {key["KeyType"]: key["AttributeName"] for key in properties["KeySchema"]}
        return schema["HASH"], schema.get("RANGE")

    return {
        TABLE_KEYS[keys(properties)]: logical_id
        for logical_id, properties in resources(template, "AWS::DynamoDB::Table").items()
    }
