"""CDK entry point.

``npx cdk synth -c stage=dev|staging|prod`` (default dev) builds stack Chat-<stage>;
``npx cdk synth -c pipeline=true`` builds stack Chat-pipeline instead, which deploys every stage.
"""

import os
import sys

from aws_cdk import App, Environment, Stack, Validations
from cdk_nag import AwsSolutionsChecks

from cdk.chat_stack import ChatStack, add_chat_stack
from cdk.environments import LOCAL_CONTEXT, logging_role_problems, served_locally, stage_environment
from cdk.names import PIPELINE_STACK
from cdk.pipeline.source import CONTEXT_KEY as PIPELINE_SOURCE_KEY
from cdk.pipeline.source import PipelineConfigError, load_pipeline_source
from cdk.pipeline.stack import PROMOTION_ORDER, PipelineStack
from cdk.pipeline.steps import PIPELINE_CONTEXT
from cdk.stage_config import StageConfigError, load_stage_config

DEFAULT_STAGE = "dev"


def build(app: App) -> ChatStack:
    stage = app.node.try_get_context("stage") or DEFAULT_STAGE
    config = load_stage_config(app.node.try_get_context("stages"), stage)
    if str(app.node.try_get_context(LOCAL_CONTEXT)).lower() == "true":
        config = served_locally(config)
    stack = add_chat_stack(app, config, env=stage_environment(config, default=_environment()))
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return stack


def build_pipeline(app: App) -> PipelineStack:
    source = load_pipeline_source(app.node.try_get_context(PIPELINE_SOURCE_KEY))
    stages = [load_stage_config(app.node.try_get_context("stages"), stage) for stage in PROMOTION_ORDER]
    problems = logging_role_problems(stages)
    if problems:
        raise StageConfigError("; ".join(problems))
    stack = PipelineStack(app, PIPELINE_STACK, source=source, stages=stages, env=_environment())
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return stack


def build_requested(app: App) -> Stack:
    """The stack the context asks for: Chat-pipeline with ``-c pipeline=true``, else Chat-<stage>."""
    return build_pipeline(app) if pipeline_requested(app) else build(app)


def pipeline_requested(app: App) -> bool:
    return str(app.node.try_get_context(PIPELINE_CONTEXT)).lower() == "true"


def _environment() -> Environment:
    return Environment(account=os.getenv("CDK_DEFAULT_ACCOUNT"), region=os.getenv("CDK_DEFAULT_REGION"))


if __name__ == "__main__":
    cdk_app = App()
    try:
        build_requested(cdk_app)
    except (StageConfigError, PipelineConfigError) as error:
        sys.exit(f"cdk.json: {error}")
    cdk_app.synth()
