"""A stage's sign-in: its Cognito user pool and app client, and the $connect authorizer that verifies their ID
tokens (lambdas/authorize.py, with PyJWT in a layer built without Docker: cdk/layers.py).

WebSocket APIs authorize only $connect, and only with a Lambda REQUEST authorizer or IAM: there is no Cognito or
JWT authorizer for them ("Control access to WebSocket APIs in API Gateway"). The identity source is the
``token`` query-string parameter, because browsers cannot set headers on a WebSocket; a request without it is
refused by API Gateway (401) before the authorizer runs. The authorizer reads the pool's public keys over HTTPS
and calls no AWS API: its role may only write its logs (and traces).
"""

import jsii
from aws_cdk import ArnFormat, Duration, RemovalPolicy, Stack
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from cdk.functions import ARCHITECTURE, PYTHON_VERSION, RUNTIME, ChatFunctions
from cdk.layers import JWT_REQUIREMENTS, PipInstall, pip_layer
from cdk.stage_config import StageConfig

# The authorizer's identity source: lambdas/authorize.py reads the same parameter.
TOKEN_SOURCE = "route.request.querystring.token"


class Identity(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig, functions: ChatFunctions) -> None:
        super().__init__(scope, construct_id)
        if config.cognito is None:
            raise ValueError(f"stage {config.stage!r} has no sign-in (auth {config.auth!r}): it needs no Identity")
        settings = config.cognito
        policy = settings.password_policy
        self.user_pool = cognito.UserPool(
            self,
            "UserPool",
            self_sign_up_enabled=settings.self_sign_up,
            # Usernames only (no e-mail or phone): the chat names people by username, which never changes.
            sign_in_aliases=cognito.SignInAliases(username=True),
            # "Bob" and "bob" are one user (AWS recommends case-insensitive pools); the tables key the lower case.
            sign_in_case_sensitive=False,
            password_policy=cognito.PasswordPolicy(
                min_length=policy.min_length,
                require_lowercase=policy.require_lowercase,
                require_uppercase=policy.require_uppercase,
                require_digits=policy.require_digits,
                require_symbols=policy.require_symbols,
            ),
            # No e-mail or phone to recover with: an administrator sets a new password (AdminSetUserPassword).
            account_recovery=cognito.AccountRecovery.NONE,
            feature_plan=cognito.FeaturePlan.ESSENTIALS,
            deletion_protection=settings.retain_pool,
            removal_policy=RemovalPolicy.RETAIN if settings.retain_pool else RemovalPolicy.DESTROY,
        )
        validity = settings.token_validity
        self.client = self.user_pool.add_client(
            "AppClient",
            # A public client (browsers, the CLI): no secret. SRP for the web client, USER_PASSWORD_AUTH for
            # `make token` and the tests; refresh tokens are always allowed.
            generate_secret=False,
            auth_flows=cognito.AuthFlow(user_password=True, user_srp=True),
            id_token_validity=Duration.minutes(validity.id_minutes),
            access_token_validity=Duration.minutes(validity.access_minutes),
            refresh_token_validity=Duration.days(validity.refresh_days),
            enable_token_revocation=True,
            prevent_user_existence_errors=True,
            disable_o_auth=True,  # no hosted UI: sign-in goes through the user pools API
        )
        self.jwt_layer = pip_layer(
            self,
            "JwtLayer",
            bundler=PipInstall(requirements=JWT_REQUIREMENTS, python_version=PYTHON_VERSION),
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            description=f"PyJWT for the $connect authorizer: {', '.join(JWT_REQUIREMENTS)}",
        )
        self.authorizer_function: lambda_.Function = functions.add(
            "Authorize", "authorize", "Verifies the Cognito ID token of each $connect", layers=(self.jwt_layer,)
        )
        self.authorizer = ConnectAuthorizer(self.authorizer_function)


@jsii.implements(apigwv2.IWebSocketRouteAuthorizer)
class ConnectAuthorizer:
    """The $connect route's Lambda REQUEST authorizer, with API Gateway's permission to invoke its function.

    aws-cdk-lib's WebSocketLambdaAuthorizer names that permission after the authorizer's full construct path, so
    the stack a pipeline stage nests would get another logical id for it than the stack ``make deploy`` deploys
    (tests/infra/test_pipeline.py): this one gives it a name of its own, the same wherever the stack sits.
    """

    def __init__(self, function: lambda_.IFunction) -> None:
        self._function = function
        self._authorizer: apigwv2.WebSocketAuthorizer | None = None

    def bind(self, *, route: apigwv2.IWebSocketRoute, scope: Construct) -> apigwv2.WebSocketRouteAuthorizerConfig:
        if self._authorizer is None:
            api = route.web_socket_api
            stack = Stack.of(scope)
            self._authorizer = apigwv2.WebSocketAuthorizer(
                scope,
                "ConnectAuthorizer",
                web_socket_api=api,
                type=apigwv2.WebSocketAuthorizerType.LAMBDA,
                identity_source=[TOKEN_SOURCE],
                authorizer_uri=(
                    f"arn:{stack.partition}:apigateway:{stack.region}:lambda:path/2015-03-31/functions/"
                    f"{self._function.function_arn}/invocations"
                ),
            )
            self._function.add_permission(
                "ApiGatewayInvokesTheAuthorizer",
                principal=iam.ServicePrincipal("apigateway.amazonaws.com"),
                source_arn=stack.format_arn(
                    service="execute-api",
                    resource=api.api_id,
                    arn_format=ArnFormat.SLASH_RESOURCE_NAME,
                    resource_name=f"authorizers/{self._authorizer.authorizer_id}",
                ),
            )
        return apigwv2.WebSocketRouteAuthorizerConfig(
            authorization_type="CUSTOM", authorizer_id=self._authorizer.authorizer_id
        )
