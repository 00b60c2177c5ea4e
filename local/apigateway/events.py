"""Events shaped like the ones API Gateway's WebSocket APIs send to Lambda, and AWS-like ids."""

import base64
import os
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


def aws_style_id() -> str:
    """16 characters of base64, like API Gateway's connection and request ids ('L0SM9cOFvHcCIhw=')."""
    while True:
        candidate = base64.b64encode(os.urandom(11)).decode("ascii")
        if "/" not in candidate:  # keeps ids usable as one URL path segment
            return candidate


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class ClientInfo:
    connection_id: str
    source_ip: str
    user_agent: str
    host: str
    connected_at: int = field(default_factory=now_ms)
    last_active_at: int = field(default_factory=now_ms)
    # What $connect's authorizer allowed it with (principalId and context): every route's requestContext.authorizer.
    authorizer: dict[str, Any] | None = None


class EventFactory:
    def __init__(self, *, api_id: str, stage: str):
        self._api_id = api_id
        self._stage = stage

    def connect(self, client: ClientInfo, headers: dict[str, str], query: dict[str, list[str]]) -> dict[str, Any]:
        event = {
            "headers": headers,
            "multiValueHeaders": {name: [value] for name, value in headers.items()},
            "requestContext": self._context(client, route_key="$connect", event_type="CONNECT"),
            "isBase64Encoded": False,
        }
        if query:
            event["queryStringParameters"] = {name: values[-1] for name, values in query.items()}
            event["multiValueQueryStringParameters"] = query
        return event

    def message(self, client: ClientInfo, route_key: str, body: str, *, is_base64: bool) -> dict[str, Any]:
        context = self._context(client, route_key=route_key, event_type="MESSAGE")
        context["messageId"] = aws_style_id()
        return {"requestContext": context, "body": body, "isBase64Encoded": is_base64}

    def disconnect(self, client: ClientInfo, status_code: int, reason: str) -> dict[str, Any]:
        headers = {"Host": client.host, "X-Forwarded-For": client.source_ip}
        context = self._context(client, route_key="$disconnect", event_type="DISCONNECT")
        context.update({"disconnectStatusCode": status_code, "disconnectReason": reason})
        return {
            "headers": headers,
            "multiValueHeaders": {name: [value] for name, value in headers.items()},
            "requestContext": context,
            "isBase64Encoded": False,
        }

    def _context(self, client: ClientInfo, *, route_key: str, event_type: str) -> dict[str, Any]:
        request_id = aws_style_id()
        epoch_ms = now_ms()
        authorizer = {"authorizer": dict(client.authorizer)} if client.authorizer is not None else {}
        return {
            **authorizer,
            "routeKey": route_key,
            "eventType": event_type,
            "extendedRequestId": request_id,
            "requestTime": datetime.fromtimestamp(epoch_ms / 1000, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "messageDirection": "IN",
            "stage": self._stage,
            "connectedAt": client.connected_at,
            "requestTimeEpoch": epoch_ms,
            "identity": {"sourceIp": client.source_ip, "userAgent": client.user_agent},
            "requestId": request_id,
            "domainName": client.host,
            "connectionId": client.connection_id,
            "apiId": self._api_id,
        }
