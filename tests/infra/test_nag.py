"""cdk-nag (AwsSolutions rules) passes for every stage: each accepted finding is acknowledged, none is open.

How a finding surfaces in-process: ``app.synth()`` raises ``RuntimeError("ValidationFailed: ...")`` and
``validation-report.json`` in the output directory has the plugin's conclusion "failure" with the
violations listed (see cdk/synthesis.py).
"""

from collections.abc import Callable
from pathlib import Path

import aws_cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from cdk_nag import AwsSolutionsChecks
from infra_support import ROUTES, STAGES, WORKFLOWS, function_id, has_users, modules, resources, stage_settings

from cdk.app import build
from cdk.synthesis import Synthesis, synthesize, synthesize_stage

WILDCARD = "AwsSolutions-IAM5[Resource::*]"
API_GATEWAY_LOGS_POLICY = "arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"


@pytest.mark.parametrize("stage", STAGES)
def test_no_unacknowledged_findings(synth_stage, stage):
    synthesis = synth_stage(stage)

    assert synthesis.validation_error is None
    assert synthesis.findings() == []
    (plugin,) = synthesis.validation_report["pluginReports"]
    assert plugin["pluginName"] == "AwsSolutions"
    assert plugin["conclusion"] == "success"


@pytest.mark.parametrize(
    ("account", "region"),
    [("111122223333", "eu-west-1"), (None, "us-east-1")],
    ids=["account-and-region", "region-only"],
)
def test_no_unacknowledged_findings_with_a_concrete_account_and_region(synth_stage, account, region):
    """What `cdk deploy` synthesizes: the CLI sets CDK_DEFAULT_ACCOUNT/REGION from the credentials
    (and only CDK_DEFAULT_REGION, from the AWS config, when there are none)."""
    synthesis = synth_stage("prod", account=account, region=region)

    assert synthesis.findings() == []
    assert synthesis.validation_error is None
    (api_id,) = resources(synthesis.template("Chat-prod"), "AWS::ApiGatewayV2::Api")
    arn_account = account or "<AWS::AccountId>"
    # A known region names its partition (feature flag @aws-cdk/core:enablePartitionLiterals).
    post = f"arn:aws:execute-api:{region}:{arn_account}:<{api_id}>/prod/POST/@connections/*"
    assert set(suppressed(synthesis)[f"AwsSolutions-IAM5[Resource::{post}]"]) == {
        "Chat-prod/Functions/SendConnectionIdRole/DefaultPolicy/Resource",
        "Chat-prod/Workflows/MessageFanout/Role/DefaultPolicy/Resource",
        "Chat-prod/Workflows/HistoryPage/Role/DefaultPolicy/Resource",
        "Chat-prod/Workflows/ConversationList/Role/DefaultPolicy/Resource",
        "Chat-prod/Workflows/RoomFanout/Role/DefaultPolicy/Resource",
        "Chat-prod/Workflows/RoomChange/Role/DefaultPolicy/Resource",
        "Chat-prod/Workflows/RoomListing/Role/DefaultPolicy/Resource",
    }


def suppressed(synthesis: Synthesis, *, web_hosting: bool = False) -> dict[str, list[str]]:
    """Full finding id (with its ``[...]`` part) -> construct paths of every acknowledged finding: the chat's, or
    (``web_hosting``) those of the web client's hosting (cdk/web_hosting.py and CDK's BucketDeployment function)."""
    (plugin,) = synthesis.validation_report["pluginReports"]
    found: dict[str, list[str]] = {}
    for violation in plugin["suppressedViolations"]:
        paths = [
            construct["constructPath"]
            for construct in violation["violatingConstructs"]
            if _of_web_hosting(construct["constructPath"]) == web_hosting
        ]
        if paths:
            found.setdefault(violation["ruleName"], []).extend(paths)
    return {rule: sorted(paths) for rule, paths in found.items()}


def _of_web_hosting(path: str) -> bool:
    return path.split("/")[1] == "WebClient" or path.split("/")[1].startswith("Custom::CDKBucketDeployment")


@pytest.mark.parametrize("stage", STAGES)
def test_web_hosting_acknowledges_only_what_a_public_static_page_and_cdks_deployment_inherently_are(synth_stage, stage):
    synthesis = synth_stage(stage)
    found = suppressed(synthesis, web_hosting=True)
    distribution = f"Chat-{stage}/WebClient/Distribution/Resource"

    # No domain: CloudFront's default certificate (CFR4); geo restriction and WAF are product choices (reasons in
    # cdk/nag_suppressions.py); everything else is CDK's own BucketDeployment function and role.
    assert {rule: paths for rule, paths in found.items() if rule.startswith("AwsSolutions-CFR")} == {
        "AwsSolutions-CFR1": [distribution],
        "AwsSolutions-CFR2": [distribution],
        "AwsSolutions-CFR4": [distribution],
    }
    others = {path for rule, paths in found.items() if not rule.startswith("AwsSolutions-CFR") for path in paths}
    assert all(path.split("/")[1].startswith("Custom::CDKBucketDeployment") for path in others), others


@pytest.mark.parametrize("stage", STAGES)
def test_acknowledgments_are_used_and_scoped(synth_stage, stage):
    """Each acknowledged finding exists, by its full id, and only on the constructs that need it. With sign-in,
    $connect has its authorizer (nothing to acknowledge) and the user pool's accepted findings are its own."""
    synthesis = synth_stage(stage)
    template = synthesis.template(f"Chat-{stage}")
    (api_id,) = resources(template, "AWS::ApiGatewayV2::Api")
    post = f"arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<{api_id}>/{stage}/POST/@connections/*"
    handshake_task = function_id(template, "send_connection_id")
    root = f"Chat-{stage}"
    unauthorized = [route for route in ROUTES if not (has_users(stage) and route == "$connect")]
    user_pool = {f"AwsSolutions-{rule}": [f"{root}/Identity/UserPool/Resource"] for rule in ("COG1", "COG2", "COG8")}

    creates_logs_role = stage_settings(stage)["api_gateway_logs_role"] == "stack"
    assert suppressed(synthesis) == {
        "AwsSolutions-APIG4": sorted(f"{root}/WebSocket/Api/{route}-Route/Resource" for route in unauthorized),
        "AwsSolutions-L1": sorted(f"{root}/Functions/{name}/Resource" for name in modules(stage)),
        WILDCARD: sorted(
            [f"{root}/Functions/{name}Role/DefaultPolicy/Resource" for name in modules(stage)]
            + [f"{root}/Workflows/{name}/Role/DefaultPolicy/Resource" for name in WORKFLOWS]
        ),
        **(user_pool if has_users(stage) else {}),
        f"AwsSolutions-IAM5[Resource::{post}]": sorted(
            [
                f"{root}/Functions/SendConnectionIdRole/DefaultPolicy/Resource",
                f"{root}/Workflows/MessageFanout/Role/DefaultPolicy/Resource",
                f"{root}/Workflows/HistoryPage/Role/DefaultPolicy/Resource",
                f"{root}/Workflows/ConversationList/Role/DefaultPolicy/Resource",
                f"{root}/Workflows/RoomFanout/Role/DefaultPolicy/Resource",
                f"{root}/Workflows/RoomChange/Role/DefaultPolicy/Resource",
                f"{root}/Workflows/RoomListing/Role/DefaultPolicy/Resource",
            ]
        ),
        f"AwsSolutions-IAM5[Resource::<{handshake_task}.Arn>:*]": [
            f"{root}/Workflows/ConnectionHandshake/Role/DefaultPolicy/Resource"
        ],
        f"AwsSolutions-IAM5[Resource::<{function_id(template, 'pack_history')}.Arn>:*]": [
            f"{root}/Workflows/HistoryPage/Role/DefaultPolicy/Resource"
        ],
        **(
            {f"AwsSolutions-IAM4[Policy::{API_GATEWAY_LOGS_POLICY}]": [f"{root}/ApiGatewayLogsRole/Role/Resource"]}
            if creates_logs_role
            else {}
        ),
    }


def synth_changed(tmp_path: Path, change: Callable[[aws_cdk.Stack], None]) -> Synthesis:
    """The real app (``cdk synth -c stage=dev``), with ``change`` applied to its stack before synthesis."""
    return synthesize_stage("dev", tmp_path, build=lambda app: change(build(app)))


def delete_any_table() -> iam.PolicyStatement:
    return iam.PolicyStatement(actions=["dynamodb:DeleteTable"], resources=["*"])


def test_a_wildcard_resource_on_a_new_role_fails_the_synth(tmp_path):
    def add_role(stack: aws_cdk.Stack) -> None:
        role = iam.Role(stack, "NewRole", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        role.add_to_policy(delete_any_table())

    synthesis = synth_changed(tmp_path, add_role)

    assert synthesis.validation_error is not None and "ValidationFailed" in synthesis.validation_error
    assert synthesis.findings() == [(WILDCARD, "Chat-dev/NewRole/DefaultPolicy/Resource")]
    (plugin,) = synthesis.validation_report["pluginReports"]
    assert plugin["conclusion"] == "failure"


def test_a_new_function_gets_none_of_the_existing_acknowledgments(tmp_path):
    def add_function(stack: aws_cdk.Stack) -> None:
        function = lambda_.Function(
            stack.node.find_child("Functions"),
            "NewFunction",
            runtime=lambda_.Runtime.PYTHON_3_13,
            handler="index.handler",
            code=lambda_.Code.from_inline("def handler(event, context):\n    return None\n"),
            tracing=lambda_.Tracing.ACTIVE,
        )
        function.add_to_role_policy(delete_any_table())

    synthesis = synth_changed(tmp_path, add_function)

    assert synthesis.validation_error is not None and "ValidationFailed" in synthesis.validation_error
    findings = set(synthesis.findings())
    assert (WILDCARD, "Chat-dev/Functions/NewFunction/ServiceRole/DefaultPolicy/Resource") in findings
    assert ("AwsSolutions-L1", "Chat-dev/Functions/NewFunction/Resource") in findings
    assert all("/NewFunction/" in path for _, path in findings)


def test_a_non_compliant_resource_fails_the_synth(tmp_path):
    app = aws_cdk.App(outdir=str(tmp_path))
    stack = aws_cdk.Stack(app, "NonCompliant")
    sqs.Queue(stack, "Queue")  # no DLQ, no SSL enforcement
    aws_cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))

    synthesis = synthesize(app, tmp_path)

    assert synthesis.validation_error is not None
    rules = {rule for rule, path in synthesis.findings() if path == "NonCompliant/Queue/Resource"}
    assert {"AwsSolutions-SQS3", "AwsSolutions-SQS4"} <= rules
    (plugin,) = synthesis.validation_report["pluginReports"]
    assert plugin["conclusion"] == "failure"
