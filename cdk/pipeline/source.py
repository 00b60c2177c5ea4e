"""Where the pipeline takes its source from: ``context.pipeline_source`` in cdk.json, validated before synth; and
what the source action's role needs to use that connection."""

import json
import re
from dataclasses import dataclass, fields
from typing import Any

from aws_cdk import aws_iam as iam
from aws_cdk import pipelines

CONTEXT_KEY = "pipeline_source"
# CodeStar Connections ARNs, under either of the service's names (codestar-connections, codeconnections).
_CONNECTION_ARN = re.compile(
    r"arn:aws[a-z-]*:(codestar-connections|codeconnections):[a-z]{2}(-[a-z]+)+-\d:\d{12}:connection/[A-Za-z0-9-]+"
)
_REPOSITORY = re.compile(r"[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)+")  # owner/name, or GitLab's group/subgroup/name
_BRANCH_FORBIDDEN = re.compile(r"\s|[~^:?*\[\\]|\.\.|@\{|//")


class PipelineConfigError(ValueError):
    """cdk.json does not say where the pipeline's source is."""


@dataclass(frozen=True, kw_only=True)
class PipelineSource:
    connection_arn: str
    repository: str
    branch: str

    @property
    def connection_service(self) -> str:
        """The connection ARN's service prefix: codestar-connections, or codeconnections (since the rename)."""
        return self.connection_arn.split(":")[2]

    @property
    def account(self) -> str:
        """The account the connection, and so the pipeline, lives in."""
        return self.connection_arn.split(":")[4]


def source_action_role(pipeline: pipelines.CodePipeline) -> iam.Role:
    """The role CodePipeline's Source action runs with (call after ``build_pipeline()``)."""
    source_stage = pipeline.pipeline.node.find_child("Source")
    (role,) = [construct for construct in source_stage.node.find_all() if isinstance(construct, iam.Role)]
    return role


def allow_connection_use(pipeline: pipelines.CodePipeline, source: PipelineSource) -> None:
    """UseConnection under the ARN's own service prefix. IAM matches an action's prefix against the resource's
    ("Connections rename - Summary of changes", AWS Developer Tools console user guide), and aws-cdk-lib grants only
    codestar-connections:UseConnection, so a codeconnections ARN (what the console and `aws codeconnections` create
    since July 2024) would fail the Source action (landing-zone-accelerator-on-aws#828)."""
    source_action_role(pipeline).add_to_principal_policy(
        iam.PolicyStatement(actions=[f"{source.connection_service}:UseConnection"], resources=[source.connection_arn])
    )


def load_pipeline_source(settings: Any) -> PipelineSource:
    """``settings`` is the ``pipeline_source`` context; every problem is named with its cdk.json key."""
    keys = [field.name for field in fields(PipelineSource)]
    if not isinstance(settings, dict):
        raise PipelineConfigError(
            f"the pipeline needs context '{CONTEXT_KEY}' with {', '.join(keys)} (README: Pipeline)"
        )
    problems = [f"{CONTEXT_KEY}.{key} is not a known setting" for key in sorted(set(settings) - set(keys))]
    connection_arn, repository, branch = (settings.get(key) for key in keys)
    if not isinstance(connection_arn, str) or not _CONNECTION_ARN.fullmatch(connection_arn):
        problems.append(
            f"{CONTEXT_KEY}.connection_arn must be the ARN of a CodeStar connection "
            f"(arn:aws:codestar-connections:<region>:<account>:connection/<id>), got {_as_json(connection_arn)}"
        )
    if not isinstance(repository, str) or not _REPOSITORY.fullmatch(repository):
        problems.append(f"{CONTEXT_KEY}.repository must be the repository as owner/name, got {_as_json(repository)}")
    if not isinstance(branch, str) or not _valid_branch(branch):
        problems.append(f"{CONTEXT_KEY}.branch must be a branch name, got {_as_json(branch)}")
    if problems:
        raise PipelineConfigError("; ".join(problems) + " (README: Pipeline)")
    return PipelineSource(connection_arn=connection_arn, repository=repository, branch=branch)


def _valid_branch(branch: str) -> bool:
    return (
        bool(branch)
        and not _BRANCH_FORBIDDEN.search(branch)
        and not branch.startswith(("/", "-"))
        and not branch.endswith(("/", ".", ".lock"))
    )


def _as_json(value: Any) -> str:
    """A setting as it is written in cdk.json (null, not None)."""
    return json.dumps(value, default=repr)
