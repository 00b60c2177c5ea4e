"""API Gateway's account-level CloudWatch Logs role: created by the stack (the stage waiting for it) unless
the stage says the account already has one. Without it, an access-logged stage fails to create."""

import copy
from pathlib import Path

import pytest
from infra_support import CONTEXT, STAGES, render, resources, stage_settings

from cdk.synthesis import Synthesis, synthesize_app

PUSH_TO_CLOUDWATCH_LOGS = "arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"


def synth_with_account_role(tmp_path: Path, stage: str) -> Synthesis:
    """``stage`` as cdk.json has it, but with ``"api_gateway_logs_role": "account"``."""
    stages = copy.deepcopy(CONTEXT["stages"])
    stages[stage]["api_gateway_logs_role"] = "account"
    return synthesize_app(tmp_path, context={"stages": stages, "stage": stage})


# The stages of cdk.json whose stack creates the role (the default: a fresh account has none).
CREATING_STAGES = [stage for stage in STAGES if stage_settings(stage).get("api_gateway_logs_role", "stack") == "stack"]


@pytest.mark.parametrize("stage", CREATING_STAGES)
def test_stack_creates_the_role_and_the_account_setting_before_the_stage(templates, stage):
    template = templates(stage)
    (account_id,) = resources(template, "AWS::ApiGateway::Account")
    account = template["Resources"][account_id]
    role_id = render(account["Properties"]["CloudWatchRoleArn"]).strip("<>").removesuffix(".Arn")
    role = template["Resources"][role_id]

    assert role["Type"] == "AWS::IAM::Role"
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "apigateway.amazonaws.com"}
    assert (trust["Action"], trust["Effect"]) == ("sts:AssumeRole", "Allow")
    assert render(role["Properties"]["ManagedPolicyArns"]) == [PUSH_TO_CLOUDWATCH_LOGS]
    assert "Policies" not in role["Properties"]
    (stage_id,) = resources(template, "AWS::ApiGatewayV2::Stage")
    assert account_id in template["Resources"][stage_id]["DependsOn"]
    (api_id,) = resources(template, "AWS::ApiGatewayV2::Api")
    assert api_id in account["DependsOn"]  # CloudFormation's reference asks for another API Gateway resource first


@pytest.mark.parametrize("stage", CREATING_STAGES)
def test_role_and_account_setting_outlive_the_stack(templates, stage):
    """Shared by every API of the account and Region; deleting the stack does not reset the setting."""
    template = templates(stage)
    (account_id,) = resources(template, "AWS::ApiGateway::Account")
    role_id = render(template["Resources"][account_id]["Properties"]["CloudWatchRoleArn"]).strip("<>").split(".")[0]
    for logical_id in (account_id, role_id):
        assert template["Resources"][logical_id]["DeletionPolicy"] == "Retain"
        assert template["Resources"][logical_id]["UpdateReplacePolicy"] == "Retain"


@pytest.mark.parametrize("stage", STAGES)
def test_a_stage_whose_account_has_the_role_leaves_account_settings_alone(tmp_path, stage):
    synthesis = synth_with_account_role(tmp_path, stage)
    template = synthesis.template(f"Chat-{stage}")

    assert synthesis.findings() == []
    assert resources(template, "AWS::ApiGateway::Account") == {}
    trusted = [
        role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"].get("Service")
        for role in resources(template, "AWS::IAM::Role").values()
    ]
    assert "apigateway.amazonaws.com" not in trusted
    (stage_id,) = resources(template, "AWS::ApiGatewayV2::Stage")
    assert "DependsOn" not in template["Resources"][stage_id]
    # Still access-logged: the account's own role carries the logs.
    assert "AccessLogSettings" in resources(template, "AWS::ApiGatewayV2::Stage")[stage_id]
