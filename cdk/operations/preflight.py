"""``make preflight STAGE=dev``: checks the AWS account a careful operator would check before a deploy.

One line per check: PASS / WARN / FAIL, each problem with its fix, or SKIP saying why it could not run (every
check but the first needs the account the credentials belong to); the exit status is 1 when any check fails.
It synthesizes the stage first (the same app ``cdk deploy`` runs), so what it checks is read from what would be
deployed: the bootstrap version the cloud assembly requires, the Powertools layer parameter the stack takes,
the stage's settings and the log group names in its template.

It lives in ``cdk/operations/`` because it is deploy tooling for this app: it reads the app's stage settings and
constants, and is no part of the stack, the functions (``lambdas/``) or the local runtime (``local/``).
"""

import argparse
import dataclasses
import json
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from cdk.domain_settings import CLOUDFRONT_CERTIFICATE_REGION
from cdk.functions import POWERTOOLS_LAYER_PARAMETER
from cdk.names import stack_name_for
from cdk.pipeline.source import CONTEXT_KEY as PIPELINE_SOURCE_KEY
from cdk.pipeline.source import PipelineConfigError, load_pipeline_source
from cdk.pipeline.stack import PROMOTION_ORDER
from cdk.stage_config import ACCOUNT_ID, StageConfig, StageConfigError, load_stage_config
from cdk.synthesis import Synthesis, cdk_json_context, synthesize_stage
from cdk.workflows import STATE_MACHINE_LOGS_PREFIX

BOOTSTRAP_STACK = "CDKToolkit"
# The checks, in the order they run; every one but the first asks the account the credentials belong to.
CREDENTIALS = "credentials and region"
BOOTSTRAP = "CDK bootstrap"
PIPELINE_TRUST = "trust of the pipeline's account"
POWERTOOLS_LAYER = "Powertools layer"
LOGS_ROLE = "API Gateway CloudWatch Logs role"
HOSTED_ZONE = "hosted zone"
LOG_GROUPS = "log groups"
ACCOUNT_CHECKS = (BOOTSTRAP, PIPELINE_TRUST, POWERTOOLS_LAYER, LOGS_ROLE, HOSTED_ZONE, LOG_GROUPS)
# The bootstrap stack's parameter listing the accounts it trusts to deploy (`cdk bootstrap --trust`): the CDK CLI's
# bootstrap template (aws-cdk: lib/api/bootstrap/bootstrap-template.yaml).
TRUSTED_ACCOUNTS = "TrustedAccounts"


@dataclass(frozen=True)
class Result:
    status: str  # PASS, WARN, FAIL, or SKIP: not run, because what it needs failed
    check: str
    detail: str
    fix: str | None = None

    @property
    def line(self) -> str:
        return f"{self.status:<4} {self.check}: {self.detail}" + (f" Fix: {self.fix}" if self.fix else "")


@dataclass(frozen=True)
class Deployment:
    """What ``cdk deploy`` would deploy: the stage, its stack's template and its cloud assembly's needs."""

    config: StageConfig
    stack_name: str
    template: dict[str, Any]
    bootstrap_version_parameter: str
    required_bootstrap_version: int
    powertools_layer_parameter: str = POWERTOOLS_LAYER_PARAMETER
    # The account the pipeline runs in (its source connection's), when cdk.json configures one and the pipeline
    # promotes this stage; None when only `make deploy` deploys it.
    pipeline_account: str | None = None

    @property
    def extra_regions(self) -> list[str]:
        """Regions besides the stage's that the deployment uses: us-east-1 for a web certificate made there."""
        domain = self.config.domain
        return [CLOUDFRONT_CERTIFICATE_REGION] if domain and domain.in_hosted_zone else []


def _error_code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")


# --- the checks: each takes the clients it needs, so tests give it moto's (or a stubbed one) ---------


def check_credentials(sts: Any, region: str | None, *, stage_account: str | None = None) -> tuple[Result, str | None]:
    """The result, and the account the credentials belong to (None when they do not work, or are for another
    account than the one the stage names: cdk deploy would refuse them)."""
    check = CREDENTIALS
    if not region:
        return Result("FAIL", check, "no region is set", "export AWS_REGION=<region> (or AWS_PROFILE)."), None
    try:
        identity = sts.get_caller_identity()
    except (ClientError, BotoCoreError) as error:
        fix = "sign in (aws sso login / aws configure) or export AWS_PROFILE."
        return Result("FAIL", check, f"no working credentials ({error})", fix), None
    account = identity["Account"]
    if stage_account and account != stage_account:
        return Result(
            "FAIL",
            check,
            f"the credentials are for account {account} ({identity['Arn']}); the stage deploys to {stage_account}",
            f"use credentials for account {stage_account} (e.g. AWS_PROFILE=<its profile>).",
        ), None
    return Result("PASS", check, f"account {account} as {identity['Arn']}, {region}"), account


def check_bootstrap(cloudformation: Any, ssm: Any, deployment: Deployment, *, account: str, region: str) -> Result:
    check = BOOTSTRAP
    bootstrap = f"npx cdk bootstrap aws://{account}/{region}"
    try:
        (stack,) = cloudformation.describe_stacks(StackName=BOOTSTRAP_STACK)["Stacks"]
    except ClientError as error:
        if "does not exist" in str(error):
            return Result(
                "FAIL", check, f"this account and region are not bootstrapped (no {BOOTSTRAP_STACK})", bootstrap
            )
        return Result("FAIL", check, f"cannot read stack {BOOTSTRAP_STACK}: {error}", "use credentials that may.")
    status = stack["StackStatus"]
    if not status.endswith("_COMPLETE") or status == "ROLLBACK_COMPLETE":  # failed, or still changing
        return Result(
            "FAIL",
            check,
            f"stack {BOOTSTRAP_STACK} is {status}",
            f"wait for it to finish, or delete it and run {bootstrap}.",
        )
    try:
        version = int(ssm.get_parameter(Name=deployment.bootstrap_version_parameter)["Parameter"]["Value"])
    except (ClientError, ValueError) as error:
        return Result(
            "FAIL", check, f"cannot read {deployment.bootstrap_version_parameter}: {error}", f"run {bootstrap} again."
        )
    if version < deployment.required_bootstrap_version:
        return Result(
            "FAIL",
            check,
            f"bootstrap version {version}; this app needs {deployment.required_bootstrap_version} or later",
            f"run {bootstrap} (it upgrades the stack in place).",
        )
    return Result(
        "PASS", check, f"{BOOTSTRAP_STACK} version {version} (needs {deployment.required_bootstrap_version} or later)"
    )


def check_pipeline_trust(cloudformation: Any, deployment: Deployment, *, account: str, region: str) -> Result:
    """A stage the pipeline deploys into another account: that account's bootstrap trusts the pipeline's account
    (CDK Pipelines deploys through the stage account's bootstrap roles, which only a `--trust`ed account may assume)."""
    check = PIPELINE_TRUST
    pipeline = deployment.pipeline_account
    if pipeline is None:
        return Result("PASS", check, f"no pipeline deploys stage {deployment.config.stage!r} (make deploy only)")
    if pipeline == account:
        return Result("PASS", check, f"the pipeline deploys from this account ({account}) itself")
    try:
        (stack,) = cloudformation.describe_stacks(StackName=BOOTSTRAP_STACK)["Stacks"]
    except ClientError as error:
        return Result("FAIL", check, f"cannot read stack {BOOTSTRAP_STACK}: {error}", "bootstrap the account first.")
    parameters = {item["ParameterKey"]: item.get("ParameterValue", "") for item in stack.get("Parameters", [])}
    # A CommaDelimitedList's value ("111122223333,444455556666"); read as the account ids it holds, whatever
    # the separators (moto renders the list differently from CloudFormation).
    trusted = ACCOUNT_ID.findall(parameters.get(TRUSTED_ACCOUNTS, ""))
    if pipeline in trusted:
        return Result("PASS", check, f"{BOOTSTRAP_STACK} trusts the pipeline's account {pipeline}")
    return Result(
        "FAIL",
        check,
        f"{BOOTSTRAP_STACK} of {account} trusts {', '.join(trusted) or 'no other account'}, not the pipeline's "
        f"account {pipeline}, so the pipeline cannot deploy here",
        f"npx cdk bootstrap aws://{account}/{region} --trust {pipeline} --cloudformation-execution-policies "
        "arn:aws:iam::aws:policy/AdministratorAccess (or a narrower policy of your own; README: Pipeline).",
    )


def check_powertools_layer(ssm: Any, deployment: Deployment, *, region: str) -> Result:
    check = POWERTOOLS_LAYER
    name = deployment.powertools_layer_parameter
    try:
        layer_arn = ssm.get_parameter(Name=name)["Parameter"]["Value"]
    except ClientError as error:
        if _error_code(error) == "ParameterNotFound":
            return Result(
                "FAIL",
                check,
                f"{name} does not exist in {region}: AWS published no layer for this version, runtime and architecture",
                "pin a Powertools version listed by `aws ssm get-parameters-by-path --path "
                f"{name.rsplit('/', 1)[0]}` for aws-lambda-powertools in pyproject.toml.",
            )
        return Result("FAIL", check, f"cannot read {name}: {error}", "allow ssm:GetParameter on it.")
    return Result("PASS", check, f"{name} -> {layer_arn}")


def check_api_gateway_logs_role(apigateway: Any, iam: Any, deployment: Deployment) -> Result:
    check = LOGS_ROLE
    try:
        role_arn = apigateway.get_account().get("cloudwatchRoleArn")
    except ClientError as error:
        return Result(
            "FAIL", check, f"cannot read API Gateway's account settings: {error}", "use credentials that may."
        )
    if deployment.config.creates_api_gateway_logs_role:
        # CloudFormation names the roles it creates "<stack name>-<logical id>-<suffix>".
        if role_arn and role_arn.rsplit("/", 1)[-1].startswith(f"{deployment.stack_name}-"):
            return Result("PASS", check, f"this stack's own role: {role_arn}")
        if role_arn:
            return Result(
                "WARN",
                check,
                f"the account already has {role_arn}; this stack will point the account's setting at its own role",
                f'set "api_gateway_logs_role": "account" for stage {deployment.config.stage!r} in cdk.json to keep it.',
            )
        return Result("PASS", check, "this stack creates it (the account has none yet)")
    use_stack = f'set "api_gateway_logs_role": "stack" for stage {deployment.config.stage!r} in cdk.json.'
    if not role_arn:
        return Result("FAIL", check, "the stage expects the account's role, and the account has none", use_stack)
    role_name = role_arn.rsplit("/", 1)[-1]
    try:
        trust = iam.get_role(RoleName=role_name)["Role"]["AssumeRolePolicyDocument"]
    except ClientError as error:
        if _error_code(error) == "NoSuchEntity":
            return Result("FAIL", check, f"the account's setting names {role_arn}, which no longer exists", use_stack)
        return Result("WARN", check, f"the account names {role_arn}; cannot read it: {error}")
    if "apigateway.amazonaws.com" not in json.dumps(trust):
        return Result("FAIL", check, f"{role_arn} does not trust apigateway.amazonaws.com", use_stack)
    return Result("PASS", check, f"the account's setting names {role_arn}")


def check_hosted_zone(route53: Any, deployment: Deployment) -> Result:
    """A stage on its domain: the Route 53 zone cdk.json names exists, is public and is the zone it says (the
    certificates are validated, and the aliases created, in it; nothing at synth looks it up)."""
    check = HOSTED_ZONE
    domain = deployment.config.domain
    if domain is None:
        return Result("PASS", check, "the stage has no domain: clients use its execute-api endpoint")
    if not domain.in_hosted_zone:
        return Result(
            "PASS",
            check,
            f"{domain.name}'s zone is elsewhere: after deploying, point {domain.name} at output DomainTarget and "
            f"{domain.web_name} at output WebDomainTarget (CNAME records)",
        )
    fix = f"create the public hosted zone {domain.hosted_zone_name} in this account, or correct domain in cdk.json."
    try:
        zone = route53.get_hosted_zone(Id=domain.hosted_zone_id)["HostedZone"]
    except ClientError as error:
        if _error_code(error) == "NoSuchHostedZone":
            return Result("FAIL", check, f"hosted zone {domain.hosted_zone_id} does not exist in this account", fix)
        return Result("FAIL", check, f"cannot read hosted zone {domain.hosted_zone_id}: {error}", fix)
    if zone["Name"].rstrip(".") != domain.hosted_zone_name:
        return Result(
            "FAIL", check, f"hosted zone {domain.hosted_zone_id} is {zone['Name']}, not {domain.hosted_zone_name}", fix
        )
    if zone.get("Config", {}).get("PrivateZone"):
        return Result("FAIL", check, f"hosted zone {domain.hosted_zone_id} is private: clients cannot resolve it", fix)
    return Result("PASS", check, f"{domain.hosted_zone_name} ({domain.hosted_zone_id}) holds {domain.name}")


def check_log_groups(logs: Any, cloudformation: Any, deployment: Deployment) -> Result:
    check = LOG_GROUPS
    fixed = sorted(fixed_log_group_names(deployment.template))
    taken = [name for name in fixed if _log_group_names(logs, name) & {name}]
    if taken:
        return Result(
            "FAIL",
            check,
            f"the template names log groups that already exist: {', '.join(taken)}",
            "delete them (aws logs delete-log-group --log-group-name NAME) or remove the fixed name.",
        )
    leftovers = sorted(_leftover_log_groups(logs, cloudformation, deployment.stack_name))
    if leftovers:
        return Result(
            "WARN",
            check,
            f"{len(leftovers)} log group(s) retained from earlier deployments of {deployment.stack_name} "
            f"(no collision; they keep costing storage): {', '.join(leftovers)}",
            "delete the ones no longer needed (aws logs delete-log-group --log-group-name NAME).",
        )
    return Result("PASS", check, f"no log group of {deployment.stack_name} collides with an existing one")


def fixed_log_group_names(template: dict[str, Any]) -> set[str]:
    """Log group names given in the template as plain strings: the ones a retained group can collide with."""
    return {
        resource["Properties"]["LogGroupName"]
        for resource in template.get("Resources", {}).values()
        if resource.get("Type") == "AWS::Logs::LogGroup"
        and isinstance(resource.get("Properties", {}).get("LogGroupName"), str)
    }


def _log_group_names(logs: Any, prefix: str) -> set[str]:
    names = set()
    for page in logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=prefix):
        names |= {group["logGroupName"] for group in page["logGroups"]}
    return names


def _leftover_log_groups(logs: Any, cloudformation: Any, stack_name: str) -> set[str]:
    """Log groups named after the stack that the deployed stack (if any) does not own. CloudFormation names
    a log group the template leaves unnamed "<stack name>-<logical id>-<suffix>"."""
    candidates = _log_group_names(logs, f"{stack_name}-") | _log_group_names(
        logs, f"{STATE_MACHINE_LOGS_PREFIX}{stack_name}-"
    )
    if not candidates:
        return set()
    owned: set[str] = set()
    try:
        for page in cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack_name):
            owned |= {
                resource.get("PhysicalResourceId", "")
                for resource in page["StackResourceSummaries"]
                if resource["ResourceType"] == "AWS::Logs::LogGroup"
            }
    except ClientError as error:
        if "does not exist" not in str(error):
            raise
    return candidates - owned


# --- running them -------------------------------------------------------------------------------


def run_checks(session: boto3.Session, deployment: Deployment) -> list[Result]:
    region = session.region_name
    client: Callable[[str], Any] = session.client
    credentials, account = check_credentials(
        client("sts") if region else None, region, stage_account=deployment.config.account
    )
    if account is None:
        return [credentials, *skipped(ACCOUNT_CHECKS, f"it needs the account, and the {CREDENTIALS} check failed")]
    cloudformation, ssm = client("cloudformation"), client("ssm")
    return [
        credentials,
        *_bootstrap_checks(session, deployment, account=account, region=region),
        check_powertools_layer(ssm, deployment, region=region),
        check_api_gateway_logs_role(client("apigateway"), client("iam"), deployment),
        check_hosted_zone(client("route53"), deployment),
        check_log_groups(client("logs"), cloudformation, deployment),
    ]


def _bootstrap_checks(session: boto3.Session, deployment: Deployment, *, account: str, region: str) -> list[Result]:
    """Bootstrap and the pipeline's trust in the stage's Region, and in us-east-1 too when the stage's web certificate
    is deployed there (Chat-<stage>-web-certificate, cdk/web_certificate.py)."""
    results = []
    for checked in dict.fromkeys([region, *deployment.extra_regions]):
        cloudformation = session.client("cloudformation", region_name=checked)
        ssm = session.client("ssm", region_name=checked)
        found = [
            check_bootstrap(cloudformation, ssm, deployment, account=account, region=checked),
            check_pipeline_trust(cloudformation, deployment, account=account, region=checked),
        ]
        if checked != region:
            found = [dataclasses.replace(r, check=f"{r.check} ({checked}, for the web certificate)") for r in found]
        results += found
    return results


def deployment_of(stage: str, synthesis: Synthesis) -> Deployment:
    """What ``cdk deploy`` would deploy of ``stage``, read from its cloud assembly."""
    stack_name = stack_name_for(stage)
    properties = synthesis.manifest["artifacts"][stack_name]["properties"]
    context = cdk_json_context()
    return Deployment(
        config=load_stage_config(context.get("stages"), stage),
        stack_name=stack_name,
        template=synthesis.template(stack_name),
        bootstrap_version_parameter=properties["bootstrapStackVersionSsmParameter"],
        required_bootstrap_version=int(properties["requiresBootstrapStackVersion"]),
        pipeline_account=_pipeline_account(context) if stage in PROMOTION_ORDER else None,
    )


def _pipeline_account(context: dict[str, Any]) -> str | None:
    """The pipeline's account: its source connection's, which is created in it (README: Pipeline)."""
    try:
        return load_pipeline_source(context.get(PIPELINE_SOURCE_KEY)).account
    except PipelineConfigError:
        return None  # no pipeline configured


def main(argv: Sequence[str] | None = None, *, session: boto3.Session | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cdk.operations.preflight", description=__doc__.splitlines()[0])
    parser.add_argument("--stage", default="dev")
    args = parser.parse_args(argv)
    stack_name = stack_name_for(args.stage)
    with tempfile.TemporaryDirectory(prefix="preflight-") as outdir:
        try:
            synthesis = synthesize_stage(args.stage, Path(outdir))
        except StageConfigError as error:
            return report(stack_name, [Result("FAIL", "stage settings", str(error), "correct cdk.json."), *no_stack()])
        if synthesis.validation_error is not None:
            return report(stack_name, [_nag_failure(args.stage, synthesis), *no_stack()])
        deployment = deployment_of(args.stage, synthesis)
    return report(stack_name, run_checks(session or default_session(deployment.config.region), deployment))


def skipped(checks: Sequence[str], why: str) -> list[Result]:
    return [Result("SKIP", check, f"not run: {why}") for check in checks]


def no_stack() -> list[Result]:
    return skipped((CREDENTIALS, *ACCOUNT_CHECKS), "there is no stack to check the account for")


def _nag_failure(stage: str, synthesis: Synthesis) -> Result:
    return Result(
        "FAIL",
        "cdk-nag",
        f"{len(synthesis.findings())} unacknowledged finding(s), so cdk deploy would stop too",
        f"npx cdk synth -c stage={stage} lists them; fix each, or acknowledge it in cdk/nag_suppressions.py.",
    )


def default_session(stage_region: str | None = None) -> boto3.Session:
    """The account and region `cdk deploy` would use: the stage's own Region when cdk.json names one (its stack is
    deployed there whatever the credentials' default), else AWS_REGION first, as the CDK CLI reads it (boto3 alone
    reads only AWS_DEFAULT_REGION and the profile)."""
    return boto3.Session(region_name=stage_region or os.environ.get("AWS_REGION") or None)


def report(stack_name: str, results: Sequence[Result]) -> int:
    """Prints one line per check and a summary; the exit status: 1 when any check failed."""
    for result in results:
        print(result.line)
    failed = sum(result.status == "FAIL" for result in results)
    skips = sum(result.status == "SKIP" for result in results)
    outcome = f"{failed} check(s) failed" + (f", {skips} skipped" if skips else "") if failed else "ready to deploy"
    print(f"preflight for {stack_name}: {outcome}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
