"""A wait between brand-new roles and the resources that a role not yet visible everywhere makes fail.

IAM is eventually consistent: a role CloudFormation has just created (with its policy) can be unknown for a while to
the service it was made for, and two resources of this stack check their role when they are created:
- ``AWS::ApiGateway::Account`` refuses a new logging role with "The role ARN does not have required permissions
  set to API Gateway" (aws/aws-cdk#2194, aws-cloudformation/rain#163; serverless/serverless#6591 moved the setting
  to a custom resource for this reason);
- a state machine with CloudWatch Logs logging refuses a new role with "The state machine IAM Role is not authorized
  to access the Log Destination" (aws/aws-cdk#26432).
Either fails the first deploy, which rolls back. AWS's CloudFormation user guide gives the fix used here ("Create a
delay mechanism with a Lambda-backed custom resource": waiting "for resources to stabilize before dependent
resources are created"): a custom resource that depends on the roles, waits, and that those resources depend on.
It waits on create, and on update only when a role is replaced (its properties name the roles); deleting it is
immediate. A first deploy takes ``WAIT_SECONDS`` longer; later deploys that keep the roles, none.
"""

from collections.abc import Sequence
from pathlib import Path

from aws_cdk import CustomResource, Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct, IConstruct

from cdk.stage_config import StageConfig

HANDLER = Path(__file__).with_name("iam_wait_handler.py")
# Public reports of both errors saw them pass on a retry seconds later; AWS's walkthrough waits 60 s by default.
WAIT_SECONDS = 30
RESOURCE_TYPE = "Custom::IamPropagationWait"


class IamPropagationWait(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig, roles: Sequence[iam.IRole]) -> None:
        """``roles``: the new roles to wait for (with their policies)."""
        super().__init__(scope, construct_id)
        log_group = logs.LogGroup(
            self, "Logs", retention=config.log_retention, removal_policy=config.log_removal_policy
        )
        role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Deploy time only: waits for new roles to propagate",
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=[log_group.log_group_arn]
            )
        )
        self.function = lambda_.Function(
            self,
            "Function",
            description="CloudFormation custom resource: waits for new roles to propagate (deploy time only)",
            # Standard library only, never run by the chat or locally: the latest runtime, unlike the chat's
            # functions (pinned to the Powertools layer's build).
            runtime=lambda_.Runtime.PYTHON_3_14,
            architecture=lambda_.Architecture.ARM_64,
            handler="index.handler",
            code=lambda_.Code.from_inline(HANDLER.read_text(encoding="utf-8")),
            role=role,
            log_group=log_group,
            memory_size=128,
            timeout=Duration.seconds(WAIT_SECONDS + 60),
        )
        self.resource = CustomResource(
            self,
            "Wait",
            service_token=self.function.function_arn,
            resource_type=RESOURCE_TYPE,
            properties={"Seconds": WAIT_SECONDS, "Roles": [role.role_arn for role in roles]},
        )
        for waited_for in roles:
            self.resource.node.add_dependency(waited_for)  # the role and its policies (DefaultPolicy)

    def before(self, *dependents: IConstruct) -> None:
        """``dependents`` are created only after the wait."""
        for dependent in dependents:
            dependent.node.add_dependency(self.resource)
