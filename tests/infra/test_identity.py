"""Sign-in, as each stage's template has it: on stages with auth cognito, a Cognito user pool and app client from
cdk.json's settings, and a Lambda REQUEST authorizer on $connect only, reading the token from the query string;
on stages with auth none, none of it. The tables exist on every stage (the workflows are the same)."""

import pytest
from infra_support import (
    STAGES,
    chat_layers,
    function_id,
    has_users,
    render,
    resources,
    stage_settings,
    table_ids,
)

from cdk.layers import JWT_REQUIREMENTS


def only(template: dict, resource_type: str) -> tuple[str, dict]:
    ((logical_id, properties),) = resources(template, resource_type).items()
    return logical_id, properties


def test_only_connect_is_authorized_and_only_on_stages_with_sign_in(template, stage):
    routes = {route["RouteKey"]: route for route in resources(template, "AWS::ApiGatewayV2::Route").values()}
    authorizers = resources(template, "AWS::ApiGatewayV2::Authorizer")

    if not has_users(stage):
        assert authorizers == {}
        assert {route.get("AuthorizationType", "NONE") for route in routes.values()} == {"NONE"}
        return
    (authorizer_id, authorizer) = only(template, "AWS::ApiGatewayV2::Authorizer")
    assert routes["$connect"]["AuthorizationType"] == "CUSTOM"
    assert render(routes["$connect"]["AuthorizerId"]) == f"<{authorizer_id}>"
    for key, route in routes.items():
        if key != "$connect":  # WebSocket APIs authorize $connect only
            assert route.get("AuthorizationType", "NONE") == "NONE" and "AuthorizerId" not in route, key
    assert authorizer["AuthorizerType"] == "REQUEST"
    assert authorizer["IdentitySource"] == ["route.request.querystring.token"]
    assert "AuthorizerResultTtlInSeconds" not in authorizer  # supported for HTTP APIs only: never cached
    assert f"/functions/<{function_id(template, 'authorize')}.Arn>/invocations" in render(authorizer["AuthorizerUri"])


@pytest.mark.parametrize("stage", [stage for stage in STAGES if not has_users(stage)])
def test_a_stage_without_sign_in_has_no_pool_client_or_layer(templates, stage):
    template = templates(stage)

    for resource_type in ("AWS::Cognito::UserPool", "AWS::Cognito::UserPoolClient"):
        assert resources(template, resource_type) == {}, resource_type
    assert chat_layers(template) == {}


@pytest.mark.parametrize("stage", [stage for stage in STAGES if has_users(stage)])
def test_the_pool_and_client_follow_the_stages_settings(templates, stage):
    template = templates(stage)
    settings = stage_settings(stage)["cognito"]
    _, pool = only(template, "AWS::Cognito::UserPool")
    _, client = only(template, "AWS::Cognito::UserPoolClient")
    policy = pool["Policies"]["PasswordPolicy"]

    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is not settings["self_sign_up"]
    assert pool["UsernameConfiguration"] == {"CaseSensitive": False}
    assert "AliasAttributes" not in pool and "UsernameAttributes" not in pool  # usernames, never e-mail or phone
    assert policy["MinimumLength"] == settings["password_policy"]["min_length"]
    for name, key in (("RequireLowercase", "require_lowercase"), ("RequireNumbers", "require_digits")):
        assert policy[name] is settings["password_policy"][key], name
    assert client["GenerateSecret"] is False
    assert set(client["ExplicitAuthFlows"]) == {
        "ALLOW_USER_PASSWORD_AUTH",
        "ALLOW_USER_SRP_AUTH",
        "ALLOW_REFRESH_TOKEN_AUTH",
    }
    validity = settings["token_validity"]
    assert (client["IdTokenValidity"], client["AccessTokenValidity"]) == (
        validity["id_minutes"],
        validity["access_minutes"],
    )
    assert client["RefreshTokenValidity"] == validity["refresh_days"] * 24 * 60  # in minutes
    assert client["TokenValidityUnits"] == {"AccessToken": "minutes", "IdToken": "minutes", "RefreshToken": "minutes"}


@pytest.mark.parametrize("stage", [stage for stage in STAGES if has_users(stage)])
def test_the_pool_is_retained_where_cdk_json_says_so(templates, stage):
    ((_, pool),) = [
        (logical_id, resource)
        for logical_id, resource in templates(stage)["Resources"].items()
        if resource["Type"] == "AWS::Cognito::UserPool"
    ]
    retained = stage_settings(stage)["cognito"]["retain_pool"]

    assert (pool["DeletionPolicy"], pool["UpdateReplacePolicy"]) == (("Retain",) * 2 if retained else ("Delete",) * 2)
    assert pool["Properties"].get("DeletionProtection", "INACTIVE") == ("ACTIVE" if retained else "INACTIVE")
    if stage == "prod":
        assert retained


@pytest.mark.parametrize("stage", [stage for stage in STAGES if has_users(stage)])
def test_the_authorizer_runs_with_pyjwt_from_its_layer_and_knows_its_pool_and_client(templates, stage):
    template = templates(stage)
    functions = resources(template, "AWS::Lambda::Function")
    authorizer = functions[function_id(template, "authorize")]
    ((layer_id, layer),) = chat_layers(template).items()
    pool_id, _ = only(template, "AWS::Cognito::UserPool")
    client_id, _ = only(template, "AWS::Cognito::UserPoolClient")

    assert f"<{layer_id}>" in render(authorizer["Layers"])
    assert (layer["CompatibleArchitectures"], layer["CompatibleRuntimes"]) == (["arm64"], ["python3.13"])
    assert all(requirement in layer["Description"] for requirement in JWT_REQUIREMENTS)
    variables = authorizer["Environment"]["Variables"]
    assert (render(variables["USER_POOL_ID"]), render(variables["USER_POOL_CLIENT_ID"])) == (
        f"<{pool_id}>",
        f"<{client_id}>",
    )
    # No other function carries the layer: none other imports PyJWT.
    others = [f for logical_id, f in functions.items() if f is not authorizer]
    assert all(f"<{layer_id}>" not in render(f.get("Layers", [])) for f in others)


def test_the_registry_and_the_directory_are_on_demand_tables_with_recovery(template):
    tables = {name: template["Resources"][logical_id]["Properties"] for name, logical_id in table_ids(template).items()}

    assert set(tables) == {"connections", "users", "messages", "rooms", "memberships", "conversations"}
    registry, users = tables["connections"], tables["users"]
    for table in tables.values():
        assert table["BillingMode"] == "PAY_PER_REQUEST"
        assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    (index,) = registry["GlobalSecondaryIndexes"]
    assert index["IndexName"] == "by_username"
    assert index["KeySchema"] == [
        {"AttributeName": "username", "KeyType": "HASH"},
        {"AttributeName": "connection_id", "KeyType": "RANGE"},
    ]
    assert index["Projection"] == {"ProjectionType": "KEYS_ONLY"}
    assert registry["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert "TimeToLiveSpecification" not in users


@pytest.mark.parametrize("stage", STAGES)
def test_rooms_memberships_and_conversations_are_kept_as_the_history_is(templates, stage):
    """What users chose (their rooms) and where they talked cannot be rebuilt: retained with the history."""
    template = templates(stage)
    tables = table_ids(template)
    retained = stage_settings(stage)["history"]["retain_table"]
    for name in ("rooms", "memberships", "conversations"):
        resource = template["Resources"][tables[name]]
        assert (resource["DeletionPolicy"], resource["UpdateReplacePolicy"]) == (
            ("Retain",) * 2 if retained else ("Delete",) * 2
        ), name
    (index,) = template["Resources"][tables["memberships"]]["Properties"]["GlobalSecondaryIndexes"]
    assert index["IndexName"] == "by_member"
    assert index["KeySchema"] == [
        {"AttributeName": "username", "KeyType": "HASH"},
        {"AttributeName": "room", "KeyType": "RANGE"},
    ]
    assert index["Projection"] == {"ProjectionType": "KEYS_ONLY"}


def test_the_workflows_name_the_tables_and_index_of_this_stack(template):
    tables = table_ids(template)
    substitutions = {}
    for machine in resources(template, "AWS::StepFunctions::StateMachine").values():
        substitutions |= {name: render(value) for name, value in machine["DefinitionSubstitutions"].items()}

    assert substitutions["ConnectionsTable"] == f"<{tables['connections']}>"
    assert substitutions["UsersTable"] == f"<{tables['users']}>"
    assert substitutions["UsernameIndex"] == "by_username"


@pytest.mark.parametrize("stage", STAGES)
def test_the_history_is_kept_sorted_by_time_expires_and_is_retained_where_cdk_json_says_so(templates, stage):
    template = templates(stage)
    logical_id = table_ids(template)["messages"]
    resource = template["Resources"][logical_id]
    messages = resource["Properties"]
    retained = stage_settings(stage)["history"]["retain_table"]

    assert messages["KeySchema"] == [
        {"AttributeName": "conversation", "KeyType": "HASH"},
        {"AttributeName": "sent_key", "KeyType": "RANGE"},
    ]
    assert messages["BillingMode"] == "PAY_PER_REQUEST"
    assert messages["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert messages["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert (resource["DeletionPolicy"], resource["UpdateReplacePolicy"]) == (
        ("Retain",) * 2 if retained else ("Delete",) * 2
    )
    assert retained or stage != "prod"
    substitutions = {}
    for machine in resources(template, "AWS::StepFunctions::StateMachine").values():
        substitutions |= {name: render(value) for name, value in machine["DefinitionSubstitutions"].items()}
    assert substitutions["MessagesTable"] == f"<{logical_id}>"
