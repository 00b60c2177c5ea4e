"""cdk-nag findings this design accepts, each acknowledged with the reason it is accepted.

cdk-nag v3 matches acknowledgments by exact finding id, so wildcard resources are named in full.
"""

from aws_cdk import Acknowledgment, Stack, Token, Validations
from aws_cdk import aws_lambda as lambda_
from constructs import IConstruct

RULES = "AwsSolutions::AwsSolutions"

PUBLIC_CHAT = (
    "The chat is public by product design: a client's connection id is its only identity. "
    "An authorizer belongs on $connect once the product has accounts."
)
PINNED_RUNTIME = (
    "python3.13 is pinned on purpose: it matches the Powertools layer build (python313-arm64) "
    "and the interpreter the handlers are tested with."
)
SERVICE_WILDCARDS = (
    "X-Ray (PutTraceSegments, PutTelemetryRecords) and CloudWatch Logs delivery actions of Step "
    "Functions support no resource-level permissions, so AWS requires Resource '*'."
)
MANAGE_CONNECTIONS = (
    "@connections/* of this API's own stage: connection ids are only known at run time."
)
FUNCTION_VERSIONS = (
    "Invoking the one task function, any version or alias of it (what grant_invoke grants)."
)


def acknowledge_accepted_findings(
    stack: Stack,
    *,
    api: IConstruct,
    stage_name: str,
    posting_functions: list[lambda_.Function],
    workflow_tasks: dict[IConstruct, lambda_.Function],
) -> None:
    Validations.of(stack).acknowledge(
        Acknowledgment(id=f"{RULES}-APIG4", reason=PUBLIC_CHAT),
        Acknowledgment(id=f"{RULES}-L1", reason=PINNED_RUNTIME),
        Acknowledgment(id=f"{RULES}-IAM5[Resource::*]", reason=SERVICE_WILDCARDS),
    )
    connections = (
        f"arn:<AWS::Partition>:execute-api:{_region(stack)}:{_account(stack)}:"
        f"<{_logical_id(stack, api)}>/{stage_name}/*/@connections/*"
    )
    for function in posting_functions:
        Validations.of(function.role).acknowledge(
            Acknowledgment(id=f"{RULES}-IAM5[Resource::{connections}]", reason=MANAGE_CONNECTIONS)
        )
    for state_machine, task in workflow_tasks.items():
        task_versions = f"<{_logical_id(stack, task)}.Arn>:*"
        Validations.of(state_machine).acknowledge(
            Acknowledgment(id=f"{RULES}-IAM5[Resource::{task_versions}]", reason=FUNCTION_VERSIONS)
        )


def _logical_id(stack: Stack, construct: IConstruct) -> str:
    return stack.resolve(stack.get_logical_id(construct.node.default_child))


def _region(stack: Stack) -> str:
    return "<AWS::Region>" if Token.is_unresolved(stack.region) else stack.region


def _account(stack: Stack) -> str:
    # The CDK CLI sets CDK_DEFAULT_ACCOUNT whenever credentials are available: the ARN then has it literally.
    return "<AWS::AccountId>" if Token.is_unresolved(stack.account) else stack.account
