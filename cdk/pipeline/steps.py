"""The pipeline's CodeBuild steps: the synth (tests, then ``cdk synth``) and each stage's smoke test."""

import json

from aws_cdk import CfnOutput, Duration, pipelines
from aws_cdk import aws_codebuild as codebuild

from cdk.paths import PROJECT_ROOT
from cdk.pins import pinned_requirement

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


def smoke_step(source: pipelines.IFileSetProducer, websocket_url: CfnOutput) -> pipelines.CodeBuildStep:
    """``python -m smoke`` against the stage just deployed; it only opens WebSockets, so its role gets no
    permission beyond what CodeBuild itself needs (its logs, the source artifact)."""
    return pipelines.CodeBuildStep(
        "SmokeTest",
        input=source,
        install_commands=[f"python -m pip install --quiet '{smoke_requirement()}'"],
        commands=[f'python -m smoke "${SMOKE_URL_VARIABLE}"'],
        env_from_cfn_outputs={SMOKE_URL_VARIABLE: websocket_url},
        timeout=Duration.minutes(5),
    )


def smoke_requirement() -> str:
    """The smoke test's one dependency, pinned as in pyproject.toml (one pin for make test and the pipeline)."""
    return pinned_requirement("websockets")
