"""Real Cognito-shaped tokens for the tests: RSA keys made here, tokens signed with PyJWT, and the pool's key
set (JWKS) served over HTTP on loopback where a Cognito endpoint serves it (``/<pool id>/.well-known/jwks.json``),
so that the authorizer's own PyJWKClient fetches it."""

import base64
import hashlib
import hmac
import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


@dataclass
class SigningKey:
    kid: str = field(default_factory=lambda: uuid.uuid4().hex)
    private_key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )

    def jwk(self) -> dict[str, Any]:
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.private_key.public_key()))
        return {**public, "kid": self.kid, "alg": "RS256", "use": "sig"}

    def public_pem(self) -> bytes:
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


@dataclass
class TokenFactory:
    """ID and access tokens as a Cognito user pool issues them."""

    region: str
    user_pool_id: str
    client_id: str
    key: SigningKey = field(default_factory=SigningKey)

    @property
    def issuer(self) -> str:
        return f"https://cognito-idp.{self.region}.amazonaws.com/{self.user_pool_id}"

    def id_claims(self, *, username: str = "alice", sub: str = "7d3c6a0e-2b1f-4c5d-9e8f-0a1b2c3d4e5f", **changes):
        now = int(time.time())
        claims = {
            "sub": sub,
            "aud": self.client_id,
            "cognito:username": username,
            "email_verified": False,
            "event_id": str(uuid.uuid4()),
            "token_use": "id",
            "auth_time": now,
            "iss": self.issuer,
            "exp": now + 3600,
            "iat": now,
            "jti": str(uuid.uuid4()),
            "origin_jti": str(uuid.uuid4()),
        }
        return {name: value for name, value in {**claims, **changes}.items() if value is not None}

    def id_token(self, **changes) -> str:
        return self.sign(self.id_claims(**changes))

    def access_token(self, **changes) -> str:
        """An access token: ``client_id`` instead of ``aud``, ``token_use`` access, no ``cognito:username``."""
        claims = self.id_claims(**changes)
        for name in ("aud", "cognito:username", "email_verified"):
            claims.pop(name)
        claims |= {"client_id": self.client_id, "token_use": "access", "scope": "aws.cognito.signin.user.admin"}
        claims["username"] = "alice"
        return self.sign(claims)

    def sign(self, claims: dict[str, Any], *, key: SigningKey | None = None) -> str:
        key = key or self.key
        return jwt.encode(claims, key.private_key, algorithm="RS256", headers={"kid": key.kid})


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unsigned_token(claims: dict[str, Any], *, kid: str) -> str:
    """``alg: none``: a token with no signature at all."""
    header = b64url(json.dumps({"alg": "none", "typ": "JWT", "kid": kid}).encode())
    return f"{header}.{b64url(json.dumps(claims).encode())}."


def hs256_with_public_key(claims: dict[str, Any], key: SigningKey) -> str:
    """The classic confusion attack: HMAC-SHA256 keyed with the pool's public key (anyone can fetch it)."""
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT", "kid": key.kid}).encode())
    signing_input = f"{header}.{b64url(json.dumps(claims).encode())}"
    signature = hmac.new(key.public_pem(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(signature)}"


def with_payload(token: str, claims: dict[str, Any]) -> str:
    """``token`` with its payload replaced and its signature kept: a tampered token."""
    header, _, signature = token.split(".")
    return f"{header}.{b64url(json.dumps(claims).encode())}.{signature}"


class JwksServer:
    """A Cognito endpoint on 127.0.0.1 serving pools' key sets; counts how often each was fetched."""

    def __init__(self) -> None:
        self.key_sets: dict[str, list[dict[str, Any]]] = {}
        self.fetches: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                pool_id, _, rest = self.path.lstrip("/").partition("/")
                keys = server.key_sets.get(pool_id)
                if rest != ".well-known/jwks.json" or keys is None:
                    self.send_error(404)
                    return
                server.fetches.append(pool_id)
                body = json.dumps({"keys": keys}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def publish(self, user_pool_id: str, *keys: SigningKey) -> None:
        self.key_sets[user_pool_id] = [key.jwk() for key in keys]

    @contextmanager
    def running(self) -> Iterator["JwksServer"]:
        self._thread.start()
        try:
            yield self
        finally:
            self._server.shutdown()
            self._server.server_close()
