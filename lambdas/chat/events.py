"""The API Gateway WebSocket events the handlers parse: Powertools' models, plus what a Lambda authorizer adds.

On a stage with sign-in, API Gateway passes the authorizer's ``context`` (and its ``principalId``) to every
route of the connection as ``requestContext.authorizer`` ("Control access to WebSocket APIs with AWS Lambda
REQUEST authorizers": the context is available to the integrations of later routes). Powertools' models do
not declare that field, so they would drop it.
"""

from typing import Any, Literal

from aws_lambda_powertools.utilities.parser.models import (
    APIGatewayWebSocketConnectEventModel,
    APIGatewayWebSocketMessageEventModel,
)
from aws_lambda_powertools.utilities.parser.models.apigw_websocket import (
    APIGatewayWebSocketConnectEventRequestContext,
    APIGatewayWebSocketMessageEventRequestContext,
)
from pydantic import BaseModel, Field


class ConnectRequestContext(APIGatewayWebSocketConnectEventRequestContext):
    authorizer: dict[str, Any] | None = None


class ConnectEvent(APIGatewayWebSocketConnectEventModel):
    request_context: ConnectRequestContext = Field(alias="requestContext")


class MessageRequestContext(APIGatewayWebSocketMessageEventRequestContext):
    authorizer: dict[str, Any] | None = None


class MessageEvent(APIGatewayWebSocketMessageEventModel):
    request_context: MessageRequestContext = Field(alias="requestContext")


class AuthorizerRequestContext(BaseModel):
    connection_id: str = Field(alias="connectionId")
    route_key: str = Field(alias="routeKey")


class AuthorizerEvent(BaseModel):
    """A WebSocket API's REQUEST authorizer event for $connect ("Control access to WebSocket APIs with AWS
    Lambda REQUEST authorizers": type REQUEST, a methodArn ending in /<stage>/$connect, the request's headers
    and query string)."""

    type: Literal["REQUEST"]
    method_arn: str = Field(alias="methodArn")
    query_string_parameters: dict[str, str] | None = Field(None, alias="queryStringParameters")
    request_context: AuthorizerRequestContext = Field(alias="requestContext")
