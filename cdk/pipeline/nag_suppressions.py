"""cdk-nag findings the pipeline stack accepts, each acknowledged on the construct that needs it, with its reason.

Every finding here comes from what CDK Pipelines generates (roles, CodeBuild projects, the artifacts bucket);
the ids are built from the constructs' own names, in cdk-nag's notation, as in cdk/nag_suppressions.py.
"""

from collections.abc import Iterable

from aws_cdk import Acknowledgment, ArnFormat, Stack, Validations, pipelines
from aws_cdk import aws_codebuild as codebuild

from cdk.nag_suppressions import RULES, nag_notation
from cdk.pipeline.source import source_action_role

ARTIFACTS = (
    "CDK Pipelines' grant on the pipeline's own artifacts bucket: artifact object keys are made per execution; "
    "no other bucket is reachable."
)
CODEBUILD_OUTPUT = (
    "CodeBuild's own log streams and test-report groups of this one project, whose names are made at run time."
)
SHARED_ASSET_ROLE = (
    "CDK Pipelines shares one role between every asset-publishing project, so it covers their log and report "
    "groups; it may assume only the CDK bootstrap file-publishing role."
)
SELF_MUTATION = (
    "Self-mutation runs cdk deploy of this pipeline: it may assume only the CDK bootstrap roles (the condition on "
    "their aws-cdk:bootstrap-role tag) and read stack status and bucket lists, which have no resource scoping."
)
SSE_S3 = (
    "Build artifacts are encrypted at rest in the artifacts bucket: with S3-managed keys while every stage shares the "
    "pipeline's account, with the pipeline's own customer-managed key once a stage has an account of its own."
)
ARTIFACT_KEY = (
    "CDK Pipelines' grant on the pipeline's own artifact key (cross-account stages): data keys are generated and "
    "re-encrypted per artifact; no other key is reachable."
)
ARTIFACT_ACCESS_LOGS = (
    "The bucket holds only this pipeline's intermediate artifacts, used by the pipeline's own roles, and CloudTrail "
    "records that use; an access-log bucket would need the same exemption."
)
READ_ACTIONS = ("s3:GetBucket*", "s3:GetObject*", "s3:List*")
WRITE_ACTIONS = ("s3:Abort*", "s3:DeleteObject*")
KEY_ACTIONS = ("kms:GenerateDataKey*", "kms:ReEncrypt*")


def acknowledge_pipeline_findings(
    stack: Stack, pipeline: pipelines.CodePipeline, *, smoke_steps: Iterable[pipelines.CodeBuildStep]
) -> None:
    """Call after ``pipeline.build_pipeline()``: the constructs acknowledged here exist only then."""
    bucket = pipeline.pipeline.artifact_bucket
    Validations.of(bucket).acknowledge(Acknowledgment(id=f"{RULES}-S1", reason=ARTIFACT_ACCESS_LOGS))
    objects = nag_notation(stack, bucket.arn_for_objects("*"))
    read = [_finding(f"Action::{action}", ARTIFACTS) for action in READ_ACTIONS]
    read.append(_finding(f"Resource::{objects}", ARTIFACTS))
    if bucket.encryption_key is not None:  # cross-account: artifacts encrypted with the pipeline's own key
        read += [_finding(f"Action::{action}", ARTIFACT_KEY) for action in KEY_ACTIONS]
    write = [_finding(f"Action::{action}", ARTIFACTS) for action in WRITE_ACTIONS]

    Validations.of(pipeline.pipeline.role).acknowledge(*read, *write)
    Validations.of(source_action_role(pipeline)).acknowledge(*read, *write)

    read_write_projects = [pipeline.synth_project]
    read_projects = [pipeline.self_mutation_project, *(step.project for step in smoke_steps)]
    for project in read_write_projects + read_projects:
        Validations.of(project).acknowledge(Acknowledgment(id=f"{RULES}-CB4", reason=SSE_S3))
        grants = read + (write if project in read_write_projects else [])
        Validations.of(project.role).acknowledge(*grants, *_own_output(stack, project))
    Validations.of(pipeline.self_mutation_project.role).acknowledge(
        _finding(f"Resource::{nag_notation(stack, f'arn:*:iam::{stack.account}:role/*')}", SELF_MUTATION),
        _finding("Resource::*", SELF_MUTATION),
    )
    _acknowledge_asset_publishing(stack, pipeline, read)


def _acknowledge_asset_publishing(stack: Stack, pipeline: pipelines.CodePipeline, read: list[Acknowledgment]) -> None:
    assets = pipeline.node.find_child("Assets")
    for child in assets.node.children:
        if isinstance(child, codebuild.Project):
            Validations.of(child).acknowledge(Acknowledgment(id=f"{RULES}-CB4", reason=SSE_S3))
    Validations.of(assets.node.find_child("FileRole")).acknowledge(
        *read,
        _finding(f"Resource::{_log_groups(stack, '*')}", SHARED_ASSET_ROLE),
        _finding(f"Resource::{_report_groups(stack, '*')}", SHARED_ASSET_ROLE),
        _finding("Resource::*", SHARED_ASSET_ROLE),
    )


def _own_output(stack: Stack, project: codebuild.IProject) -> list[Acknowledgment]:
    name = project.project_name
    return [
        _finding(f"Resource::{_log_groups(stack, f'{name}:*')}", CODEBUILD_OUTPUT),
        _finding(f"Resource::{_report_groups(stack, f'{name}-*')}", CODEBUILD_OUTPUT),
    ]


def _log_groups(stack: Stack, name: str) -> str:
    arn = stack.format_arn(
        service="logs",
        resource="log-group",
        resource_name=f"/aws/codebuild/{name}",
        arn_format=ArnFormat.COLON_RESOURCE_NAME,
    )
    return nag_notation(stack, arn)


def _report_groups(stack: Stack, name: str) -> str:
    arn = stack.format_arn(
        service="codebuild", resource="report-group", resource_name=name, arn_format=ArnFormat.SLASH_RESOURCE_NAME
    )
    return nag_notation(stack, arn)


def _finding(finding: str, reason: str) -> Acknowledgment:
    return Acknowledgment(id=f"{RULES}-IAM5[{finding}]", reason=reason)
