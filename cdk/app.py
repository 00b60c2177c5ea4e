"""CDK entry point: ``npx cdk synth -c stage=dev|staging|prod`` (default dev) builds stack Chat-<stage>."""

import os

from aws_cdk import App, Environment, Validations
from cdk_nag import AwsSolutionsChecks

from cdk.chat_stack import ChatStack
from cdk.stage_config import load_stage_config

DEFAULT_STAGE = "dev"


def build(app: App) -> ChatStack:
    stage = app.node.try_get_context("stage") or DEFAULT_STAGE
    config = load_stage_config(app.node.try_get_context("stages"), stage)
    stack = ChatStack(
        app,
        f"Chat-{stage}",
        config=config,
        env=Environment(account=os.getenv("CDK_DEFAULT_ACCOUNT"), region=os.getenv("CDK_DEFAULT_REGION")),
    )
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return stack


if __name__ == "__main__":
    cdk_app = App()
    build(cdk_app)
    cdk_app.synth()
