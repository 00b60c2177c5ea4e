"""Who is talking, on a stage with sign-in: the user the $connect authorizer verified, as every later route of
the connection reads it from ``requestContext.authorizer`` (never from a frame).

The authorizer's context holds only strings, numbers and booleans (API Gateway's rule for a Lambda
authorizer's context: "Output from an API Gateway Lambda authorizer"), and a value may arrive as a string:
each is read as text and converted here.
"""

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

# The keys of the authorizer's context (written by authorize.py).
USER_ID = "user_id"
USERNAME = "username"
TOKEN_EXPIRES_AT = "token_expires_at"


@dataclass(frozen=True)
class User:
    id: str  # Cognito's sub
    name: str  # cognito:username, as Cognito has it

    @property
    def key(self) -> str:
        return username_key(self.name)

    def as_frame(self) -> dict[str, str]:
        return {"id": self.id, "name": self.name}


@dataclass(frozen=True)
class SignedIn:
    user: User
    token_expires_at: int  # seconds since the epoch

    def expired(self, now: float | None = None) -> bool:
        return (time.time() if now is None else now) >= self.token_expires_at

    @property
    def expired_at_text(self) -> str:
        return datetime.fromtimestamp(self.token_expires_at, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def username_key(name: str) -> str:
    """How the tables key a username: Cognito compares usernames case-insensitively (the pool's setting,
    cdk/identity.py), so "Bob" and "bob" are one user and one key."""
    return name.lower()


def authorizer_context(user: User, *, token_expires_at: int) -> dict[str, str | int]:
    """What the authorizer hands API Gateway for every later route of the connection."""
    return {USER_ID: user.id, USERNAME: user.name, TOKEN_EXPIRES_AT: token_expires_at}


def signed_in(authorizer: dict[str, Any] | None) -> SignedIn | None:
    """The connection's user, from ``requestContext.authorizer``; None on a stage without sign-in."""
    if not authorizer or USER_ID not in authorizer:
        return None
    return SignedIn(
        user=User(id=str(authorizer[USER_ID]), name=str(authorizer[USERNAME])),
        token_expires_at=int(str(authorizer[TOKEN_EXPIRES_AT])),
    )
