"""A first deploy into a fresh account must not race IAM: the resources that check a brand-new role when they are
created (API Gateway's account setting, the state machines with logging) wait for it (cdk/iam_propagation.py)."""

from infra_support import as_list, render, resources

from cdk.iam_propagation import RESOURCE_TYPE, WAIT_SECONDS


def depends_on(template: dict, logical_id: str) -> set[str]:
    return set(template["Resources"][logical_id].get("DependsOn", []))


def starts_executions_only(policy: dict) -> bool:
    """A workflow's permission to start another (cdk/chat_stack.py, _allow_starting): needed when executions run,
    not when the state machine is created, and waiting for it would wait for the started state machine (a cycle)."""
    return {
        action for statement in policy["PolicyDocument"]["Statement"] for action in as_list(statement["Action"])
    } == {"states:StartExecution"}


def test_new_roles_propagate_before_the_resources_that_check_them(template):
    (wait_id,) = resources(template, RESOURCE_TYPE)
    wait = template["Resources"][wait_id]
    waited_for = set(render(wait["Properties"]["Roles"]))
    state_machines = resources(template, "AWS::StepFunctions::StateMachine")
    accounts = resources(template, "AWS::ApiGateway::Account")
    policies = resources(template, "AWS::IAM::Policy")

    assert WAIT_SECONDS >= 20 and wait["Properties"]["Seconds"] == WAIT_SECONDS
    checked_roles = [render(properties["RoleArn"]) for properties in state_machines.values()]
    checked_roles += [render(properties["CloudWatchRoleArn"]) for properties in accounts.values()]
    assert waited_for == set(checked_roles)
    for role_arn in checked_roles:
        role_id = role_arn.strip("<>").removesuffix(".Arn")
        role_policies = {
            policy_id
            for policy_id, policy in policies.items()
            if {"Ref": role_id} in policy["Roles"] and not starts_executions_only(policy)
        }
        assert {role_id, *role_policies} <= depends_on(template, wait_id), role_id
    for checking in [*state_machines, *accounts]:
        assert wait_id in depends_on(template, checking), checking


def test_the_wait_runs_at_deploy_time_only(template):
    (wait_id,) = resources(template, RESOURCE_TYPE)
    function_id = render(template["Resources"][wait_id]["Properties"]["ServiceToken"]).strip("<>").removesuffix(".Arn")
    function = template["Resources"][function_id]["Properties"]

    assert "ZipFile" in function["Code"]  # inline: no asset, no bundling
    assert function["Timeout"] > WAIT_SECONDS
    assert not any(
        function_id in str(properties) for properties in resources(template, "AWS::ApiGatewayV2::Integration").values()
    )
