"""The pipeline with each stage in an account of its own (CDK Pipelines' cross-account model): each stage's stack
targets its environment, is deployed through that account's CDK bootstrap roles (which trust the pipeline's account:
`cdk bootstrap --trust`), and reads the artifacts through the pipeline's own KMS key; cdk-nag clean."""

import copy
import json
from pathlib import Path

import pytest
from infra_support import CONTEXT, render, resources

from cdk.pipeline.source import PipelineConfigError
from cdk.pipeline.stack import PROMOTION_ORDER
from cdk.stage_config import StageConfigError
from cdk.synthesis import Synthesis, synthesize_app

PIPELINE_ACCOUNT, REGION = "444444444444", "eu-west-1"
ACCOUNTS = {"dev": "111111111111", "staging": "222222222222", "prod": "333333333333"}
SOURCE = {
    "connection_arn": f"arn:aws:codeconnections:{REGION}:{PIPELINE_ACCOUNT}:connection/0f1e2d3c-4b5a-6978-8796-a5b4",
    "repository": "example-org/serverless-chat",
    "branch": "main",
}


def three_accounts() -> dict:
    """cdk.json's stages, each in its own account, each creating its account's API Gateway logging role."""
    stages = copy.deepcopy(CONTEXT["stages"])
    for stage, account in ACCOUNTS.items():
        stages[stage].update(account=account, api_gateway_logs_role="stack")
    return stages


def pipeline_context(stages: dict) -> dict:
    return {"stages": stages, "pipeline": "true", "pipeline_source": SOURCE}


@pytest.fixture(scope="module")
def synthesis(shared_synthesis) -> Synthesis:
    return shared_synthesis(
        "cdk-pipeline-three-accounts",
        lambda outdir: synthesize_app(
            outdir, context=pipeline_context(three_accounts()), account=PIPELINE_ACCOUNT, region=REGION
        ),
    )


@pytest.fixture(scope="module")
def template(synthesis) -> dict:
    return synthesis.template("Chat-pipeline")


def stage_stack(synthesis: Synthesis, stage: str) -> tuple[dict, dict]:
    """The manifest entry and the template of Chat-<stage> in the stage's nested cloud assembly."""
    directory = synthesis.outdir / f"assembly-Chat-pipeline-{stage}"
    manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    (artifact,) = [a for a in manifest["artifacts"].values() if a["type"] == "aws:cloudformation:stack"]
    template = json.loads((directory / artifact["properties"]["templateFile"]).read_text(encoding="utf-8"))
    return artifact, template


def bootstrap_role(kind: str, account: str) -> str:
    return f"arn:<AWS::Partition>:iam::{account}:role/cdk-hnb659fds-{kind}-role-{account}-{REGION}"


def test_three_accounts_synthesize_cdk_nag_clean(synthesis):
    assert synthesis.validation_error is None
    assert synthesis.findings() == []


@pytest.mark.parametrize("stage", PROMOTION_ORDER)
def test_each_stage_stack_targets_its_own_account(synthesis, stage):
    artifact, template = stage_stack(synthesis, stage)
    account = ACCOUNTS[stage]

    assert artifact["environment"] == f"aws://{account}/{REGION}"
    assert artifact["properties"]["assumeRoleArn"] == bootstrap_role("deploy", account).replace(
        "<AWS::Partition>", "${AWS::Partition}"
    )
    # Its own account's API Gateway logging setting: nobody else's stage creates it there.
    assert len(resources(template, "AWS::ApiGateway::Account")) == 1


@pytest.mark.parametrize("stage", PROMOTION_ORDER)
def test_each_stage_is_deployed_by_its_accounts_bootstrap_roles(template, stage):
    ((pipeline),) = resources(template, "AWS::CodePipeline::Pipeline").values()
    (actions,) = [s["Actions"] for s in pipeline["Stages"] if s["Name"] == stage]
    deploys = [action for action in actions if action["ActionTypeId"]["Category"] == "Deploy"]
    account = ACCOUNTS[stage]

    assert {render(action["RoleArn"]) for action in deploys} == {bootstrap_role("deploy", account)}
    (prepare,) = [action for action in deploys if action["Configuration"]["ActionMode"] == "CHANGE_SET_REPLACE"]
    assert render(prepare["Configuration"]["RoleArn"]) == bootstrap_role("cfn-exec", account)


def test_the_artifacts_are_encrypted_with_a_rotated_key_each_stage_account_may_decrypt(template):
    (bucket,) = resources(template, "AWS::S3::Bucket").values()
    ((key_id, key),) = resources(template, "AWS::KMS::Key").items()
    (encryption,) = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    statements = key["KeyPolicy"]["Statement"]
    decrypting = {
        principal
        for statement in statements
        if "kms:Decrypt" in statement["Action"]
        for principal in render(statement["Principal"].get("AWS", []))
    }

    assert render(encryption["ServerSideEncryptionByDefault"]["KMSMasterKeyID"]) == f"<{key_id}.Arn>"
    assert key["EnableKeyRotation"] is True
    assert {bootstrap_role("deploy", account) for account in ACCOUNTS.values()} <= decrypting


def test_a_pipeline_in_one_account_keeps_the_s3_managed_encryption(shared_synthesis):
    """No $1-a-month key while every stage shares the pipeline's account (cdk.json's default)."""
    synthesis = shared_synthesis(
        "cdk-pipeline-one-account",
        lambda outdir: synthesize_app(
            outdir, context=pipeline_context(CONTEXT["stages"]), account=PIPELINE_ACCOUNT, region=REGION
        ),
    )

    assert resources(synthesis.template("Chat-pipeline"), "AWS::KMS::Key") == {}
    assert synthesis.findings() == []


def test_stages_in_other_accounts_need_the_pipelines_own_account(tmp_path: Path):
    with pytest.raises(PipelineConfigError, match="stages dev, staging, prod deploy to accounts of their own"):
        synthesize_app(tmp_path, context=pipeline_context(three_accounts()))


def test_two_stages_creating_the_logging_role_in_one_account_stop_the_pipeline_synth(tmp_path: Path):
    stages = copy.deepcopy(CONTEXT["stages"])
    stages["staging"]["api_gateway_logs_role"] = "stack"

    with pytest.raises(StageConfigError, match="stages dev, staging all create API Gateway's CloudWatch Logs role"):
        synthesize_app(tmp_path, context=pipeline_context(stages), account=PIPELINE_ACCOUNT, region=REGION)
