"""Least privilege: each role may do what its function or workflow needs, on its own resources only."""

import json
import re

import pytest
from infra_support import PROJECT_ROOT, STAGES, as_list, function_id, render, resources

from cdk.definitions import deployed_definition

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
# The only actions beyond logging and tracing, per role owner.
GRANTS = {
    "lambda:on_connect": {"states:StartExecution"},
    "lambda:on_disconnect": set(),
    "lambda:on_default": set(),
    "lambda:send_message": {"states:StartExecution"},
    "lambda:send_connection_id": {"execute-api:ManageConnections"},
    "states:connection_handshake": {"lambda:InvokeFunction"},
    "states:message_fanout": {"execute-api:ManageConnections"},
    # functions CloudFormation runs at deploy time for a custom resource, by its type
    "deploy:Custom::IamPropagationWait": set(),
}


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
        self.owner_of_role: dict[str, str] = {}
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


def test_every_role_belongs_to_one_function_or_workflow(permissions):
    assert set(permissions.roles) == set(permissions.owner_of_role)
    assert sorted(permissions.owner_of_role.values()) == sorted(GRANTS)
    for role_id, role in permissions.roles.items():
        assert "ManagedPolicyArns" not in role and "Policies" not in role
        (statement,) = role["AssumeRolePolicyDocument"]["Statement"]
        service = (
            "lambda.amazonaws.com"
            if permissions.owner_of_role[role_id].startswith(("lambda:", "deploy:"))
            else "states.amazonaws.com"
        )
        assert statement["Principal"] == {"Service": service}
        assert statement["Action"] == "sts:AssumeRole"


def test_no_role_gets_more_than_its_grants(permissions):
    for owner, statements in permissions.statements.items():
        actions = {action for statement in statements for action in as_list(statement["Action"])}
        baseline = FUNCTION_LOGGING if owner.startswith(("lambda:", "deploy:")) else set()
        assert actions - UNSCOPED_ACTIONS - baseline == GRANTS[owner], owner
        for statement in statements:
            assert statement["Effect"] == "Allow"
            assert not any(action == "*" or action.endswith(":*") for action in as_list(statement["Action"]))


def test_wildcard_resources_only_for_actions_that_need_them(permissions):
    for owner, statements in permissions.statements.items():
        for statement in statements:
            if "*" in as_list(statement["Resource"]):
                assert set(as_list(statement["Action"])) <= UNSCOPED_ACTIONS, owner


def test_functions_write_only_to_their_own_log_group(permissions):
    for logical_id, function in permissions.functions.items():
        owner = permissions.owner_of_function[logical_id]
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

    assert grants == {"lambda:send_connection_id": expected, "states:message_fanout": expected}
    assert permissions.grants("execute-api:Invoke") == {}


def test_no_role_may_get_or_delete_connections(permissions):
    """No ManageConnections resource names a method other than POST, wildcard methods included."""
    for owner, arns in permissions.grants("execute-api:ManageConnections").items():
        for arn in arns:
            (method,) = re.findall(r"/([^/]+)/@connections/", arn)
            assert method == "POST", (owner, arn)
            assert "/GET/" not in arn and "/DELETE/" not in arn and "/*/@connections" not in arn, (owner, arn)


def test_only_connect_and_send_message_start_workflows_each_its_own(permissions):
    grants = permissions.grants("states:StartExecution")

    assert grants == {
        "lambda:on_connect": [f"<{permissions.machine_ids['connection_handshake']}>"],
        "lambda:send_message": [f"<{permissions.machine_ids['message_fanout']}>"],
    }


def test_only_the_handshake_invokes_a_function_its_own_task(permissions):
    handshake_task = function_id(permissions.template, "send_connection_id")

    grants = permissions.grants("lambda:InvokeFunction")

    assert {owner: sorted(arns) for owner, arns in grants.items()} == {
        "states:connection_handshake": sorted([f"<{handshake_task}.Arn>", f"<{handshake_task}.Arn>:*"]),
    }
