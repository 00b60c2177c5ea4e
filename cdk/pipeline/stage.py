"""A pipeline stage: the stage's own Chat-<stage> stack, as ``make deploy`` deploys it."""

from typing import Any

from aws_cdk import CfnOutput, Stage
from constructs import Construct

from cdk.chat_stack import add_chat_stack
from cdk.stage_config import StageConfig


class ChatStage(Stage):
    """A pipeline stage: stack Chat-<stage>, and the output its smoke test connects to."""

    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.stack = add_chat_stack(self, config)

    @property
    def websocket_url_output(self) -> CfnOutput:
        return self.stack.websocket_url_output
