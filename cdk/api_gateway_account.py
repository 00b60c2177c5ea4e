"""API Gateway's account-level CloudWatch Logs role, which a stage needs before it may write access logs.

API Gateway refuses a stage with access logging ("CloudWatch Logs role ARN must be set in account
settings to enable logging") until the account and Region name a role for it. Modelled on what
aws-cdk-lib's RestApi does with ``cloudWatchRole`` (the WebSocket L2 has no such option): a role for
apigateway.amazonaws.com with the AmazonAPIGatewayPushToCloudWatchLogs managed policy, and
``AWS::ApiGateway::Account`` pointing at it, created after the API (CloudFormation's reference asks for a
dependency on another API Gateway resource) and before the stage (aws/aws-cdk#10722).

Both are retained when the stack is deleted, as aws-cdk-lib retains them by default: the setting is one
per account and Region, shared by every API there, and deleting the stack does not reset it (CloudFormation
reference, AWS::ApiGateway::Account), so deleting the role would silently stop other APIs' logs. Two stacks
that both create it leave the setting on whichever deployed last; both roles grant the same, so either
works. Stages of an account that already has the role say so in cdk.json (``api_gateway_logs_role``).
"""

from aws_cdk import RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_iam as iam
from constructs import Construct, IDependable

PUSH_TO_CLOUDWATCH_LOGS = "service-role/AmazonAPIGatewayPushToCloudWatchLogs"


class ApiGatewayLogsRole(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, after: IDependable) -> None:
        """``after``: an API Gateway resource of this stack, created before the account setting."""
        super().__init__(scope, construct_id)
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"),
            managed_policies=[iam.ManagedPolicy.from_aws_managed_policy_name(PUSH_TO_CLOUDWATCH_LOGS)],
            description="API Gateway writes access and execution logs of this account's APIs to CloudWatch Logs",
        )
        self.role.apply_removal_policy(RemovalPolicy.RETAIN)
        self.account = apigw.CfnAccount(self, "Account", cloud_watch_role_arn=self.role.role_arn)
        self.account.apply_removal_policy(RemovalPolicy.RETAIN)
        self.account.node.add_dependency(after)
