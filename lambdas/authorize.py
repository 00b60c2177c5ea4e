"""$connect's Lambda REQUEST authorizer: lets a client connect only with a valid Cognito ID token of this stage's
pool and app client, in the ``token`` query-string parameter (browsers cannot set headers on a WebSocket).

What API Gateway does with the answer ("Control access to WebSocket APIs with AWS Lambda REQUEST authorizers";
"Output from an API Gateway Lambda authorizer"):
- Allow: ``principalId`` and a policy allowing ``execute-api:Invoke`` on this request's ``methodArn`` (the
  stage's $connect); the ``context`` (strings and numbers only) reaches every later route of the connection
  as ``requestContext.authorizer``.
- Refused: a policy denying ``execute-api:Invoke`` on the ``methodArn`` answers the client's handshake 403.
  (Raising ``Exception("Unauthorized")`` would answer 401, but as a function error: every bad token would
  count in Lambda's Errors metric and fire the function's fault alarm. A browser cannot read the status of a
  refused WebSocket handshake anyway.) An error of any other kind (the pool's keys cannot be fetched) fails
  the invocation, which API Gateway answers 500, and which the fault alarm is for.
- A request without the ``token`` parameter (or with an empty one) never reaches this function: API Gateway
  refuses it 401 itself (the authorizer's identity source; API Gateway V2 API reference, Authorizer
  ``identitySource``). WebSocket authorizer results are never cached (``AuthorizerResultTtlInSeconds`` is
  supported only for HTTP APIs): every $connect is verified.

The token is never logged: a refusal logs its reason only.
"""

from aws_lambda_powertools.metrics import MetricUnit
from chat.events import AuthorizerEvent
from chat.identity import TokenRejected, verifier_from_environment
from chat.observability import handles, logger, metrics
from chat.users import User, authorizer_context

# The identity source's query-string parameter (cdk/identity.py configures the same name).
TOKEN_PARAMETER = "token"
verifier = verifier_from_environment()
# The principal of a refused request (a Deny needs one too).
NOBODY = "unauthenticated"


@handles(AuthorizerEvent, connection_id=lambda event: event.request_context.connection_id)
def handler(event: AuthorizerEvent) -> dict:
    token = (event.query_string_parameters or {}).get(TOKEN_PARAMETER)
    try:
        verified = verifier.verify(token)
    except TokenRejected as rejection:
        logger.info("connection refused", extra={"reason": str(rejection)})
        metrics.add_metric(name="RefusedConnections", unit=MetricUnit.Count, value=1)
        return policy(NOBODY, "Deny", event.method_arn)
    user = User(id=verified.user_id, name=verified.username)
    logger.info("connection allowed", extra={"user_id": user.id, "username": user.name})
    return {
        **policy(user.id, "Allow", event.method_arn),
        "context": authorizer_context(user, token_expires_at=verified.expires_at),
    }


def policy(principal_id: str, effect: str, method_arn: str) -> dict:
    """An answer allowing or denying this $connect (its methodArn) and nothing else."""
    return {
        "principalId": principal_id,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": method_arn}],
        },
    }
