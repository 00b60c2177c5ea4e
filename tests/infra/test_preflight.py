"""`make preflight`: each check passing and failing against moto's AWS (``mock_aws``).

One check cannot pass on moto: the Powertools layer parameter is a public parameter AWS owns under
/aws/service/, which moto does not model and (like AWS) refuses to let anyone create. Its passing case
answers GetParameter with botocore's Stubber, in the shape AWS documents; its failing case runs on moto.
"""

import dataclasses
import json
import os

import boto3
import pytest
from aws_cdk import aws_iam as iam
from botocore.stub import Stubber
from infra_support import STAGES
from moto import mock_aws

from cdk import synthesis
from cdk.app import build
from cdk.domain_settings import DomainSettings
from cdk.operations import preflight
from cdk.operations.preflight import (
    Deployment,
    Result,
    check_api_gateway_logs_role,
    check_bootstrap,
    check_credentials,
    check_hosted_zone,
    check_log_groups,
    check_pipeline_trust,
    check_powertools_layer,
    default_session,
    deployment_of,
    main,
    report,
    run_checks,
)

# The checks README lists, in the order they run.
ALL_CHECKS = (
    "credentials and region",
    "CDK bootstrap",
    "trust of the pipeline's account",
    "Powertools layer",
    "API Gateway CloudWatch Logs role",
    "hosted zone",
    "log groups",
)
ACCOUNT_CHECKS = ALL_CHECKS[1:]  # each needs an account to ask
REGION = "eu-west-1"
ACCOUNT = "123456789012"  # moto's
API_GATEWAY_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "apigateway.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}


@pytest.fixture(scope="session")
def deployment(synth_stage) -> Deployment:
    """Stage dev as `make preflight STAGE=dev` reads it from its synthesis."""
    return deployment_of("dev", synth_stage("dev"))


@pytest.fixture
def aws(monkeypatch):
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        yield boto3.Session(region_name=REGION)


def bootstrap(session: boto3.Session, version: str, *, trusted: str = "") -> None:
    """A CDKToolkit stack that, like `cdk bootstrap`'s, writes its version to SSM and lists the accounts it trusts."""
    template = {
        "Parameters": {"TrustedAccounts": {"Type": "CommaDelimitedList", "Default": ""}},
        "Resources": {
            "CdkBootstrapVersion": {
                "Type": "AWS::SSM::Parameter",
                "Properties": {"Name": "/cdk-bootstrap/hnb659fds/version", "Type": "String", "Value": version},
            }
        },
    }
    session.client("cloudformation").create_stack(
        StackName="CDKToolkit",
        TemplateBody=json.dumps(template),
        Parameters=[{"ParameterKey": "TrustedAccounts", "ParameterValue": trusted}],
    )


def bootstrap_check(session: boto3.Session, deployment: Deployment) -> Result:
    cloudformation, ssm = session.client("cloudformation"), session.client("ssm")
    return check_bootstrap(cloudformation, ssm, deployment, account=ACCOUNT, region=REGION)


def account_role(session: boto3.Session, name: str, trust: dict = API_GATEWAY_TRUST) -> str:
    role_arn = session.client("iam").create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"][
        "Arn"
    ]
    session.client("apigateway").update_account(
        patchOperations=[{"op": "replace", "path": "/cloudwatchRoleArn", "value": role_arn}]
    )
    return role_arn


def with_account_role(deployment: Deployment) -> Deployment:
    config = dataclasses.replace(deployment.config, api_gateway_logs_role="account")
    return dataclasses.replace(deployment, config=config)


# --- the deployment it checks comes from the synthesized stage ---------------------------------------


def test_the_deployment_is_read_from_the_synthesized_stage(deployment):
    assert deployment.stack_name == "Chat-dev"
    assert deployment.bootstrap_version_parameter == "/cdk-bootstrap/hnb659fds/version"
    assert deployment.required_bootstrap_version >= 6  # the template's own CheckBootstrapVersion rule
    # The very parameter the template resolves the layer from.
    defaults = {parameter.get("Default") for parameter in deployment.template["Parameters"].values()}
    assert deployment.powertools_layer_parameter in defaults


# --- credentials and region ---------------------------------------------------------------------------


def test_credentials_pass_and_name_the_account(aws):
    result, account = check_credentials(aws.client("sts"), REGION)

    assert (result.status, account) == ("PASS", ACCOUNT)
    assert ACCOUNT in result.line and REGION in result.line


def test_credentials_for_another_account_than_the_stages_fail_naming_both(aws):
    result, account = check_credentials(aws.client("sts"), REGION, stage_account="111111111111")

    assert (result.status, account) == ("FAIL", None)
    assert ACCOUNT in result.line and "deploys to 111111111111" in result.line and "AWS_PROFILE" in result.line


def test_credentials_for_the_stages_own_account_pass(aws):
    result, account = check_credentials(aws.client("sts"), REGION, stage_account=ACCOUNT)

    assert (result.status, account) == ("PASS", ACCOUNT)


def test_the_stages_own_region_is_where_its_account_is_checked(no_aws_configuration, monkeypatch):
    monkeypatch.setenv("AWS_REGION", "ap-southeast-2")

    assert default_session("eu-central-1").region_name == "eu-central-1"
    assert default_session(None).region_name == "ap-southeast-2"


def test_no_region_fails_with_the_fix():
    result, account = check_credentials(None, None)

    assert (result.status, account) == ("FAIL", None)
    assert "AWS_REGION" in result.line


@pytest.fixture
def no_aws_configuration(monkeypatch, tmp_path):
    """A machine where nobody signed in: no AWS_* variables, no config or credentials files, no IMDS."""
    for name in [name for name in os.environ if name.startswith("AWS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def test_no_credentials_fail_with_the_fix(no_aws_configuration):
    result, account = check_credentials(boto3.Session(region_name=REGION).client("sts"), REGION)

    assert (result.status, account) == ("FAIL", None)
    assert "no working credentials" in result.line and "aws sso login" in result.line


@pytest.mark.parametrize("variable", ["AWS_REGION", "AWS_DEFAULT_REGION"])
def test_the_region_comes_from_the_variables_the_cdk_cli_reads(no_aws_configuration, monkeypatch, variable):
    monkeypatch.setenv(variable, "ap-southeast-2")

    assert default_session().region_name == "ap-southeast-2"


def test_without_a_region_every_other_check_is_listed_as_skipped_saying_why(no_aws_configuration, deployment):
    results = run_checks(boto3.Session(), deployment)

    assert [(result.status, result.check) for result in results] == [
        ("FAIL", "credentials and region"),
        *(("SKIP", check) for check in ACCOUNT_CHECKS),
    ]
    assert all("credentials and region" in result.detail for result in results[1:])


def test_without_credentials_make_preflight_prints_one_line_per_check_and_fails(no_aws_configuration, capsys):
    status = main(["--stage", "dev"], session=boto3.Session(region_name=REGION))

    lines = capsys.readouterr().out.splitlines()
    assert status == 1
    assert lines[0].startswith("FAIL credentials and region: no working credentials")
    assert lines[1:-1] == [
        f"SKIP {check}: not run: it needs the account, and the credentials and region check failed"
        for check in ACCOUNT_CHECKS
    ]
    assert lines[-1] == "preflight for Chat-dev: 1 check(s) failed, 6 skipped"


# --- CDK bootstrap --------------------------------------------------------------------------------------


def test_bootstrap_passes_at_a_recent_version(aws, deployment):
    bootstrap(aws, "21")

    result = check_bootstrap(
        aws.client("cloudformation"), aws.client("ssm"), deployment, account=ACCOUNT, region=REGION
    )

    assert result.status == "PASS", result.line


def test_not_bootstrapped_fails_with_the_bootstrap_command(aws, deployment):
    result = check_bootstrap(
        aws.client("cloudformation"), aws.client("ssm"), deployment, account=ACCOUNT, region=REGION
    )

    assert result.status == "FAIL"
    assert f"npx cdk bootstrap aws://{ACCOUNT}/{REGION}" in result.line


def test_an_old_bootstrap_fails_naming_the_version_needed(aws, deployment):
    bootstrap(aws, "5")

    result = check_bootstrap(
        aws.client("cloudformation"), aws.client("ssm"), deployment, account=ACCOUNT, region=REGION
    )

    assert result.status == "FAIL"
    assert (
        f"needs {deployment.required_bootstrap_version} or later" in result.line and "npx cdk bootstrap" in result.line
    )


# --- the pipeline's account is trusted where the pipeline deploys -------------------------------------------

PIPELINE_ACCOUNT = "444444444444"


def deployed_by_pipeline(deployment: Deployment, pipeline_account: str | None = PIPELINE_ACCOUNT) -> Deployment:
    return dataclasses.replace(deployment, pipeline_account=pipeline_account)


def trust_check(session: boto3.Session, deployment: Deployment) -> Result:
    return check_pipeline_trust(session.client("cloudformation"), deployment, account=ACCOUNT, region=REGION)


def test_the_pipeline_account_is_the_one_its_source_connection_lives_in(synth_stage, deployment, monkeypatch):
    assert synthesis.cdk_json_context()["pipeline_source"]["connection_arn"] is None  # no pipeline set up yet
    assert deployment.pipeline_account is None
    source = {
        "connection_arn": f"arn:aws:codeconnections:{REGION}:{PIPELINE_ACCOUNT}:connection/0f1e2d3c",
        "repository": "example-org/serverless-chat",
        "branch": "main",
    }
    monkeypatch.setattr(
        preflight, "cdk_json_context", lambda: {**synthesis.cdk_json_context(), "pipeline_source": source}
    )

    assert deployment_of("dev", synth_stage("dev")).pipeline_account == PIPELINE_ACCOUNT


def test_an_account_that_trusts_the_pipeline_passes(aws, deployment):
    bootstrap(aws, "21", trusted=f"555555555555,{PIPELINE_ACCOUNT}")

    result = trust_check(aws, deployed_by_pipeline(deployment))

    assert result.status == "PASS" and PIPELINE_ACCOUNT in result.line


def test_an_account_that_does_not_trust_the_pipeline_fails_with_the_bootstrap_command(aws, deployment):
    bootstrap(aws, "21", trusted="555555555555")

    result = trust_check(aws, deployed_by_pipeline(deployment))

    assert result.status == "FAIL"
    assert f"npx cdk bootstrap aws://{ACCOUNT}/{REGION} --trust {PIPELINE_ACCOUNT}" in result.line
    assert "--cloudformation-execution-policies" in result.line


@pytest.mark.parametrize(("pipeline_account", "why"), [(None, "make deploy only"), (ACCOUNT, "this account")])
def test_trust_is_not_needed_without_a_pipeline_or_in_its_own_account(aws, deployment, pipeline_account, why):
    result = trust_check(aws, deployed_by_pipeline(deployment, pipeline_account))

    assert result.status == "PASS" and why in result.line


# --- the Powertools layer's SSM parameter ------------------------------------------------------------------


def test_powertools_layer_passes_when_aws_publishes_the_parameter(deployment):
    ssm = boto3.client("ssm", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    layer = f"arn:aws:lambda:{REGION}:017000801446:layer:AWSLambdaPowertoolsPythonV3-python313-arm64:20"
    with Stubber(ssm) as stubber:
        stubber.add_response(
            "get_parameter",
            {"Parameter": {"Name": deployment.powertools_layer_parameter, "Type": "String", "Value": layer}},
            {"Name": deployment.powertools_layer_parameter},
        )
        result = check_powertools_layer(ssm, deployment, region=REGION)

    assert result.status == "PASS" and layer in result.line


def test_powertools_layer_fails_when_the_release_has_no_parameter_there(aws, deployment):
    result = check_powertools_layer(aws.client("ssm"), deployment, region=REGION)

    assert result.status == "FAIL"
    assert deployment.powertools_layer_parameter in result.line and "get-parameters-by-path" in result.line


# --- API Gateway's CloudWatch Logs role ---------------------------------------------------------------------


def test_a_stage_creating_the_role_passes_in_a_fresh_account(aws, deployment):
    result = check_api_gateway_logs_role(aws.client("apigateway"), aws.client("iam"), deployment)

    assert result.status == "PASS"


def test_a_stage_creating_the_role_passes_when_the_account_names_its_own_role(aws, deployment):
    account_role(aws, "Chat-dev-ApiGatewayLogsRoleA5F0171F-1A2B3C4D5E6F")

    assert check_api_gateway_logs_role(aws.client("apigateway"), aws.client("iam"), deployment).status == "PASS"


def test_a_stage_creating_the_role_warns_when_the_account_has_another(aws, deployment):
    role_arn = account_role(aws, "SharedApiGatewayLogs")

    result = check_api_gateway_logs_role(aws.client("apigateway"), aws.client("iam"), deployment)

    assert result.status == "WARN"
    assert role_arn in result.line and '"api_gateway_logs_role": "account"' in result.line


def test_a_stage_relying_on_the_account_passes_when_its_role_is_there(aws, deployment):
    role_arn = account_role(aws, "SharedApiGatewayLogs")

    result = check_api_gateway_logs_role(aws.client("apigateway"), aws.client("iam"), with_account_role(deployment))

    assert result.status == "PASS" and role_arn in result.line


def test_a_stage_relying_on_the_account_fails_when_the_account_has_none(aws, deployment):
    result = check_api_gateway_logs_role(aws.client("apigateway"), aws.client("iam"), with_account_role(deployment))

    assert result.status == "FAIL"
    assert '"api_gateway_logs_role": "stack"' in result.line


def test_a_stage_relying_on_the_account_fails_when_its_role_was_deleted(aws, deployment):
    account_role(aws, "DeletedLater")
    aws.client("iam").delete_role(RoleName="DeletedLater")

    result = check_api_gateway_logs_role(aws.client("apigateway"), aws.client("iam"), with_account_role(deployment))

    assert result.status == "FAIL" and "no longer exists" in result.line


def test_a_stage_relying_on_the_account_fails_when_the_role_does_not_trust_api_gateway(aws, deployment):
    lambda_trust = json.loads(json.dumps(API_GATEWAY_TRUST).replace("apigateway", "lambda"))
    account_role(aws, "WrongTrust", lambda_trust)

    result = check_api_gateway_logs_role(aws.client("apigateway"), aws.client("iam"), with_account_role(deployment))

    assert result.status == "FAIL" and "does not trust apigateway.amazonaws.com" in result.line


# --- the domain's hosted zone ----------------------------------------------------------------------------------


def on_domain(deployment: Deployment, **domain: str) -> Deployment:
    settings = DomainSettings(name="chat.example.com", **domain)
    return dataclasses.replace(deployment, config=dataclasses.replace(deployment.config, domain=settings))


def public_zone(session: boto3.Session, name: str = "example.com") -> str:
    zone = session.client("route53").create_hosted_zone(Name=name, CallerReference=name)["HostedZone"]
    return zone["Id"].rsplit("/", 1)[-1]


def test_no_domain_needs_no_zone(aws, deployment):
    result = check_hosted_zone(aws.client("route53"), deployment)

    assert result.status == "PASS" and "no domain" in result.line


def test_the_zone_cdk_json_names_passes_when_it_exists_under_that_name(aws, deployment):
    zone_id = public_zone(aws)

    result = check_hosted_zone(
        aws.client("route53"), on_domain(deployment, hosted_zone_id=zone_id, hosted_zone_name="example.com")
    )

    assert result.status == "PASS" and zone_id in result.line


@pytest.mark.parametrize(("zone_name", "why"), [(None, "does not exist"), ("example.org", "is example.org.")])
def test_a_missing_or_other_zone_fails_with_the_fix(aws, deployment, zone_name, why):
    zone_id = public_zone(aws, zone_name) if zone_name else "Z0123456789ABC"

    result = check_hosted_zone(
        aws.client("route53"), on_domain(deployment, hosted_zone_id=zone_id, hosted_zone_name="example.com")
    )

    assert result.status == "FAIL" and why in result.line and "create the public hosted zone example.com" in result.line


def test_a_private_zone_fails(aws, deployment):
    vpc = aws.client("ec2").create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    zone = aws.client("route53").create_hosted_zone(
        Name="example.com",
        CallerReference="private",
        HostedZoneConfig={"PrivateZone": True},
        VPC={"VPCRegion": REGION, "VPCId": vpc},
    )["HostedZone"]

    result = check_hosted_zone(
        aws.client("route53"),
        on_domain(deployment, hosted_zone_id=zone["Id"].rsplit("/", 1)[-1], hosted_zone_name="example.com"),
    )

    assert result.status == "FAIL" and "private" in result.line


def test_with_the_zone_elsewhere_the_records_to_create_are_named(aws, deployment):
    certificates = {"certificate_arn": "arn:aws:acm:eu-west-1:1:certificate/a", "web_certificate_arn": "arn:b"}

    result = check_hosted_zone(aws.client("route53"), on_domain(deployment, **certificates))

    assert result.status == "PASS" and "DomainTarget" in result.line and "web.chat.example.com" in result.line


def test_a_stage_whose_web_certificate_is_made_in_us_east_1_needs_its_bootstrap_there_too(aws, deployment):
    bootstrap(aws, "21")  # eu-west-1 only
    domain = on_domain(deployment, hosted_zone_id=public_zone(aws), hosted_zone_name="example.com")

    results = {result.check: result for result in run_checks(aws, domain)}

    assert results["CDK bootstrap"].status == "PASS"
    us_east_1 = results["CDK bootstrap (us-east-1, for the web certificate)"]
    assert us_east_1.status == "FAIL" and f"npx cdk bootstrap aws://{ACCOUNT}/us-east-1" in us_east_1.line
    assert results["hosted zone"].status == "PASS"


# --- log groups left behind -----------------------------------------------------------------------------------


def test_log_groups_pass_in_a_fresh_account(aws, deployment):
    result = check_log_groups(aws.client("logs"), aws.client("cloudformation"), deployment)

    assert result.status == "PASS"


def test_a_fixed_log_group_name_that_exists_fails(aws, deployment):
    template = json.loads(json.dumps(deployment.template))
    fixed = "/aws/vendedlogs/states/chat-dev-message_fanout"
    resource = next(item for item in template["Resources"].values() if item["Type"] == "AWS::Logs::LogGroup")
    resource["Properties"]["LogGroupName"] = fixed
    aws.client("logs").create_log_group(logGroupName=fixed)

    result = check_log_groups(
        aws.client("logs"), aws.client("cloudformation"), dataclasses.replace(deployment, template=template)
    )

    assert result.status == "FAIL" and fixed in result.line and "delete-log-group" in result.line


def test_retained_log_groups_of_an_earlier_deployment_warn_without_failing(aws, deployment):
    leftover = "/aws/vendedlogs/states/Chat-dev-message_fanout-0b6c3f0e-8a0e-11ef-9d5c-0a1b2c3d4e5f"
    aws.client("logs").create_log_group(logGroupName=leftover)
    aws.client("logs").create_log_group(logGroupName="Chat-staging-FunctionsOnConnectLogs-AbC")  # another stage's

    result = check_log_groups(aws.client("logs"), aws.client("cloudformation"), deployment)

    assert result.status == "WARN"
    assert leftover in result.line and "Chat-staging" not in result.line


# --- the report -------------------------------------------------------------------------------------------------


def test_every_check_reports_one_line_and_any_failure_exits_non_zero(aws, deployment, capsys):
    bootstrap(aws, "21")

    status = report("Chat-dev", run_checks(aws, deployment))

    lines = capsys.readouterr().out.splitlines()
    assert status == 1  # moto has no Powertools parameter
    assert [line.split()[0] for line in lines[:-1]] == ["PASS", "PASS", "PASS", "FAIL", "PASS", "PASS", "PASS"]
    assert lines[-1] == "preflight for Chat-dev: 1 check(s) failed"


def test_only_passes_and_warnings_exit_zero(capsys):
    status = report("Chat-dev", [Result("PASS", "a", "fine"), Result("WARN", "b", "look", "do this.")])

    assert status == 0
    assert capsys.readouterr().out.splitlines() == [
        "PASS a: fine",
        "WARN b: look Fix: do this.",
        "preflight for Chat-dev: ready to deploy",
    ]


def test_an_unknown_stage_is_one_clear_line_and_every_check_is_listed_as_skipped(capsys):
    assert main(["--stage", "nope"]) == 1

    defined = ", ".join(sorted(STAGES))
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"FAIL stage settings: unknown stage 'nope'; cdk.json defines: {defined} Fix: correct cdk.json."
    assert lines[1:-1] == [f"SKIP {check}: not run: there is no stack to check the account for" for check in ALL_CHECKS]
    assert lines[-1] == "preflight for Chat-nope: 1 check(s) failed, 7 skipped"


def test_an_open_cdk_nag_finding_fails_in_one_line_and_every_check_is_listed_as_skipped(monkeypatch, capsys):
    def synthesize_with_a_wildcard_role(stage, outdir):
        def build_with_wildcard_role(app):
            role = iam.Role(build(app), "NewRole", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
            role.add_to_policy(iam.PolicyStatement(actions=["dynamodb:DeleteTable"], resources=["*"]))

        return synthesis.synthesize_stage(stage, outdir, build=build_with_wildcard_role)

    monkeypatch.setattr(preflight, "synthesize_stage", synthesize_with_a_wildcard_role)

    assert main(["--stage", "dev"]) == 1

    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == (
        "FAIL cdk-nag: 1 unacknowledged finding(s), so cdk deploy would stop too Fix: npx cdk synth -c stage=dev "
        "lists them; fix each, or acknowledge it in cdk/nag_suppressions.py."
    )
    assert [line.split()[0] for line in lines[1:-1]] == ["SKIP"] * len(ALL_CHECKS)
    assert lines[-1] == "preflight for Chat-dev: 1 check(s) failed, 7 skipped"


def test_log_groups_of_the_deployed_stack_itself_are_not_leftovers(aws, deployment):
    own = "/aws/vendedlogs/states/Chat-dev-message_fanout-5e1f9a2c-8a0e-11ef-9d5c-0a1b2c3d4e5f"
    template = {"Resources": {"Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": own}}}}
    aws.client("cloudformation").create_stack(StackName="Chat-dev", TemplateBody=json.dumps(template))
    assert [group["logGroupName"] for group in aws.client("logs").describe_log_groups()["logGroups"]] == [own]

    result = check_log_groups(aws.client("logs"), aws.client("cloudformation"), deployment)

    assert result.status == "PASS", result.line
