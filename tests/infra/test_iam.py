"""Least privilege: each role may do what its function or workflow needs, on its own resources only. The $connect
authorizer may call no AWS API (it reads the pool's public keys over HTTPS); each workflow touches only its table
and index; sendMessage reads the user directory and asks Cognito about users of this stage's pool only."""

import json
import re

import pytest
from infra_support import (
    PROJECT_ROOT,
    STAGES,
    as_list,
    function_id,
    has_users,
    render,
    resources,
    stage_settings,
    table_ids,
)

from cdk.definitions import deployed_definition
from cdk.smoke_access import SMOKE_USER_ACTIONS

ASL = {
    name: json.loads(deployed_definition(name))
    for name in (path.name.removesuffix(".asl.json") for path in (PROJECT_ROOT / "statemachines").glob("*.asl.json"))
}
# Service actions that support no resource-level permissions (AWS requires Resource "*").
UNSCOPED_ACTIONS = {
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
    "logs:CreateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:DescribeLogGroups",
    "logs:DescribeResourcePolicies",
    "logs:GetLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:UpdateLogDelivery",
}
FUNCTION_LOGGING = {"logs:CreateLogStream", "logs:PutLogEvents"}
INVALIDATION = {"cloudfront:CreateInvalidation", "cloudfront:GetInvalidation"}
SMOKE_TEST = "smoke-test"
CDK_DEPLOY_TIME = ("deploy:Custom::CDKBucketDeployment", "deploy:Custom::S3AutoDeleteObjects")
# The only actions beyond logging and tracing, per role owner.
GRANTS = {
    "lambda:on_connect": {"states:StartExecution"},
    "lambda:on_disconnect": {"states:StartExecution"},
    "lambda:on_default": set(),
    "lambda:send_message": {"states:StartExecution"},
    "lambda:send_connection_id": {"execute-api:ManageConnections"},
    "states:connection_handshake": {
        "lambda:InvokeFunction",
        "dynamodb:PutItem",
        "dynamodb:DeleteItem",
        "dynamodb:UpdateItem",
        "states:StartExecution",
    },
    "states:message_fanout": {
        "execute-api:ManageConnections",
        "dynamodb:Query",
        "dynamodb:PutItem",
        "dynamodb:GetItem",  # a message to a room: the sender's membership
        "dynamodb:BatchGetItem",  # the room's members' live connections
        "states:StartExecution",
        "dynamodb:UpdateItem",
    },
    "states:connection_cleanup": {
        "dynamodb:GetItem",
        "dynamodb:DeleteItem",
        "dynamodb:UpdateItem",
        "states:StartExecution",
    },
    "states:room_fanout": {"dynamodb:Query", "dynamodb:BatchGetItem", "execute-api:ManageConnections"},
    "states:user_removal": {"dynamodb:Query", "dynamodb:DeleteItem", "dynamodb:UpdateItem", "states:StartExecution"},
    "lambda:history": {"states:StartExecution"},
    "lambda:pack_history": set(),  # pure computation
    "states:history_page": {
        "dynamodb:Query",
        "dynamodb:GetItem",  # a room's history: the reader's membership
        "lambda:InvokeFunction",
        "execute-api:ManageConnections",
    },
    "lambda:list_conversations": {"states:StartExecution"},
    "states:list_conversations": {"dynamodb:Query", "execute-api:ManageConnections"},
    "lambda:rooms": {"states:StartExecution"},
    "states:room_change": {
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:ConditionCheckItem",
        "dynamodb:GetItem",
        "dynamodb:Query",
        "dynamodb:BatchGetItem",
        "execute-api:ManageConnections",
    },
    "states:room_listing": {
        "dynamodb:Query",
        "dynamodb:GetItem",
        "dynamodb:BatchGetItem",
        "execute-api:ManageConnections",
    },
    # functions CloudFormation runs at deploy time for a custom resource, by its type: our wait, and CDK's own
    # BucketDeployment (the web client's files into its bucket, then a CloudFront invalidation) and the provider
    # that empties the web client's log bucket when the stack is deleted (its S3 access is in that bucket's policy)
    "deploy:Custom::IamPropagationWait": set(),
    "deploy:Custom::CDKBucketDeployment": {
        "s3:Abort*",
        "s3:DeleteObject*",
        "s3:GetBucket*",
        "s3:GetObject*",
        "s3:List*",
        "s3:PutObject",
        "s3:PutObjectLegalHold",
        "s3:PutObjectRetention",
        "s3:PutObjectTagging",
        "s3:PutObjectVersionTagging",
        "cloudfront:CreateInvalidation",
        "cloudfront:GetInvalidation",
    },
    "deploy:Custom::S3AutoDeleteObjects": set(),
}
# On a stage with sign-in: the authorizer, which needs nothing, and sendMessage's recipient checks.
GRANTS_WITH_USERS = {
    **GRANTS,
    "lambda:authorize": set(),
    "lambda:send_message": {"states:StartExecution", "dynamodb:BatchGetItem", "cognito-idp:AdminGetUser"},
    # The pipeline's smoke test, for its throwaway user (cdk/smoke_access.py; trust and scope in test_pipeline.py).
    SMOKE_TEST: set(SMOKE_USER_ACTIONS),
}


def smoke_test_role(role: dict) -> bool:
    return role.get("RoleName", "").endswith("-smoke-test")


def grants_of(stage: str) -> dict[str, set[str]]:
    grants = GRANTS_WITH_USERS if has_users(stage) else GRANTS
    if stage_settings(stage)["retain_logs"]:  # the web client's log bucket is kept, so nothing empties it
        grants = {owner: actions for owner, actions in grants.items() if owner != "deploy:Custom::S3AutoDeleteObjects"}
    return grants


def _id(value) -> str:
    """Logical id named by a Ref or GetAtt."""
    return render(value).strip("<>").split(".")[0]


class Permissions:
    def __init__(self, template: dict):
        self.template = template
        self.functions = resources(template, "AWS::Lambda::Function")
        self.machines = resources(template, "AWS::StepFunctions::StateMachine")
        # API Gateway's account-level logging role is no part of the chat's grants (test_api_gateway_logs_role).
        account_logs_roles = {
            _id(account["CloudWatchRoleArn"]) for account in resources(template, "AWS::ApiGateway::Account").values()
        }
        self.roles = {
            logical_id: role
            for logical_id, role in resources(template, "AWS::IAM::Role").items()
            if logical_id not in account_logs_roles
        }
        deploy_time = {
            _id(resource["Properties"]["ServiceToken"]): resource["Type"]
            for resource in template["Resources"].values()
            if resource["Type"].startswith("Custom::")
        }
        self.owner_of_function = {
            logical_id: f"deploy:{deploy_time[logical_id]}"
            if logical_id in deploy_time
            else f"lambda:{function['Handler'].split('.')[0]}"
            for logical_id, function in self.functions.items()
        }
        self.owner_of_role: dict[str, str] = {
            logical_id: SMOKE_TEST for logical_id, role in self.roles.items() if smoke_test_role(role)
        }
        for logical_id, function in self.functions.items():
            self.owner_of_role[_id(function["Role"])] = self.owner_of_function[logical_id]
        self.machine_ids: dict[str, str] = {}
        for logical_id, machine in self.machines.items():
            (name,) = [name for name, asl in ASL.items() if asl == json.loads(machine["DefinitionString"])]
            self.owner_of_role[_id(machine["RoleArn"])] = f"states:{name}"
            self.machine_ids[name] = logical_id
        self.statements: dict[str, list[dict]] = {owner: [] for owner in self.owner_of_role.values()}
        for policy in resources(template, "AWS::IAM::Policy").values():
            for role in policy["Roles"]:
                self.statements[self.owner_of_role[_id(role)]] += policy["PolicyDocument"]["Statement"]

    def grants(self, action: str) -> dict[str, list]:
        """Owner -> rendered resources of every statement allowing ``action``."""
        found: dict[str, list] = {}
        for owner, statements in self.statements.items():
            for statement in statements:
                if action in as_list(statement["Action"]):
                    found.setdefault(owner, []).extend(render(as_list(statement["Resource"])))
        return found


@pytest.fixture(params=STAGES)
def stage(request) -> str:
    return request.param


@pytest.fixture
def permissions(templates, stage) -> Permissions:
    return Permissions(templates(stage))


def test_every_role_belongs_to_one_function_or_workflow(permissions, stage):
    assert set(permissions.roles) == set(permissions.owner_of_role)
    assert sorted(permissions.owner_of_role.values()) == sorted(grants_of(stage))
    for role_id, role in permissions.roles.items():
        if permissions.owner_of_role[role_id] in CDK_DEPLOY_TIME:
            # CDK's own deploy-time functions log with AWS's basic execution policy
            (managed,) = role["ManagedPolicyArns"]
            assert ":iam::aws:policy/service-role/AWSLambdaBasicExecutionRole" in json.dumps(managed)
            assert "Policies" not in role
        else:
            assert "ManagedPolicyArns" not in role and "Policies" not in role
        (statement,) = role["AssumeRolePolicyDocument"]["Statement"]
        if permissions.owner_of_role[role_id] == SMOKE_TEST:
            assert render(statement["Principal"]["AWS"]) == "arn:<AWS::Partition>:iam::<AWS::AccountId>:root"
            continue
        service = (
            "lambda.amazonaws.com"
            if permissions.owner_of_role[role_id].startswith(("lambda:", "deploy:"))
            else "states.amazonaws.com"
        )
        assert statement["Principal"] == {"Service": service}
        assert statement["Action"] == "sts:AssumeRole"


def test_no_role_gets_more_than_its_grants(permissions, stage):
    for owner, statements in permissions.statements.items():
        actions = {action for statement in statements for action in as_list(statement["Action"])}
        baseline = FUNCTION_LOGGING if owner.startswith(("lambda:", "deploy:")) else set()
        assert actions - UNSCOPED_ACTIONS - baseline == grants_of(stage)[owner], owner
        for statement in statements:
            assert statement["Effect"] == "Allow"
            assert not any(action == "*" or action.endswith(":*") for action in as_list(statement["Action"]))


def test_wildcard_resources_only_for_actions_that_need_them(permissions):
    for owner, statements in permissions.statements.items():
        for statement in statements:
            if "*" in as_list(statement["Resource"]):
                # CDK's BucketDeployment invalidates the distribution it is given, granted on any (acknowledged
                # in cdk/nag_suppressions.py)
                unscoped = UNSCOPED_ACTIONS | (INVALIDATION if owner == "deploy:Custom::CDKBucketDeployment" else set())
                assert set(as_list(statement["Action"])) <= unscoped, owner


def test_the_web_files_deployment_writes_only_to_the_web_clients_bucket(permissions):
    (deployment,) = resources(permissions.template, "Custom::CDKBucketDeployment").values()
    bucket = _id(deployment["DestinationBucketName"])

    for action in ("s3:PutObject", "s3:DeleteObject*"):
        assert permissions.grants(action) == {
            "deploy:Custom::CDKBucketDeployment": [f"<{bucket}.Arn>", f"<{bucket}.Arn>/*"]
        }


def test_functions_write_only_to_their_own_log_group(permissions):
    for logical_id, function in permissions.functions.items():
        owner = permissions.owner_of_function[logical_id]
        if owner in CDK_DEPLOY_TIME:
            continue  # they log with AWS's basic execution policy (test_every_role_belongs_to_one_function_...)
        own_group = _id(function["LoggingConfig"]["LogGroup"])
        for action in FUNCTION_LOGGING:
            assert permissions.grants(action)[owner] == [f"<{own_group}.Arn>"]


def test_only_the_handshake_task_and_the_fanout_post_to_connections_of_this_stage(permissions, stage):
    """POST @connections/{id} only: GET (connection info) and DELETE (disconnect a client) are not granted.
    message_fanout's apigateway:invoke tasks sign with its role, and API Gateway authorizes @connections
    calls with ManageConnections, not Invoke."""
    (api_id,) = resources(permissions.template, "AWS::ApiGatewayV2::Api")
    expected = [
        f"arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<{api_id}>/{stage}/POST/@connections/*"
    ]

    grants = permissions.grants("execute-api:ManageConnections")

    assert grants == {
        "lambda:send_connection_id": expected,
        "states:message_fanout": expected,
        "states:history_page": expected,
        "states:room_fanout": expected,
        "states:list_conversations": expected,
        "states:room_change": expected,
        "states:room_listing": expected,
    }
    assert permissions.grants("execute-api:Invoke") == {}


def test_no_role_may_get_or_delete_connections(permissions):
    """No ManageConnections resource names a method other than POST, wildcard methods included."""
    for owner, arns in permissions.grants("execute-api:ManageConnections").items():
        for arn in arns:
            (method,) = re.findall(r"/([^/]+)/@connections/", arn)
            assert method == "POST", (owner, arn)
            assert "/GET/" not in arn and "/DELETE/" not in arn and "/*/@connections" not in arn, (owner, arn)


def test_connect_disconnect_and_send_message_start_workflows_each_its_own(permissions):
    grants = {owner: sorted(arns) for owner, arns in permissions.grants("states:StartExecution").items()}

    assert grants == {
        "lambda:on_connect": [f"<{permissions.machine_ids['connection_handshake']}>"],
        "lambda:on_disconnect": [f"<{permissions.machine_ids['connection_cleanup']}>"],
        "lambda:send_message": [f"<{permissions.machine_ids['message_fanout']}>"],
        "lambda:history": [f"<{permissions.machine_ids['history_page']}>"],
        # a user's first connection opening, their last closing or found gone
        "states:connection_handshake": [f"<{permissions.machine_ids['room_fanout']}>"],
        "states:connection_cleanup": [f"<{permissions.machine_ids['room_fanout']}>"],
        "states:message_fanout": [f"<{permissions.machine_ids['connection_cleanup']}>"],  # a post that answered 410
        "states:user_removal": [f"<{permissions.machine_ids['room_fanout']}>"],  # member_left to each room
        "lambda:list_conversations": [f"<{permissions.machine_ids['list_conversations']}>"],
        "lambda:rooms": sorted(
            [f"<{permissions.machine_ids['room_change']}>", f"<{permissions.machine_ids['room_listing']}>"]
        ),
    }


def test_only_the_handshake_and_the_history_page_invoke_a_function_each_its_own_task(permissions):
    handshake_task = function_id(permissions.template, "send_connection_id")
    packing_task = function_id(permissions.template, "pack_history")

    grants = permissions.grants("lambda:InvokeFunction")

    assert {owner: sorted(arns) for owner, arns in grants.items()} == {
        "states:connection_handshake": sorted([f"<{handshake_task}.Arn>", f"<{handshake_task}.Arn>:*"]),
        "states:history_page": sorted([f"<{packing_task}.Arn>", f"<{packing_task}.Arn>:*"]),
    }


def test_each_workflow_touches_only_its_table_and_index_with_the_actions_its_steps_take(permissions):
    tables = table_ids(permissions.template)
    registry, users = f"<{tables['connections']}.Arn>", f"<{tables['users']}.Arn>"
    messages, memberships = f"<{tables['messages']}.Arn>", f"<{tables['memberships']}.Arn>"
    rooms, conversations = f"<{tables['rooms']}.Arn>", f"<{tables['conversations']}.Arn>"

    def grants(action: str) -> dict[str, list[str]]:
        return {owner: sorted(arns) for owner, arns in permissions.grants(action).items()}

    assert grants("dynamodb:PutItem") == {
        "states:connection_handshake": [registry],  # the registry item
        "states:message_fanout": [messages],  # the message, in the history, before it is delivered
        "states:room_change": [memberships],  # a membership, in the join or invite transaction
    }
    assert grants("dynamodb:DeleteItem") == {
        "states:connection_handshake": [registry],  # a client that left before its connection opened
        "states:connection_cleanup": [registry],  # closed, or found gone by the fan-out
        "states:user_removal": sorted([registry, users, memberships]),  # a deleted user's items
        "states:room_change": [memberships],  # a membership, in the leave transaction
    }
    # The user's item: directory entry and live_connections (presence), updated in place, never replaced.
    assert grants("dynamodb:UpdateItem") == {
        "states:connection_handshake": [users],
        "states:connection_cleanup": [users],
        "states:user_removal": [rooms],  # member_count, in the transaction that deletes the membership
        # Only the fan-out moves a user's conversations forward, and it may neither put nor delete one.
        "states:message_fanout": [conversations],
        # the membership transactions' counts (the room's member_count, the user's room_count)
        "states:room_change": sorted([rooms, users]),
    }
    assert grants("dynamodb:GetItem") == {
        "states:connection_cleanup": [registry],
        "states:message_fanout": [memberships],  # is the sender of a room message a member
        "states:history_page": [memberships],  # is the reader of a room's history a member
        "states:room_change": sorted([rooms, users]),  # why a join was refused; the invitee
        "states:room_listing": [memberships],  # the caller's own membership, before a room's members
    }
    assert grants("dynamodb:Query") == {
        # a user's connections; a room's members (the table itself: one room's partition)
        "states:message_fanout": sorted([f"{registry}/index/by_username", memberships]),
        "states:history_page": [messages],  # the table itself, no index: one conversation's partition
        # the rooms a user is in (by_member), then each room's members (the table: one room's partition)
        "states:room_fanout": sorted([memberships, f"{memberships}/index/by_member"]),
        "states:user_removal": sorted([f"{memberships}/index/by_member", f"{registry}/index/by_username"]),
        "states:list_conversations": [conversations],  # one user's partition
        "states:room_change": [memberships],  # a room's members, to announce to
        "states:room_listing": sorted([memberships, f"{memberships}/index/by_member"]),  # members; my rooms
    }
    assert grants("dynamodb:ConditionCheckItem") == {"states:room_change": [memberships]}  # the inviter's
    batch_reads = grants("dynamodb:BatchGetItem")
    assert batch_reads.pop("states:room_change") == [users]  # members' live connections
    assert batch_reads.pop("states:room_listing") == sorted([rooms, users])
    assert set(batch_reads) <= {"lambda:send_message", "states:room_fanout", "states:message_fanout"}  # below
    for action in ("dynamodb:Scan", "dynamodb:*"):
        assert permissions.grants(action) == {}, action


def test_the_authorizer_may_call_no_aws_api(permissions, stage):
    """It verifies tokens with the pool's public keys, fetched over HTTPS: its role writes its logs and traces."""
    if not has_users(stage):
        assert "lambda:authorize" not in permissions.statements
        return
    actions = {
        action for statement in permissions.statements["lambda:authorize"] for action in as_list(statement["Action"])
    }
    assert actions - UNSCOPED_ACTIONS == FUNCTION_LOGGING
    assert not any(action.startswith(("cognito", "dynamodb", "states", "execute-api")) for action in actions)


def test_send_message_asks_cognito_about_users_of_this_stages_pool_only(permissions, stage):
    (pool_id,) = resources(permissions.template, "AWS::Cognito::UserPool") or [None]
    if not has_users(stage):
        assert pool_id is None and permissions.grants("cognito-idp:AdminGetUser") == {}
        return
    assert permissions.grants("cognito-idp:AdminGetUser") == {"lambda:send_message": [f"<{pool_id}.Arn>"]}
    users = f"<{table_ids(permissions.template)['users']}.Arn>"
    batch_reads = permissions.grants("dynamodb:BatchGetItem")
    assert {
        owner: batch_reads[owner] for owner in ("lambda:send_message", "states:room_fanout", "states:message_fanout")
    } == {
        "lambda:send_message": [users],
        "states:room_fanout": [users],  # the live connections of the members of the user's rooms
        "states:message_fanout": [users],  # the live connections of the members of a message's room
    }
    every_action = {
        action
        for owner, statements in permissions.statements.items()
        if owner != SMOKE_TEST
        for st in statements
        for action in as_list(st["Action"])
    }
    assert {action for action in every_action if action.startswith("cognito-idp:")} == {"cognito-idp:AdminGetUser"}


def test_the_smoke_test_may_make_and_delete_users_of_this_stages_pool_only(permissions, stage):
    (pool_id,) = resources(permissions.template, "AWS::Cognito::UserPool") or [None]
    for action in SMOKE_USER_ACTIONS:
        assert permissions.grants(action) == ({SMOKE_TEST: [f"<{pool_id}.Arn>"]} if pool_id else {})
