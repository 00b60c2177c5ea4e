"""Cognito's JSON API for the page, at a path of the runtime's own origin (``/cognito/``), so that the web client
signs in locally as it does on AWS (POST with ``X-Amz-Target: AWSCognitoIdentityProviderService.<Operation>``)
with no cross-origin request: the stage's pools live in the Step Functions process's moto, which answers.

Only what a browser may call on AWS without AWS credentials passes (a public app client's operations: sign-in,
sign-up and its confirmation, the signed-in user's own operations); the Admin* operations need IAM credentials on
AWS and are refused here (403), as is SignUp on a pool that allows only administrators to create users
(Cognito answers NotAuthorizedException). `python -m local users` creates users with the admin operations,
straight at moto.
"""

import json

import aiohttp
from aiohttp import web

from local.template import StackModel

PATH = "/cognito/"
TARGET_PREFIX = "AWSCognitoIdentityProviderService."
# Cognito's operations that a public app client calls without AWS credentials (Amazon Cognito user pools API
# reference: the operations that are "unauthenticated" or "authorized with an access token").
PUBLIC_OPERATIONS = frozenset(
    {
        "InitiateAuth",
        "RespondToAuthChallenge",
        "SignUp",
        "ConfirmSignUp",
        "ResendConfirmationCode",
        "ForgotPassword",
        "ConfirmForgotPassword",
        "GetUser",
        "ChangePassword",
        "GlobalSignOut",
        "RevokeToken",
    }
)
MAX_BODY_BYTES = 64 * 1024
TIMEOUT_SECONDS = 10


def self_sign_up(model: StackModel) -> bool:
    """Whether the stack's pool lets users sign themselves up (AdminCreateUserConfig.AllowAdminCreateUserOnly)."""
    return any(
        not (pool.settings.get("AdminCreateUserConfig") or {}).get("AllowAdminCreateUserOnly", False)
        for pool in model.user_pools.values()
    )


class CognitoProxy:
    def __init__(self, moto_url: str, *, self_sign_up: bool):
        self._moto_url = moto_url.rstrip("/") + "/"
        self._self_sign_up = self_sign_up
        self._session: aiohttp.ClientSession | None = None

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post(PATH, self._forward)
        app.router.add_post(PATH.rstrip("/"), self._forward)

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        target = request.headers.get("X-Amz-Target", "")
        operation = target.removeprefix(TARGET_PREFIX)
        if not target.startswith(TARGET_PREFIX) or operation not in PUBLIC_OPERATIONS:
            return _error(403, "AccessDeniedException", f"{operation or 'this request'} is not served to the page here")
        if operation == "SignUp" and not self._self_sign_up:
            return _error(400, "NotAuthorizedException", "SignUp is not permitted for this user pool")
        body = await request.content.read(MAX_BODY_BYTES + 1)
        if len(body) > MAX_BODY_BYTES:
            return _error(413, "InvalidParameterException", "request too large")
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT_SECONDS))
        headers = {"X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.1"}
        try:
            async with self._session.post(self._moto_url, data=body, headers=headers) as answer:
                data = await answer.read()
                error_type = answer.headers.get("X-Amzn-ErrorType")
                status = answer.status
        except (aiohttp.ClientError, TimeoutError) as error:
            return _error(503, "ServiceUnavailableException", f"the local user pool did not answer: {error}")
        extra = {"X-Amzn-ErrorType": error_type} if error_type else {}
        return web.Response(status=status, body=data, content_type="application/x-amz-json-1.1", headers=extra)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _error(status: int, error_type: str, message: str) -> web.Response:
    return web.Response(
        status=status,
        text=json.dumps({"__type": error_type, "message": message}),
        content_type="application/x-amz-json-1.1",
        headers={"X-Amzn-ErrorType": error_type},
    )
