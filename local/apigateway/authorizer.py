"""$connect's Lambda REQUEST authorizer, as API Gateway runs it for a WebSocket API.

What is modelled (API Gateway Developer Guide, "Control access to WebSocket APIs with AWS Lambda REQUEST
authorizers" and "Output from an API Gateway Lambda authorizer"; API Gateway V2 API reference, Authorizer):
- Identity sources ``route.request.querystring.<name>`` and ``route.request.header.<name>``: when one is
  missing, null or empty, the handshake is refused 401 and the authorizer is not invoked.
- The event: ``type: REQUEST``, ``methodArn`` ``arn:aws:execute-api:<region>:<account>:<api id>/<stage>/$connect``,
  the request's headers and query string (single and multi-value), ``stageVariables`` and the $connect
  ``requestContext``.
- The answer: a policy allowing ``execute-api:Invoke`` on the methodArn (and denying it nowhere) lets the
  client connect, and ``principalId`` with the ``context`` reach ``requestContext.authorizer`` of $connect and
  of every later route of the connection; a Deny (or no Allow) answers 403; the function raising
  ``Unauthorized`` answers 401; any other error, a timeout, or an answer that is not a policy with a context of
  strings, numbers and booleans answers 500.
- No caching: ``AuthorizerResultTtlInSeconds`` is "supported only for HTTP API Lambda authorizers" (API
  Gateway V2 API reference, Authorizer), so the function runs on every $connect. The template model refuses
  any authorizer setting this module does not model (local.template).
"""

import fnmatch
from dataclasses import dataclass
from typing import Any

from local.apigateway.limits import INTEGRATION_TIMEOUT_SECONDS
from local.awslambda.invocation import Throttled
from local.awslambda.service import LambdaService
from local.console import Console
from local.template import AUTHORIZER_IDENTITY_SOURCES, AuthorizerSpec

QUERY_STRING_SOURCE, HEADER_SOURCE = AUTHORIZER_IDENTITY_SOURCES
# What API Gateway answers a refused handshake with, as its gateway responses' default bodies.
UNAUTHORIZED = 401, "Unauthorized"
FORBIDDEN = 403, "Forbidden"
INTERNAL_ERROR = 500, "Internal server error"


@dataclass(frozen=True)
class Decision:
    """Allowed (``authorizer`` holds principalId and the context) or refused with ``status``."""

    status: int = 200
    message: str = ""
    authorizer: dict[str, Any] | None = None
    reason: str = ""  # for the terminal: why it was refused

    @property
    def allowed(self) -> bool:
        return self.status == 200


def _refused(answer: tuple[int, str], reason: str) -> Decision:
    return Decision(status=answer[0], message=answer[1], reason=reason)


def method_arn(*, region: str, account: str, api_id: str, stage: str) -> str:
    return f"arn:aws:execute-api:{region}:{account}:{api_id}/{stage}/$connect"


class RequestAuthorizer:
    def __init__(self, spec: AuthorizerSpec, lambdas: LambdaService, console: Console, *, method_arn: str):
        self._spec = spec
        self._lambdas = lambdas
        self._console = console
        self._method_arn = method_arn

    def missing_source(self, headers: dict[str, str], query: dict[str, list[str]]) -> str | None:
        """The first identity source the request lacks (absent or empty), or None."""
        lowered = {name.lower(): value for name, value in headers.items()}
        for source in self._spec.identity_sources:
            if source.startswith(QUERY_STRING_SOURCE):
                values = query.get(source.removeprefix(QUERY_STRING_SOURCE)) or [""]
                value = values[-1]
            else:  # header names are case-insensitive
                value = lowered.get(source.removeprefix(HEADER_SOURCE).lower(), "")
            if not value:
                return source
        return None

    def event(self, connect_event: dict[str, Any]) -> dict[str, Any]:
        """The authorizer's event, from the $connect integration's (same headers, query and context)."""
        event = {"type": "REQUEST", "methodArn": self._method_arn}
        for name in ("headers", "multiValueHeaders", "queryStringParameters", "multiValueQueryStringParameters"):
            if name in connect_event:
                event[name] = connect_event[name]
        event["stageVariables"] = {}
        event["requestContext"] = dict(connect_event["requestContext"])
        return event

    async def decide(
        self, connect_event: dict[str, Any], headers: dict[str, str], query: dict[str, list[str]]
    ) -> Decision:
        missing = self.missing_source(headers, query)
        if missing is not None:
            return _refused(UNAUTHORIZED, f"identity source {missing} is missing: the authorizer was not invoked")
        try:
            outcome = await self._lambdas.invoke(
                self._spec.function, self.event(connect_event), queue_timeout=INTEGRATION_TIMEOUT_SECONDS
            )
        except Throttled as error:
            return _refused(INTERNAL_ERROR, f"the authorizer was throttled ({error})")
        if outcome.function_error:
            payload = outcome.payload if isinstance(outcome.payload, dict) else {}
            if payload.get("errorMessage") == "Unauthorized":
                return _refused(UNAUTHORIZED, "the authorizer raised Unauthorized")
            return _refused(INTERNAL_ERROR, f"the authorizer failed: {str(payload.get('errorMessage'))[:200]}")
        return self._judge(outcome.payload)

    def _judge(self, answer: Any) -> Decision:
        problem = _malformed(answer)
        if problem is not None:
            return _refused(INTERNAL_ERROR, f"the authorizer's answer is malformed: {problem}")
        effects = {
            statement.get("Effect")
            for statement in _statements(answer["policyDocument"])
            if _covers(statement.get("Action"), "execute-api:Invoke")
            and _covers(statement.get("Resource"), self._method_arn)
        }
        if "Deny" in effects or "Allow" not in effects:
            return _refused(FORBIDDEN, f"the authorizer's policy does not allow {self._method_arn}")
        return Decision(authorizer={**answer.get("context", {}), "principalId": answer["principalId"]})


def _statements(policy: dict[str, Any]) -> list[dict[str, Any]]:
    statements = policy.get("Statement", [])
    return [statements] if isinstance(statements, dict) else statements


def _covers(patterns: Any, value: str) -> bool:
    """An IAM Action or Resource (one or a list; * and ? wildcards) matching ``value``."""
    patterns = [patterns] if isinstance(patterns, str) else patterns or []
    return any(isinstance(pattern, str) and fnmatch.fnmatchcase(value, pattern) for pattern in patterns)


def _malformed(answer: Any) -> str | None:
    if not isinstance(answer, dict):
        return f"a {type(answer).__name__}, not an object"
    if not isinstance(answer.get("principalId"), str) or not answer["principalId"]:
        return "no principalId"
    policy = answer.get("policyDocument")
    if not isinstance(policy, dict) or not isinstance(policy.get("Statement"), list | dict):
        return "no policyDocument with a Statement"
    if not all(isinstance(statement, dict) for statement in _statements(policy)):
        return "a Statement that is not an object"
    context = answer.get("context", {})
    if not isinstance(context, dict):
        return "its context is not an object"
    for key, value in context.items():
        if not isinstance(value, str | int | float | bool):
            return f"context value {key!r} is a {type(value).__name__} (strings, numbers and booleans only)"
    return None
