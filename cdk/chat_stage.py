"""Stack Chat-<stage>, built the same way by the app (``make deploy``) and by each pipeline stage."""

from typing import Any

from aws_cdk import CfnOutput, Stage
from constructs import Construct

from cdk.chat_stack import ChatStack
from cdk.stage_config import StageConfig


def add_chat_stack(scope: Construct, config: StageConfig, **kwargs: Any) -> ChatStack:
    """The one stack of a stage. Its CloudFormation name is Chat-<stage> wherever it is built, so the
    pipeline takes over a stack deployed by hand instead of creating a second one beside it."""
    name = f"Chat-{config.stage}"
    return ChatStack(scope, name, stack_name=name, config=config, **kwargs)


class ChatStage(Stage):
    """A pipeline stage: stack Chat-<stage>, and the output its smoke test connects to."""

    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.stack = add_chat_stack(self, config)

    @property
    def websocket_url_output(self) -> CfnOutput:
        return self.stack.websocket_url_output
