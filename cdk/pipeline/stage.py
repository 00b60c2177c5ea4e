"""A pipeline stage: the stage's own Chat-<stage> stack, as ``make deploy`` deploys it."""

from typing import Any

from aws_cdk import CfnOutput, Stage
from constructs import Construct

from cdk.chat_stack import add_chat_stack
from cdk.stage_config import StageConfig


class ChatStage(Stage):
    """A pipeline stage: stack Chat-<stage>, the outputs its smoke test connects with and, on a stage with sign-in,
    the role it assumes to make its throwaway user."""

    def __init__(
        self, scope: Construct, construct_id: str, *, config: StageConfig, pipeline_account: str | None, **kwargs: Any
    ) -> None:
        """``pipeline_account``: the pipeline's account when the stage has an account of its own (its smoke test then
        assumes the stage's smoke-test role across accounts); None when they share one."""
        super().__init__(scope, construct_id, **kwargs)
        self.stack = add_chat_stack(self, config, smoke_test_account=pipeline_account)
        self.smoke_access = self.stack.smoke_access

    @property
    def websocket_url_output(self) -> CfnOutput:
        return self.stack.websocket_url_output

    @property
    def has_users(self) -> bool:
        return self.smoke_access is not None
