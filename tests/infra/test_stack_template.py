"""The synthesized Chat-<stage> stack: WebSocket API, functions, Express workflows, per-stage settings."""

import importlib.util
import json
import re
import uuid

import pytest
from aws_cdk.assertions import Template
from infra_support import (
    AUTHORIZER,
    PROJECT_ROOT,
    ROUTES,
    chat_functions,
    function_id,
    has_users,
    modules,
    render,
    resources,
    stage_settings,
)

from cdk.definitions import deployed_definition
from cdk.paths import LAMBDAS_DIR
from local.intrinsics import IntrinsicResolver

ASL_FILES = {path.name: path for path in (PROJECT_ROOT / "statemachines").glob("*.asl.json")}


# --- WebSocket API -----------------------------------------------------------------------------


def test_one_websocket_api_routing_on_the_action_field(template):
    Template.from_json(template).has_resource_properties(
        "AWS::ApiGatewayV2::Api",
        {"ProtocolType": "WEBSOCKET", "RouteSelectionExpression": "$request.body.action"},
    )
    assert len(resources(template, "AWS::ApiGatewayV2::Api")) == 1


def test_each_route_invokes_its_handler(template):
    routes = resources(template, "AWS::ApiGatewayV2::Route")
    integrations = resources(template, "AWS::ApiGatewayV2::Integration")
    functions = resources(template, "AWS::Lambda::Function")

    assert {route["RouteKey"] for route in routes.values()} == set(ROUTES)
    for route in routes.values():
        integration_id = render(route["Target"]).removeprefix("integrations/").strip("<>")
        integration = integrations[integration_id]
        assert integration["IntegrationType"] == "AWS_PROXY"
        (target,) = re.findall(r"/functions/<(\w+)\.Arn>/invocations", render(integration["IntegrationUri"]))
        assert functions[target]["Handler"] == f"{ROUTES[route['RouteKey']]}.handler"


def test_default_lists_every_action_the_api_routes(template):
    routes = resources(template, "AWS::ApiGatewayV2::Route").values()
    on_default = resources(template, "AWS::Lambda::Function")[function_id(template, "on_default")]

    actions = [route["RouteKey"] for route in routes if not route["RouteKey"].startswith("$")]
    assert on_default["Environment"]["Variables"]["VALID_ACTIONS"].split(",") == actions


def test_handlers_that_answer_errors_have_route_responses(template):
    routes = resources(template, "AWS::ApiGatewayV2::Route")
    responses = resources(template, "AWS::ApiGatewayV2::RouteResponse")

    answered = {routes[render(response["RouteId"]).strip("<>")]["RouteKey"] for response in responses.values()}
    assert answered == {"$default", *(route for route in ROUTES if not route.startswith("$"))}  # every action
    for response in responses.values():
        assert response["RouteResponseKey"] == "$default"
    for route in routes.values():
        two_way = route.get("RouteResponseSelectionExpression") == "$default"
        assert two_way == (route["RouteKey"] in answered), route["RouteKey"]


def test_api_gateway_may_invoke_only_the_route_handlers_and_the_authorizer(template, stage):
    permissions = resources(template, "AWS::Lambda::Permission")
    functions = resources(template, "AWS::Lambda::Function")

    invoked = set()
    for permission in permissions.values():
        assert permission["Principal"] == "apigateway.amazonaws.com"
        assert permission["Action"] == "lambda:InvokeFunction"
        assert "<WebSocketApi" in render(permission["SourceArn"])
        invoked.add(functions[render(permission["FunctionName"]).strip("<>").removesuffix(".Arn")]["Handler"])
    authorizer = {f"{module}.handler" for module in AUTHORIZER.values()} if has_users(stage) else set()
    assert invoked == {f"{module}.handler" for module in ROUTES.values()} | authorizer


def test_stage_is_throttled_and_access_logged_per_cdk_json(template, stage):
    settings = stage_settings(stage)
    (api_stage,) = resources(template, "AWS::ApiGatewayV2::Stage").values()

    assert api_stage["StageName"] == stage
    assert api_stage["AutoDeploy"] is True
    assert api_stage["DefaultRouteSettings"]["ThrottlingRateLimit"] == settings["throttle_rate_limit"]
    assert api_stage["DefaultRouteSettings"]["ThrottlingBurstLimit"] == settings["throttle_burst_limit"]
    access_logs = api_stage["AccessLogSettings"]
    destination = render(access_logs["DestinationArn"]).strip("<>").removesuffix(".Arn")
    assert template["Resources"][destination]["Type"] == "AWS::Logs::LogGroup"
    log_format = json.loads(access_logs["Format"])
    assert {"requestId", "connectionId", "routeKey", "status", "error"} <= set(log_format)


# --- Lambda functions ----------------------------------------------------------------------------


def test_one_function_per_handler_module(template, stage):
    handlers = sorted(f["Handler"] for f in chat_functions(template).values())

    assert handlers == sorted(f"{module}.handler" for module in modules(stage).values())
    for handler in handlers:
        assert (PROJECT_ROOT / "lambdas" / f"{handler.split('.')[0]}.py").is_file()


def test_functions_run_python313_on_arm64_with_active_tracing(template, stage):
    for properties in chat_functions(template).values():
        assert properties["Runtime"] == "python3.13"
        assert properties["Architectures"] == ["arm64"]
        assert properties["TracingConfig"] == {"Mode": "Active"}
        variables = properties["Environment"]["Variables"]
        assert variables["POWERTOOLS_LOG_LEVEL"] == stage_settings(stage)["log_level"]
        assert variables["STAGE"] == stage


def test_each_function_starts_with_the_environment_the_template_gives_it(templates, monkeypatch):
    """Each handler module is imported (a cold start) with only its function's variables set, each reference
    in them replaced by a name: a variable the handler requires and the stack forgot fails its import."""
    functions = chat_functions(templates("dev")).values()
    for name in {name for properties in functions for name in properties["Environment"]["Variables"]}:
        monkeypatch.delenv(name, raising=False)
    for properties in functions:
        module = properties["Handler"].split(".")[0]
        with monkeypatch.context() as environment:
            for name, value in properties["Environment"]["Variables"].items():
                environment.setenv(name, re.sub(r"<[^>]+>", "resolved", str(render(value))))
            spec = importlib.util.spec_from_file_location(f"cold_start_{module}", LAMBDAS_DIR / f"{module}.py")
            spec.loader.exec_module(importlib.util.module_from_spec(spec))


def test_each_function_is_told_its_own_timeout(template):
    for properties in chat_functions(template).values():
        assert float(properties["Environment"]["Variables"]["FUNCTION_TIMEOUT_SECONDS"]) == properties["Timeout"]


def test_handlers_are_wired_to_their_workflows_and_callback_url(template, stage):
    functions = resources(template, "AWS::Lambda::Function")
    machines = resources(template, "AWS::StepFunctions::StateMachine")

    def started_definition(module: str, variable: str) -> dict:
        machine_id = render(functions[function_id(template, module)]["Environment"]["Variables"][variable]).strip("<>")
        return json.loads(machines[machine_id]["DefinitionString"])

    assert started_definition("on_connect", "HANDSHAKE_STATE_MACHINE_ARN") == asl("connection_handshake.asl.json")
    assert started_definition("send_message", "FANOUT_STATE_MACHINE_ARN") == asl("message_fanout.asl.json")
    assert started_definition("on_disconnect", "CLEANUP_STATE_MACHINE_ARN") == asl("connection_cleanup.asl.json")
    assert started_definition("history", "HISTORY_STATE_MACHINE_ARN") == asl("history_page.asl.json")
    assert started_definition("list_conversations", "CONVERSATIONS_STATE_MACHINE_ARN") == asl(
        "list_conversations.asl.json"
    )
    for module in ("send_connection_id",):  # the one task function that posts (pack_history only computes)
        callback = render(functions[function_id(template, module)]["Environment"]["Variables"]["CALLBACK_URL"])
        assert re.fullmatch(
            rf"https://<WebSocketApi\w+>\.execute-api\.<AWS::Region>\.<AWS::URLSuffix>/{stage}", callback
        )


# --- Express workflows -------------------------------------------------------------------------


def asl(name: str) -> dict:
    """statemachines/<name> as deployed (with its retry policies)."""
    return json.loads(deployed_definition(name.removesuffix(".asl.json")))


def test_the_workflows_that_post_post_to_this_stage_of_this_api(template, stage):
    """apigateway:invoke's ApiEndpoint is the API's own host name: Step Functions supports no custom domains."""
    posting = [
        m for m in resources(template, "AWS::StepFunctions::StateMachine").values() if "ConnectionsStage" in str(m)
    ]

    # message_fanout, history_page, room_fanout, list_conversations, room_change, room_listing
    assert len(posting) == 6
    for machine in posting:
        substitutions = {name: render(value) for name, value in machine["DefinitionSubstitutions"].items()}
        assert substitutions["ConnectionsStage"] == stage
        assert re.fullmatch(
            r"<WebSocketApi\w+>\.execute-api\.<AWS::Region>\.<AWS::URLSuffix>",
            substitutions["ConnectionsApiEndpoint"],
        )


def test_state_machines_are_the_asl_files(template):
    machines = resources(template, "AWS::StepFunctions::StateMachine")

    assert sorted(json.loads(m["DefinitionString"])["StartAt"] for m in machines.values()) == sorted(
        asl(name)["StartAt"] for name in ASL_FILES
    )
    assert sorted(json.dumps(json.loads(m["DefinitionString"]), sort_keys=True) for m in machines.values()) == sorted(
        json.dumps(asl(name), sort_keys=True) for name in ASL_FILES
    )
    Template.from_json(template).resource_count_is("AWS::StepFunctions::StateMachine", len(ASL_FILES))


def test_state_machines_log_everything_and_trace(template, stage):
    include_data = stage_settings(stage)["log_execution_data"]
    for machine in resources(template, "AWS::StepFunctions::StateMachine").values():
        assert machine["StateMachineType"] == "EXPRESS"
        assert machine["TracingConfiguration"] == {"Enabled": True}
        logging = machine["LoggingConfiguration"]
        assert logging["Level"] == "ALL"
        assert logging["IncludeExecutionData"] is include_data
        (destination,) = logging["Destinations"]
        log_group = render(destination["CloudWatchLogsLogGroup"]["LogGroupArn"]).strip("<>").removesuffix(".Arn")
        assert template["Resources"][log_group]["Type"] == "AWS::Logs::LogGroup"


def test_state_machine_log_groups_are_vended_log_groups(template, stage):
    # The prefix keeps the account's CloudWatch Logs resource policy small (Step Functions guide).
    for machine in resources(template, "AWS::StepFunctions::StateMachine").values():
        (destination,) = machine["LoggingConfiguration"]["Destinations"]
        log_group = render(destination["CloudWatchLogsLogGroup"]["LogGroupArn"]).strip("<>").removesuffix(".Arn")
        name = log_group_names(template, stack_id=stack_id(f"Chat-{stage}"))[log_group]
        assert name.startswith(f"/aws/vendedlogs/states/Chat-{stage}-")
        # Step Functions takes a log group ARN of at most 256 characters (API reference, CloudWatchLogsLogGroup).
        assert len(f"arn:aws-us-gov:logs:ap-southeast-2:123456789012:log-group:{name}:*") <= 256


# --- logs ----------------------------------------------------------------------------------------


def stack_id(stack_name: str) -> str:
    return f"arn:aws:cloudformation:eu-west-1:111122223333:stack/{stack_name}/{uuid.uuid4()}"


def log_group_names(template: dict, *, stack_id: str) -> dict[str, str]:
    """Logical id -> name of every log group, as CloudFormation names it in the stack ``stack_id``;
    a group without LogGroupName gets a name CloudFormation makes unique (shown here as one)."""
    stack_name = stack_id.split("/")[1]
    pseudo = {"AWS::StackId": stack_id, "AWS::StackName": stack_name, "AWS::Region": "eu-west-1"}

    def ref(name: str) -> str:
        return pseudo[name]  # a KeyError names any other reference a log group name would need

    resolver = IntrinsicResolver(ref=ref, get_att=lambda *_: pytest.fail("a log group name uses Fn::GetAtt"))
    return {
        logical_id: resolver.resolve(properties["LogGroupName"], logical_id)
        if "LogGroupName" in properties
        else f"{stack_name}-{logical_id}-{uuid.uuid4().hex[:12]}"
        for logical_id, properties in resources(template, "AWS::Logs::LogGroup").items()
    }


def test_redeploying_after_destroy_meets_no_retained_log_group(template, stage):
    """A retained log group outlives `cdk destroy`; the next deployment is a new stack (a new stack id)."""
    first = log_group_names(template, stack_id=stack_id(f"Chat-{stage}"))
    second = log_group_names(template, stack_id=stack_id(f"Chat-{stage}"))

    assert set(first.values()).isdisjoint(second.values())


def test_two_copies_of_a_stage_in_one_account_name_their_log_groups_apart(template, stage):
    ours = log_group_names(template, stack_id=stack_id(f"Chat-{stage}"))
    copy = log_group_names(template, stack_id=stack_id(f"Chat-{stage}-copy"))

    assert set(ours.values()).isdisjoint(copy.values())


def test_no_log_group_has_a_fixed_name(template):
    for logical_id, properties in resources(template, "AWS::Logs::LogGroup").items():
        name = properties.get("LogGroupName")
        assert name is None or "AWS::StackId" in json.dumps(name), (logical_id, name)


def test_every_log_group_keeps_logs_as_configured(template, stage):
    settings = stage_settings(stage)
    log_groups = {k: r for k, r in template["Resources"].items() if r["Type"] == "AWS::Logs::LogGroup"}

    # functions, workflows, access logs, and two deploy-time functions': the IAM wait's (cdk/iam_propagation.py) and
    # the web client's file deployment's (cdk/web_hosting.py)
    assert len(log_groups) == len(modules(stage)) + len(ASL_FILES) + 1 + 2
    for resource in log_groups.values():
        assert resource["Properties"]["RetentionInDays"] == settings["log_retention_days"]
        assert resource["DeletionPolicy"] == ("Retain" if settings["retain_logs"] else "Delete")


def test_outputs_give_the_urls_and_workflow_arns(template, stage):
    outputs = {name: render(output["Value"]) for name, output in template["Outputs"].items()}

    assert re.fullmatch(
        rf"wss://<WebSocketApi\w+>\.execute-api\.<AWS::Region>\.<AWS::URLSuffix>/{stage}", outputs["WebSocketUrl"]
    )
    assert outputs["CallbackUrl"].startswith("https://") and outputs["CallbackUrl"].endswith(f"/{stage}")
    assert {"ConnectionHandshakeArn", "MessageFanoutArn", "ConnectionCleanupArn"} <= set(outputs)
    # What clients sign in with (`make token`, the web client): only where there is sign-in.
    assert ({"UserPoolId", "UserPoolClientId"} <= set(outputs)) is has_users(stage)
    if has_users(stage):
        (pool,) = resources(template, "AWS::Cognito::UserPool")
        (client,) = resources(template, "AWS::Cognito::UserPoolClient")
        assert (outputs["UserPoolId"], outputs["UserPoolClientId"]) == (f"<{pool}>", f"<{client}>")


def test_the_history_settings_reach_the_handlers(template, stage):
    functions = resources(template, "AWS::Lambda::Function")
    settings = stage_settings(stage)["history"]

    def variables(module: str) -> dict:
        return functions[function_id(template, module)]["Environment"]["Variables"]

    assert variables("send_message")["HISTORY_RETENTION_DAYS"] == str(settings["retention_days"])
    assert variables("history")["HISTORY_MAX_PAGE"] == str(settings["max_page"])
