"""The web client's settings, given to the page as ``config.json`` next to index.html, and the Content-Security-Policy
that follows from them.

One function builds the document for both places that serve the page: the stack deploys it with web/ to the stage's
bucket (cdk/web_hosting.py), the local runtime serves it at /config.json (local/static.py). Kept free of aws_cdk,
so the local runtime reads it at no cost; the stack passes CloudFormation tokens as values.

The contract (web/page-config.js reads it; a page without it still works, from ?url= or a typed URL):
    {"websocket_url": "wss://…/<stage>", "auth": {"type": "none"}}
A stage with sign-in adds to ``auth``: {"type": "cognito", "region", "user_pool_id", "client_id", "self_sign_up",
"cognito_endpoint"}; the page keeps working when ``auth`` is absent.
"""

from typing import Any

CONFIG_FILE = "config.json"
AUTH_NONE = {"type": "none"}


def page_config(*, websocket_url: str, auth: dict[str, Any] | None = None) -> dict[str, Any]:
    """config.json of a stage whose WebSocket endpoint is ``websocket_url``; ``auth`` from ``cognito_auth`` on a stage
    with sign-in, else none."""
    return {"websocket_url": websocket_url, "auth": dict(auth or AUTH_NONE)}


def cognito_auth(
    *, region: str, user_pool_id: str, client_id: str, self_sign_up: bool, cognito_endpoint: str | None = None
) -> dict[str, Any]:
    """``auth`` of a stage whose clients sign in with a Cognito user pool: what the page needs to call Cognito's
    JSON API (InitiateAuth with the app client; SignUp only when the pool allows it). ``cognito_endpoint`` defaults
    to the Region's Cognito user pools endpoint (AWS General Reference, "Amazon Cognito endpoints and quotas")."""
    return {
        "type": "cognito",
        "region": region,
        "user_pool_id": user_pool_id,
        "client_id": client_id,
        "self_sign_up": self_sign_up,
        "cognito_endpoint": cognito_endpoint or f"https://cognito-idp.{region}.amazonaws.com/",
    }


def content_security_policy(config: dict[str, Any]) -> str:
    """The page may run and style only its own files, and connect only to its own origin (config.json), to the
    stage's WebSocket endpoint and, on a stage with sign-in, to Cognito's endpoint: nothing else."""
    connect = ["'self'", config["websocket_url"]]
    cognito = (config.get("auth") or {}).get("cognito_endpoint")
    if cognito:
        connect.append(cognito)
    directives = {
        "default-src": ["'none'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "connect-src": connect,
        "base-uri": ["'none'"],
        "form-action": ["'none'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())
