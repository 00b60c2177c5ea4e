"""The local runtime's wiring comes from the synthesized template: routes, functions, state machines."""

import json
import re
from pathlib import Path

import pytest

from local.template import load_stack
from local.template_errors import UnsupportedTemplate

STACK = "Chat-test"


def function(handler: str, environment: dict | None = None, asset: str = "asset.code") -> dict:
    return {
        "Type": "AWS::Lambda::Function",
        "Properties": {
            "Handler": handler,
            "Runtime": "python3.13",
            "Code": {"S3Bucket": "bucket", "S3Key": "code.zip"},
            "Environment": {"Variables": environment or {}},
            "Timeout": 7,
        },
        "Metadata": {"aws:cdk:path": f"{STACK}/Functions/{handler.split('.')[0]}/Resource", "aws:asset:path": asset},
    }


def route(key: str, integration: str, **extra) -> dict:
    target = {"Fn::Join": ["", ["integrations/", {"Ref": integration}]]}
    return {
        "Type": "AWS::ApiGatewayV2::Route",
        "Properties": {"ApiId": {"Ref": "Api"}, "RouteKey": key, "Target": target, **extra},
    }


def integration(function_id: str) -> dict:
    uri = {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":apigateway:",
                {"Ref": "AWS::Region"},
                ":lambda:path/2015-03-31/functions/",
                {"Fn::GetAtt": [function_id, "Arn"]},
                "/invocations",
            ],
        ]
    }
    return {
        "Type": "AWS::ApiGatewayV2::Integration",
        "Properties": {"ApiId": {"Ref": "Api"}, "IntegrationType": "AWS_PROXY", "IntegrationUri": uri},
    }


def base_template() -> dict:
    callback = {
        "Fn::Join": [
            "",
            [
                "https://",
                {"Ref": "Api"},
                ".execute-api.",
                {"Ref": "AWS::Region"},
                ".",
                {"Ref": "AWS::URLSuffix"},
                "/dev",
            ],
        ]
    }
    return {
        "Parameters": {"LayerArn": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/some/path"}},
        "Resources": {
            "Api": {
                "Type": "AWS::ApiGatewayV2::Api",
                "Properties": {
                    "Name": "chat",
                    "ProtocolType": "WEBSOCKET",
                    "RouteSelectionExpression": "$request.body.action",
                },
            },
            "Stage": {"Type": "AWS::ApiGatewayV2::Stage", "Properties": {"ApiId": {"Ref": "Api"}, "StageName": "dev"}},
            "Connect": function("on_connect.handler", {"MACHINE": {"Ref": "Machine"}, "LAYER": {"Ref": "LayerArn"}}),
            "Deliver": function("deliver.handler", {"CALLBACK_URL": callback}),
            "ConnectIntegration": integration("Connect"),
            "ConnectRoute": route("$connect", "ConnectIntegration"),
            "DeliverIntegration": integration("Deliver"),
            "SendRoute": route("send", "DeliverIntegration", RouteResponseSelectionExpression="$default"),
            "SendRouteResponse": {
                "Type": "AWS::ApiGatewayV2::RouteResponse",
                "Properties": {
                    "ApiId": {"Ref": "Api"},
                    "RouteId": {"Ref": "SendRoute"},
                    "RouteResponseKey": "$default",
                },
            },
            "MachineRole": {"Type": "AWS::IAM::Role", "Properties": {}},
            "Machine": {
                "Type": "AWS::StepFunctions::StateMachine",
                "Properties": {
                    "StateMachineType": "EXPRESS",
                    "DefinitionString": json.dumps(
                        {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "${Task}", "End": True}}}
                    ),
                    "DefinitionSubstitutions": {"Task": {"Fn::GetAtt": ["Deliver", "Arn"]}},
                    "RoleArn": {"Fn::GetAtt": ["MachineRole", "Arn"]},
                },
                "Metadata": {"aws:cdk:path": f"{STACK}/Workflows/Machine/Resource"},
            },
        },
    }


def write_assembly(tmp_path: Path, template: dict) -> Path:
    (tmp_path / "asset.code").mkdir(exist_ok=True)
    (tmp_path / f"{STACK}.template.json").write_text(json.dumps(template))
    return tmp_path


def test_routes_lead_through_integrations_to_their_functions(tmp_path):
    model = load_stack(write_assembly(tmp_path, base_template()), STACK)
    assert model.api.stage == "dev"
    assert model.api.route_selection_expression == "$request.body.action"
    assert model.api.routes["$connect"].function.handler == "on_connect.handler"
    assert model.api.routes["send"].function.handler == "deliver.handler"
    assert model.api.routes["send"].returns_response and not model.api.routes["$connect"].returns_response


def test_stage_throttles_come_from_default_and_route_settings(tmp_path):
    template = base_template()
    assert load_stack(write_assembly(tmp_path, template), STACK).api.throttle is None  # the account's apply
    template["Resources"]["Stage"]["Properties"].update(
        DefaultRouteSettings={"ThrottlingRateLimit": 50, "ThrottlingBurstLimit": 100},
        RouteSettings={"send": {"ThrottlingRateLimit": 5, "ThrottlingBurstLimit": 10}, "$connect": {}},
    )
    api = load_stack(write_assembly(tmp_path, template), STACK).api
    assert (api.throttle.rate_limit, api.throttle.burst_limit) == (50, 100)
    assert {key: (t.rate_limit, t.burst_limit) for key, t in api.route_throttles.items()} == {"send": (5, 10)}


def test_function_environment_and_code_come_from_the_template(tmp_path):
    model = load_stack(write_assembly(tmp_path, base_template()), STACK)
    deliver = model.function("Chat-test-Deliver")
    assert deliver.code_dir == (tmp_path / "asset.code").resolve()
    assert deliver.timeout_seconds == 7
    assert deliver.display_name == "deliver"
    assert deliver.environment["CALLBACK_URL"] == f"{model.execute_api_origin}/dev"
    connect = model.function(model.api.routes["$connect"].function.arn)
    assert connect.environment["MACHINE"] == model.state_machines["Machine"].arn
    assert connect.environment["LAYER"] == "/some/path"  # a parameter resolves to its default


def test_state_machine_definition_gets_its_substitutions(tmp_path):
    model = load_stack(write_assembly(tmp_path, base_template()), STACK)
    machine = model.state_machines["Machine"]
    definition = json.loads(machine.definition)
    assert definition["States"]["T"]["Resource"] == model.function("Chat-test-Deliver").arn
    assert machine.type == "EXPRESS" and machine.display_name == "Machine"
    assert machine.role_arn.endswith(":role/MachineRole")


def test_function_lookup_accepts_name_arn_and_qualified_arn(tmp_path):
    model = load_stack(write_assembly(tmp_path, base_template()), STACK)
    arn = model.function("Chat-test-Deliver").arn
    assert model.function(arn).name == model.function(f"{arn}:$LATEST").name == "Chat-test-Deliver"
    assert model.function("nope") is None


def test_code_asset_found_through_the_asset_manifest_without_metadata(tmp_path):
    template = base_template()
    for resource in template["Resources"].values():
        resource.pop("Metadata", None)
    manifest = {"files": {"h": {"source": {"path": "asset.code"}, "destinations": {"d": {"objectKey": "code.zip"}}}}}
    (tmp_path / f"{STACK}.assets.json").write_text(json.dumps(manifest))
    model = load_stack(write_assembly(tmp_path, template), STACK)
    assert model.function("Chat-test-Deliver").code_dir == (tmp_path / "asset.code").resolve()


def test_functions_cloudformation_runs_for_custom_resources_are_left_out(tmp_path):
    """Deploy-time code (cdk/iam_propagation.py's wait, a bucket deployment) is never called by the chat."""
    template = base_template()
    template["Resources"]["Waiter"] = {
        "Type": "AWS::Lambda::Function",
        "Properties": {"Handler": "index.handler", "Runtime": "nodejs22.x", "Code": {"ZipFile": "exports.handler=1"}},
    }
    template["Resources"]["Wait"] = {
        "Type": "Custom::IamPropagationWait",
        "Properties": {"ServiceToken": {"Fn::GetAtt": ["Waiter", "Arn"]}, "Seconds": 30},
    }

    model = load_stack(write_assembly(tmp_path, template), STACK)

    assert set(model.functions) == {"Connect", "Deliver"}


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda t: t["Resources"]["Deliver"]["Properties"].update(Runtime="nodejs22.x"), "resource Deliver: runtime"),
        (
            lambda t: t["Resources"]["Deliver"]["Properties"]["Environment"]["Variables"].update(
                X={"Fn::ImportValue": "shared"}
            ),
            "resource Deliver, property Environment: intrinsic function Fn::ImportValue",
        ),
        (
            lambda t: t["Resources"]["Connect"]["Properties"]["Environment"]["Variables"].update(
                X={"Fn::GetAtt": ["Api", "Nope"]}
            ),
            "resource Api .*Fn::GetAtt Nope is not supported",
        ),
        (
            lambda t: t["Resources"]["Connect"]["Properties"]["Environment"]["Variables"].update(X={"Ref": "Ghost"}),
            "reference to 'Ghost'",
        ),
        (
            lambda t: t["Resources"]["Machine"]["Properties"].update(DefinitionS3Location={"Bucket": "b", "Key": "k"}),
            "resource Machine: DefinitionS3Location is not supported",
        ),
        (
            lambda t: t["Resources"]["DeliverIntegration"]["Properties"].update(IntegrationType="HTTP_PROXY"),
            "integration DeliverIntegration: type HTTP_PROXY is not supported",
        ),
        (lambda t: t["Resources"].pop("Stage"), "WebSocket API Api: expected exactly one stage, found 0"),
        (lambda t: t["Resources"]["Deliver"]["Metadata"].update({"aws:asset:path": "asset.missing"}), "code asset"),
    ],
)
def test_what_cannot_run_locally_is_a_clear_error_naming_the_resource(tmp_path, mutate, message):
    template = base_template()
    mutate(template)
    with pytest.raises(UnsupportedTemplate, match=message):
        load_stack(write_assembly(tmp_path, template), STACK)


# --- sign-in and tables (issue #16: the model the gateway and the Step Functions process use) -----


def with_identity(template: dict) -> dict:
    """The template of a stage with sign-in: a user pool, its client, the tables, the $connect authorizer."""
    resources = template["Resources"]
    resources["Authorize"] = function(
        "authorize.handler", {"USER_POOL_ID": {"Ref": "Pool"}, "USER_POOL_CLIENT_ID": {"Ref": "Client"}}
    )
    resources["Pool"] = {"Type": "AWS::Cognito::UserPool", "Properties": {}}
    resources["Client"] = {"Type": "AWS::Cognito::UserPoolClient", "Properties": {"UserPoolId": {"Ref": "Pool"}}}
    resources["Authorizer"] = {
        "Type": "AWS::ApiGatewayV2::Authorizer",
        "Properties": {
            "ApiId": {"Ref": "Api"},
            "AuthorizerType": "REQUEST",
            "IdentitySource": ["route.request.querystring.token"],
            "AuthorizerUri": integration("Authorize")["Properties"]["IntegrationUri"],
        },
    }
    resources["ConnectRoute"]["Properties"].update(AuthorizationType="CUSTOM", AuthorizerId={"Ref": "Authorizer"})
    resources["Registry"] = {
        "Type": "AWS::DynamoDB::Table",
        "Properties": {
            "KeySchema": [{"AttributeName": "connection_id", "KeyType": "HASH"}],
            "AttributeDefinitions": [
                {"AttributeName": "connection_id", "AttributeType": "S"},
                {"AttributeName": "username", "AttributeType": "S"},
            ],
            "BillingMode": "PAY_PER_REQUEST",
            "GlobalSecondaryIndexes": [
                {
                    "IndexName": "by_username",
                    "KeySchema": [
                        {"AttributeName": "username", "KeyType": "HASH"},
                        {"AttributeName": "connection_id", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "KEYS_ONLY"},
                }
            ],
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            "TimeToLiveSpecification": {"AttributeName": "expires_at", "Enabled": True},
        },
    }
    resources["Deliver"]["Properties"]["Environment"]["Variables"]["TABLE"] = {"Ref": "Registry"}
    return template


def test_the_connect_authorizer_and_its_function_are_read(tmp_path):
    model = load_stack(write_assembly(tmp_path, with_identity(base_template())), STACK)

    authorizer = model.api.routes["$connect"].authorizer
    assert authorizer.logical_id == "Authorizer"
    assert authorizer.function.handler == "authorize.handler"
    assert authorizer.identity_sources == ("route.request.querystring.token",)
    assert model.api.routes["send"].authorizer is None


def test_tables_are_read_with_their_keys_index_and_time_to_live(tmp_path):
    model = load_stack(write_assembly(tmp_path, with_identity(base_template())), STACK)

    table = model.tables["Registry"]
    design = table.design
    assert (design.partition_key, design.sort_key, design.ttl_attribute) == ("connection_id", None, "expires_at")
    assert design.attribute_types == {"connection_id": "S", "username": "S"}
    (index,) = design.indexes
    assert (index.name, index.partition_key, index.sort_key, index.projection) == (
        "by_username",
        "username",
        "connection_id",
        "KEYS_ONLY",
    )
    assert model.function("Chat-test-Deliver").environment["TABLE"] == table.name
    assert table.arn.endswith(f":table/{table.name}")


def test_user_pools_and_clients_are_read_with_the_settings_moto_models(tmp_path):
    template = with_identity(base_template())
    template["Resources"]["Pool"]["Properties"].update(
        Policies={"PasswordPolicy": {"MinimumLength": 12}}, EmailVerificationSubject="no mail is sent locally"
    )
    template["Resources"]["Client"]["Properties"].update(ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"])
    model = load_stack(write_assembly(tmp_path, template), STACK)

    pool, client = model.user_pools["Pool"], model.user_pool_clients["Client"]
    assert pool.settings == {"Policies": {"PasswordPolicy": {"MinimumLength": 12}}}
    assert (client.pool, client.settings) == ("Pool", {"ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH"]})
    variables = model.function("Chat-test-Authorize").environment
    assert (variables["USER_POOL_ID"], variables["USER_POOL_CLIENT_ID"]) == (pool.local_id, client.local_id)


def test_pool_and_client_ids_are_made_up_the_same_way_on_every_read(tmp_path):
    first = load_stack(write_assembly(tmp_path, with_identity(base_template())), STACK)
    second = load_stack(write_assembly(tmp_path, with_identity(base_template())), STACK)

    variables = first.function("Chat-test-Authorize").environment
    assert re.fullmatch(r"us-east-1_[A-Z2-7]{9}", variables["USER_POOL_ID"])
    assert re.fullmatch(r"[a-z2-7]{26}", variables["USER_POOL_CLIENT_ID"])
    assert second.function("Chat-test-Authorize").environment == variables


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda t: t["Resources"]["Registry"]["Properties"].update(StreamSpecification={"StreamViewType": "KEYS"}),
            "table Registry: StreamSpecification not supported",
        ),
        (
            lambda t: t["Resources"]["SendRoute"]["Properties"].update(
                AuthorizationType="CUSTOM", AuthorizerId={"Ref": "Authorizer"}
            ),
            r"route SendRoute \(send\): authorization CUSTOM is not supported",
        ),
        (
            lambda t: t["Resources"]["ConnectRoute"]["Properties"].update(AuthorizationType="AWS_IAM"),
            r"authorization AWS_IAM is not supported",
        ),
        (
            lambda t: t["Resources"]["Authorizer"]["Properties"].update(AuthorizerType="JWT"),
            "authorizer Authorizer: only REQUEST",
        ),
        (
            lambda t: t["Resources"]["Authorizer"]["Properties"].update(AuthorizerResultTtlInSeconds=300),
            "authorizer Authorizer: AuthorizerResultTtlInSeconds not supported",
        ),
        (
            lambda t: t["Resources"]["Authorizer"]["Properties"].update(IdentityValidationExpression=".+"),
            "authorizer Authorizer: IdentityValidationExpression not supported",
        ),
        (
            lambda t: t["Resources"]["Authorizer"]["Properties"].update(IdentitySource=["route.request.stage.x"]),
            r"authorizer Authorizer: identity source 'route.request.stage.x' is not supported",
        ),
        (
            lambda t: t["Resources"]["Authorizer"]["Properties"].update(IdentitySource=["context.connectionId"]),
            r"authorizer Authorizer: identity source 'context.connectionId' is not supported",
        ),
    ],
)
def test_sign_in_or_table_settings_not_modelled_are_refused_naming_the_resource(tmp_path, mutate, message):
    template = with_identity(base_template())
    mutate(template)
    with pytest.raises(UnsupportedTemplate, match=message):
        load_stack(write_assembly(tmp_path, template), STACK)
