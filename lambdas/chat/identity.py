"""Verifying a Cognito ID token: the one job of the $connect authorizer (authorize.py).

A token is accepted only when all of these hold, in this order (the first that fails is the reason given):
it is at most MAX_TOKEN_CHARACTERS long and a JWT whose header names RS256 (never "none", never an HMAC
algorithm, whose secret an attacker could take from the published public key); its key id is one of the
pool's public keys (its JWKS, fetched over HTTPS by PyJWT's PyJWKClient and cached across invocations);
its signature verifies; its issuer is the pool; it has not expired (with LEEWAY_SECONDS of clock skew);
it is an ID token (``token_use`` "id", not an access token); and its audience is the app client.

The issuer is always AWS's (``https://cognito-idp.<region>.amazonaws.com/<pool id>``), also locally. The keys
are read from ``<issuer>/.well-known/jwks.json`` unless AWS_ENDPOINT_URL_COGNITO_IDP names another Cognito
endpoint (the local runtime's), then from ``<that endpoint>/<pool id>/.well-known/jwks.json``, which is
where moto serves a pool's keys. Nothing here logs or returns the token itself.
"""

import os
from dataclasses import dataclass

import jwt

from chat.settings import require_env

ALGORITHM = "RS256"
# Cognito signs with RS256 only; a Cognito ID token without groups or custom attributes is about 1 KB.
MAX_TOKEN_CHARACTERS = 4096
LEEWAY_SECONDS = 10
# Cognito rotates a pool's signing keys rarely: the key set is fetched once per hour per warm function (and
# again, at most every 30 s, for a key id it does not know: PyJWKClient's cool-down).
KEY_SET_LIFESPAN_SECONDS = 3600
# The fetch must end well within the authorizer's timeout (cdk/functions.py).
KEY_SET_TIMEOUT_SECONDS = 3
REQUIRED_CLAIMS = ["exp", "iat", "iss", "sub", "token_use"]  # and, once it is an ID token, cognito:username


class TokenRejected(Exception):
    """The token is not a valid ID token of this pool and app client; ``str(self)`` says why, for the log
    (never the token)."""


class KeysUnavailable(Exception):
    """The pool's public keys could not be fetched: no token can be verified now."""


@dataclass(frozen=True)
class VerifiedUser:
    user_id: str  # Cognito's sub
    username: str  # cognito:username, as Cognito has it
    expires_at: int  # the token's exp, seconds since the epoch


class IdTokenVerifier:
    def __init__(self, *, region: str, user_pool_id: str, client_id: str, cognito_endpoint: str | None = None):
        self.issuer = f"https://cognito-idp.{region}.amazonaws.com/{user_pool_id}"
        self.client_id = client_id
        keys_origin = cognito_endpoint.rstrip("/") + f"/{user_pool_id}" if cognito_endpoint else self.issuer
        self.jwks_url = f"{keys_origin}/.well-known/jwks.json"
        self._keys = jwt.PyJWKClient(
            self.jwks_url, cache_keys=True, lifespan=KEY_SET_LIFESPAN_SECONDS, timeout=KEY_SET_TIMEOUT_SECONDS
        )

    def verify(self, token: str | None) -> VerifiedUser:
        """The token's user, or TokenRejected (or KeysUnavailable, when the pool's keys cannot be read)."""
        if not token:
            raise TokenRejected("no token")
        if len(token) > MAX_TOKEN_CHARACTERS:
            raise TokenRejected(f"the token is {len(token)} characters long; at most {MAX_TOKEN_CHARACTERS}")
        try:
            algorithm = jwt.get_unverified_header(token).get("alg")
        except jwt.InvalidTokenError:
            raise TokenRejected("not a JWT") from None
        if algorithm != ALGORITHM:
            raise TokenRejected(f"signed with {str(algorithm)[:16]!r}, not {ALGORITHM}")
        claims = self._decode(token)
        if claims["token_use"] != "id":
            raise TokenRejected(f"a token of use {str(claims['token_use'])[:16]!r}, not an ID token")
        if claims.get("aud") != self.client_id:
            raise TokenRejected("issued to another app client")
        if not claims.get("cognito:username"):
            raise TokenRejected("it has no cognito:username claim")
        return VerifiedUser(
            user_id=str(claims["sub"]), username=str(claims["cognito:username"]), expires_at=int(claims["exp"])
        )

    def _signing_key(self, token: str) -> jwt.PyJWK:
        try:
            return self._keys.get_signing_key_from_jwt(token)
        except jwt.PyJWKClientConnectionError as error:
            raise KeysUnavailable(f"the pool's keys could not be fetched from {self.jwks_url}: {error}") from None
        except (jwt.PyJWKClientError, jwt.InvalidTokenError):
            raise TokenRejected("signed with a key that is not this pool's") from None

    def _decode(self, token: str) -> dict:
        key = self._signing_key(token)
        try:
            return jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                issuer=self.issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": REQUIRED_CLAIMS, "verify_aud": False},  # the audience is checked after token_use
            )
        except jwt.ExpiredSignatureError:
            raise TokenRejected("expired") from None
        except jwt.InvalidIssuerError:
            raise TokenRejected("issued by another user pool") from None
        except jwt.InvalidSignatureError:
            raise TokenRejected("its signature does not verify") from None
        except jwt.MissingRequiredClaimError as error:
            raise TokenRejected(f"it has no {error.claim} claim") from None
        except jwt.InvalidTokenError as error:
            raise TokenRejected(f"invalid ({type(error).__name__})") from None


def verifier_from_environment() -> IdTokenVerifier:
    """The stage's verifier: USER_POOL_ID, USER_POOL_CLIENT_ID and the region Lambda runs in; the local
    runtime adds AWS_ENDPOINT_URL_COGNITO_IDP."""
    return IdTokenVerifier(
        region=require_env("AWS_REGION"),
        user_pool_id=require_env("USER_POOL_ID"),
        client_id=require_env("USER_POOL_CLIENT_ID"),
        cognito_endpoint=os.environ.get("AWS_ENDPOINT_URL_COGNITO_IDP") or None,
    )
