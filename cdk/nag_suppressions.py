"""cdk-nag findings this design accepts, each acknowledged with the reason it is accepted.

Each finding is acknowledged on the constructs that need it and nowhere else (cdk-nag v3 acknowledgments
cover a construct and its children), so a new function, role or route gets no acknowledgment by accident.
cdk-nag v3 matches acknowledgments by exact finding id, so wildcard resources are named in full, in the
notation cdk-nag gives them (Ref X -> <X>, Fn::GetAtt X.Arn -> <X.Arn>).
"""

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from aws_cdk import Acknowledgment, Stack, Validations
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from constructs import IConstruct

if TYPE_CHECKING:
    from cdk.web_hosting import WebClientHosting

RULES = "AwsSolutions::AwsSolutions"

PUBLIC_CHAT = (
    "This stage has no sign-in (auth none in cdk.json), as the tutorial the chat grew from: anyone who knows the "
    "URL may connect, and a client's connection id is its only identity. Stages with auth cognito authorize $connect."
)
AUTHORIZED_AT_CONNECT = (
    "WebSocket APIs authorize $connect only (API Gateway: a Lambda REQUEST authorizer or IAM, on $connect). Here "
    "$connect has the Lambda authorizer that verifies the user's Cognito ID token; every later route of the "
    "connection runs as that user (requestContext.authorizer), and $disconnect only cleans up."
)
PASSWORD_LENGTH_OVER_COMPOSITION = (
    "Passwords are at least 8 characters (12 in cdk.json) without mandatory character classes: NIST SP 800-63B "
    "recommends length and advises against composition rules. Each stage sets its policy in cdk.json."
)
NO_MFA = (
    "Sign-in is by username and password for a chat; MFA (TOTP) can be turned on per pool without touching the "
    "authorizer, which verifies the resulting ID tokens the same way."
)
ESSENTIALS_PLAN = (
    "Threat protection needs Cognito's Plus feature plan, billed per monthly active user; the Essentials plan is "
    "this reference chat's default. A stage that needs it sets the plan on its pool."
)
PINNED_RUNTIME = (
    "python3.13 is pinned on purpose: it matches the Powertools layer build (python313-arm64) "
    "and the interpreter the handlers are tested with."
)
SERVICE_WILDCARDS = (
    "X-Ray (PutTraceSegments, PutTelemetryRecords) and CloudWatch Logs delivery actions of Step "
    "Functions support no resource-level permissions, so AWS requires Resource '*'."
)
MANAGE_CONNECTIONS = "@connections/* of this API's own stage: connection ids are only known at run time."
FUNCTION_VERSIONS = "Invoking the one task function, any version or alias of it (what grant_invoke grants)."
API_GATEWAY_LOGS_POLICY = (
    "API Gateway's account-level logging role gets AWS's managed AmazonAPIGatewayPushToCloudWatchLogs, as "
    "aws-cdk-lib's RestApi does: it writes every API's log groups in the account, whose names are not known here."
)


def acknowledge_accepted_findings(
    stack: Stack,
    *,
    functions: Iterable[lambda_.Function],
    routes: Iterable[apigwv2.WebSocketRoute],
    user_pool: IConstruct | None,
    workflows: Iterable[sfn.StateMachine],
    connections_arn: str,
    posting_roles: Iterable[IConstruct],
    workflow_tasks: Mapping[sfn.StateMachine, lambda_.Function],
    api_gateway_logs_role: IConstruct | None = None,
) -> None:
    """``connections_arn`` is the @connections resource granted to ``posting_roles`` (a token ARN); ``user_pool``:
    the stage's sign-in (None: a stage without), whose authorizer is on $connect."""
    for route in routes:
        if user_pool is None:
            Validations.of(route).acknowledge(Acknowledgment(id=f"{RULES}-APIG4", reason=PUBLIC_CHAT))
        elif route.route_key != "$connect":  # $connect has its authorizer: nothing to acknowledge there
            Validations.of(route).acknowledge(Acknowledgment(id=f"{RULES}-APIG4", reason=AUTHORIZED_AT_CONNECT))
    if user_pool is not None:
        for rule, reason in (("COG1", PASSWORD_LENGTH_OVER_COMPOSITION), ("COG2", NO_MFA), ("COG8", ESSENTIALS_PLAN)):
            Validations.of(user_pool).acknowledge(Acknowledgment(id=f"{RULES}-{rule}", reason=reason))
    for function in functions:
        Validations.of(function).acknowledge(Acknowledgment(id=f"{RULES}-L1", reason=PINNED_RUNTIME))
        # X-Ray tracing (Tracing.ACTIVE) adds xray:PutTraceSegments/PutTelemetryRecords on "*" to the role.
        Validations.of(_role(function)).acknowledge(_any_resource())
    for state_machine in workflows:
        # Tracing and CloudWatch Logs delivery add X-Ray and logs:*LogDelivery* actions on "*" to the role.
        Validations.of(state_machine.role).acknowledge(_any_resource())
    connections = _wildcard(f"Resource::{nag_notation(stack, connections_arn)}", MANAGE_CONNECTIONS)
    for role in posting_roles:
        Validations.of(role).acknowledge(connections)
    for state_machine, task in workflow_tasks.items():
        Validations.of(state_machine.role).acknowledge(
            _wildcard(f"Resource::{nag_notation(stack, f'{task.function_arn}:*')}", FUNCTION_VERSIONS)
        )
    if api_gateway_logs_role is not None:
        policy = "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
        Validations.of(api_gateway_logs_role).acknowledge(
            Acknowledgment(id=f"{RULES}-IAM4[{policy}]", reason=API_GATEWAY_LOGS_POLICY)
        )


def nag_notation(stack: Stack, value: str) -> str:
    """A (token) string as cdk-nag writes it in a finding id: the same for concrete and unresolved env."""
    return _render(stack.resolve(value))


def _render(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and set(value) == {"Ref"}:
        return f"<{value['Ref']}>"
    if isinstance(value, dict) and set(value) == {"Fn::GetAtt"}:
        return f"<{'.'.join(value['Fn::GetAtt'])}>"
    if isinstance(value, dict) and set(value) == {"Fn::Join"}:
        separator, parts = value["Fn::Join"]
        return separator.join(_render(part) for part in parts)
    raise ValueError(f"no cdk-nag notation for {value!r}")


def _any_resource() -> Acknowledgment:
    return _wildcard("Resource::*", SERVICE_WILDCARDS)


def _wildcard(finding: str, reason: str) -> Acknowledgment:
    return Acknowledgment(id=f"{RULES}-IAM5[{finding}]", reason=reason)


def _role(function: lambda_.Function) -> IConstruct:
    if function.role is None:
        raise ValueError(f"{function.node.path} has no role")
    return function.role


WORLDWIDE_PAGE = (
    "The web client is a public page by product design, like the chat it connects to: no country is excluded."
)
STATIC_FILES_ONLY = (
    "The distribution serves only the web client's static files (no origin logic, no user data, cached, GET/HEAD "
    "only); the chat's API is API Gateway's, throttled per stage. A WAF web ACL would cost more than an idle stage."
)
DEFAULT_CERTIFICATE = (
    "Without a domain the distribution uses CloudFront's default *.cloudfront.net certificate, whose TLS versions "
    "cannot be limited; a stage with a domain gets its own certificate with TLSv1.2_2021."
)
DEPLOYMENT_ACTIONS = ("s3:GetBucket*", "s3:GetObject*", "s3:List*", "s3:Abort*", "s3:DeleteObject*")
BUCKET_DEPLOYMENT = (
    "aws-cdk-lib's BucketDeployment (deploy time only): its function, runtime and role are CDK's own; it reads the web "
    "client's asset from the bootstrap assets bucket, replaces the files of the web bucket and invalidates the "
    "distribution, which CloudFront does not scope below '*'."
)


def acknowledge_web_hosting_findings(web: "WebClientHosting", *, custom_certificate: bool) -> None:
    """The web client's hosting (cdk/web_hosting.py): what a static page behind CloudFront inherently is."""
    stack = Stack.of(web)
    distribution = [
        Acknowledgment(id=f"{RULES}-CFR1", reason=WORLDWIDE_PAGE),
        Acknowledgment(id=f"{RULES}-CFR2", reason=STATIC_FILES_ONLY),
    ]
    if not custom_certificate:
        distribution.append(Acknowledgment(id=f"{RULES}-CFR4", reason=DEFAULT_CERTIFICATE))
    Validations.of(web.distribution).acknowledge(*distribution)
    role = web.deployment.handler_role
    assets = f"arn:{stack.partition}:s3:::cdk-hnb659fds-assets-{stack.account}-{stack.region}/*"
    wildcards = [
        *(
            f"Action::{action}"
            for action in ("s3:GetBucket*", "s3:GetObject*", "s3:List*", "s3:Abort*", "s3:DeleteObject*")
        ),
        f"Resource::{nag_notation(stack, assets)}",
        f"Resource::{nag_notation(stack, web.bucket.arn_for_objects('*'))}",
        "Resource::*",
    ]
    Validations.of(role).acknowledge(
        Acknowledgment(
            id=f"{RULES}-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
            reason=BUCKET_DEPLOYMENT,
        ),
        *(_wildcard(finding, BUCKET_DEPLOYMENT) for finding in wildcards),
    )
    Validations.of(role.node.scope).acknowledge(Acknowledgment(id=f"{RULES}-L1", reason=BUCKET_DEPLOYMENT))
