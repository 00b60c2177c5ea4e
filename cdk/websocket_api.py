"""The WebSocket API: routes to the handler functions, one throttled, access-logged stage."""

import json
import re
from collections.abc import Mapping

import jsii
from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk.aws_apigatewayv2_integrations import WebSocketLambdaIntegration
from constructs import Construct

from cdk.stage_config import StageConfig

# An action's route key: a name a client can type, never one of API Gateway's reserved $ keys, and safe
# in the comma-separated list $default is given (VALID_ACTIONS).
ACTION_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")

ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "connectionId": "$context.connectionId",
    "routeKey": "$context.routeKey",
    "eventType": "$context.eventType",
    "status": "$context.status",
    "requestTime": "$context.requestTime",
    "sourceIp": "$context.identity.sourceIp",
    "integrationLatency": "$context.integrationLatency",
    "integrationError": "$context.integration.error",
    "error": "$context.error.message",
}


@jsii.implements(apigwv2.IAccessLogSettings)
class _AccessLogSettings:
    """IAccessLogSettings is a jsii interface: Python passes an object implementing it, not a dict."""

    def __init__(self, *, destination: apigwv2.IAccessLogDestination, format: apigw.AccessLogFormat) -> None:
        self._destination = destination
        self._format = format

    @property
    def destination(self) -> apigwv2.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigw.AccessLogFormat:
        return self._format


class ChatWebSocketApi(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        on_connect: lambda_.IFunction,
        on_disconnect: lambda_.IFunction,
        on_default: lambda_.IFunction,
        actions: Mapping[str, lambda_.IFunction],
        connect_authorizer: apigwv2.IWebSocketRouteAuthorizer | None = None,
    ) -> None:
        """``actions``: route key (the frame's ``action``) -> the function answering it; each gets a route
        with a route response (its answer goes back to the caller). ``connect_authorizer``: who may connect
        (WebSocket APIs authorize $connect only; the connection's identity then holds for every route)."""
        super().__init__(scope, construct_id)
        bad = [key for key in actions if not ACTION_NAME.fullmatch(key)]
        if bad or not actions:
            raise ValueError(f"actions must be 1 or more names matching {ACTION_NAME.pattern}, got {list(actions)}")
        self.actions = tuple(actions)
        self.api = apigwv2.WebSocketApi(
            self,
            "Api",
            api_name=f"chat-{config.stage}",
            description=f"Serverless chat ({config.stage})",
            route_selection_expression="$request.body.action",
            connect_route_options=apigwv2.WebSocketRouteOptions(
                integration=WebSocketLambdaIntegration("ConnectIntegration", on_connect),
                authorizer=connect_authorizer,
            ),
            disconnect_route_options=apigwv2.WebSocketRouteOptions(
                integration=WebSocketLambdaIntegration("DisconnectIntegration", on_disconnect)
            ),
            # Route responses send the handler's error frame back to the caller, so these two
            # handlers need no @connections permission.
            default_route_options=apigwv2.WebSocketRouteOptions(
                integration=WebSocketLambdaIntegration("DefaultIntegration", on_default), return_response=True
            ),
        )
        for action, function in actions.items():
            self.api.add_route(
                action,
                integration=WebSocketLambdaIntegration(f"{action[0].upper()}{action[1:]}Integration", function),
                return_response=True,
            )
        self.access_logs = access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            retention=config.log_retention,
            removal_policy=config.log_removal_policy,
        )
        self.stage = apigwv2.WebSocketStage(
            self,
            "Stage",
            web_socket_api=self.api,
            stage_name=config.stage,
            auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(
                rate_limit=config.throttle_rate_limit, burst_limit=config.throttle_burst_limit
            ),
            access_log_settings=_AccessLogSettings(
                destination=apigwv2.LogGroupLogDestination(access_logs),
                format=apigw.AccessLogFormat.custom(json.dumps(ACCESS_LOG_FIELDS)),
            ),
        )

    @property
    def routes(self) -> list[apigwv2.WebSocketRoute]:
        """Every route of the API: $connect, $disconnect, $default and one per action."""
        return [child for child in self.api.node.children if isinstance(child, apigwv2.WebSocketRoute)]

    def connections_arn(self, method: str) -> str:
        """execute-api ARN of ``method`` @connections/{id} calls on this stage, for any connection id.

        arn:{partition}:execute-api:{region}:{account}:{api id}/{stage}/{method}/@connections/*
        """
        return Stack.of(self).format_arn(
            service="execute-api",
            resource=self.api.api_id,
            arn_format=ArnFormat.SLASH_RESOURCE_NAME,
            resource_name=f"{self.stage.stage_name}/{method}/@connections/*",
        )

    @property
    def execute_api_endpoint(self) -> str:
        """The API's own host name, ``{api id}.execute-api.{region}.{url suffix}``: what Step Functions'
        apigateway:invoke takes as ApiEndpoint (it supports no custom domain names)."""
        stack = Stack.of(self)
        return f"{self.api.api_id}.execute-api.{stack.region}.{stack.url_suffix}"

    @property
    def callback_url(self) -> str:
        """The @connections endpoint: the stage's own on the API's execute-api host, also when a custom domain fronts
        the API for clients. AWS documents @connections there ("Use @connections commands in your backend
        service"), Step Functions' API Gateway integration (the fan-out) takes no custom domain, and so both posters
        use one endpoint and one IAM resource; the execute-api endpoint stays enabled for them."""
        return self.stage.callback_url
