"""The pipeline's CodeBuild steps: the synth (tests, then ``cdk synth``) and each stage's smoke test."""

import json

from aws_cdk import Duration, pipelines
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_iam as iam

from cdk.paths import PROJECT_ROOT
from cdk.pins import pinned_requirement
from cdk.pipeline.stage import ChatStage

PIPELINE_CONTEXT = "pipeline"  # npx cdk synth -c pipeline=true builds the pipeline stack instead of one stage
# Amazon Linux 2023 standard:5.0 offers Python 3.13 (the functions' runtime) and Node.js 22 (supported by the
# CDK CLI): CodeBuild user guide, "Available runtimes"; runtimes.yml of aws/aws-codebuild-docker-images.
BUILD_IMAGE = codebuild.LinuxBuildImage.AMAZON_LINUX_2023_5
RUNTIME_VERSIONS = {"python": "3.13", "nodejs": "22"}
# make test (which installs first) without the browser tests, then the pipeline's own synthesis.
SYNTH_COMMANDS = (
    """make test PYTEST_ARGS='-m "not browser"'""",
    "rm -rf cdk.out",  # the local runtime's synthesis of dev is not the pipeline's
    f"npx cdk synth -c {PIPELINE_CONTEXT}=true --quiet",
)
SMOKE_URL_VARIABLE = "WEBSOCKET_URL"
# The CDK CLI of self-mutation is package.json's; cdk-assets (asset publishing) is pinned here, as CDK Pipelines
# would otherwise install the latest of each on every run.
CDK_ASSETS_VERSION = "4.7.3"


def cdk_cli_version() -> str:
    return json.loads((PROJECT_ROOT / "package.json").read_text(encoding="utf-8"))["devDependencies"]["aws-cdk"]


def build_defaults() -> pipelines.CodeBuildOptions:
    """Every CodeBuild project of the pipeline: a pinned image and pinned runtimes."""
    return pipelines.CodeBuildOptions(
        build_environment=codebuild.BuildEnvironment(build_image=BUILD_IMAGE),
        partial_build_spec=codebuild.BuildSpec.from_object(
            {"version": "0.2", "phases": {"install": {"runtime-versions": RUNTIME_VERSIONS}}}
        ),
    )


def synth_step(source: pipelines.IFileSetProducer) -> pipelines.CodeBuildStep:
    return pipelines.CodeBuildStep(
        "Synth",
        input=source,
        commands=list(SYNTH_COMMANDS),
        primary_output_directory="cdk.out",
        # The tests run the local runtime's worker pools: 4 vCPUs, 7 GB.
        build_environment=codebuild.BuildEnvironment(compute_type=codebuild.ComputeType.MEDIUM),
        timeout=Duration.minutes(30),
    )


def smoke_step(
    source: pipelines.IFileSetProducer, stage: ChatStage, *, role_arn: str | None
) -> pipelines.CodeBuildStep:
    """``python -m smoke`` against the stage just deployed. On a stage without sign-in it only opens WebSockets, so
    its role gets no permission beyond what CodeBuild itself needs (its logs, the source artifact); on a stage with
    sign-in it may also assume ``role_arn``, the stage's smoke-test role (cdk/smoke_access.py), and nothing else."""
    outputs = {SMOKE_URL_VARIABLE: stage.websocket_url_output}
    command = f'python -m smoke "${SMOKE_URL_VARIABLE}"'
    statements = []
    if role_arn is not None:
        outputs |= {
            "USER_POOL_ID": stage.stack.user_pool_id_output,
            "USER_POOL_CLIENT_ID": stage.stack.user_pool_client_id_output,
            "SMOKE_ROLE_ARN": stage.smoke_access.role_arn_output,
        }
        command += ' --user-pool-id "$USER_POOL_ID" --client-id "$USER_POOL_CLIENT_ID" --role-arn "$SMOKE_ROLE_ARN"'
        statements.append(iam.PolicyStatement(actions=["sts:AssumeRole"], resources=[role_arn]))
    return pipelines.CodeBuildStep(
        "SmokeTest",
        input=source,
        install_commands=[f"python -m pip install --quiet {' '.join(repr(r) for r in smoke_requirements())}"],
        commands=[command],
        env_from_cfn_outputs=outputs,
        role_policy_statements=statements,
        timeout=Duration.minutes(5),
    )


def smoke_requirements() -> list[str]:
    """The smoke test's dependencies (websockets; boto3 for its throwaway user), pinned as in pyproject.toml (one
    pin for make test and the pipeline)."""
    return [pinned_requirement("websockets"), pinned_requirement("boto3")]
