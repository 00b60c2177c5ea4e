"""The role the pipeline's smoke test assumes in a stage with sign-in: it may create, give a password to and delete
users of that stage's user pool, and nothing else (smoke/users.py makes a throwaway user per run).

The role lives in the stage's stack (every stack with sign-in has it, so that the pipeline deploys the very stack
`make deploy` does), so it sits in the stage's account and names its pool by ARN without a cross-stack reference. It
trusts the stage's own account, or the pipeline's when a stage has an account of its own; its name is fixed so that
the smoke test's CodeBuild role, in the pipeline's stack, is granted sts:AssumeRole on exactly this role's ARN.
"""

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_iam as iam
from constructs import Construct

# AdminCreateUser makes the user, AdminSetUserPassword makes its password permanent (it signs in at once),
# AdminDeleteUser removes it; InitiateAuth is an unauthenticated API (no IAM permission involved).
SMOKE_USER_ACTIONS = ("cognito-idp:AdminCreateUser", "cognito-idp:AdminSetUserPassword", "cognito-idp:AdminDeleteUser")


def smoke_role_name(stage: str) -> str:
    return f"chat-{stage}-smoke-test"


def smoke_role_arn(scope: Construct, *, stage: str, account: str) -> str:
    """The ARN of a stage's smoke-test role in ``account``, known before that stage is deployed."""
    return Stack.of(scope).format_arn(
        service="iam", region="", account=account, resource="role", resource_name=smoke_role_name(stage)
    )


class SmokeTestAccess(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, stage: str, user_pool: cognito.IUserPool, trusted_account: str
    ) -> None:
        """``trusted_account``: the pipeline's account, whose smoke-test project assumes the role."""
        super().__init__(scope, construct_id)
        self.role = iam.Role(
            self,
            "Role",
            role_name=smoke_role_name(stage),
            assumed_by=iam.AccountPrincipal(trusted_account),
            description=f"The pipeline's smoke test: throwaway users of the {stage} user pool only",
        )
        self.role.add_to_policy(
            iam.PolicyStatement(actions=list(SMOKE_USER_ACTIONS), resources=[user_pool.user_pool_arn])
        )
        self.role_arn_output = CfnOutput(Stack.of(self), "SmokeTestRoleArn", value=self.role.role_arn)
