"""The web client's settings, given to the page as ``config.json`` next to index.html, and the Content-Security-Policy
that follows from them.

One function builds the document for both places that serve the page: the stack deploys it with web/ to the stage's
bucket (cdk/web_hosting.py), the local runtime serves it at /config.json (local/static.py). Kept free of aws_cdk,
so the local runtime reads it at no cost; the stack passes CloudFormation tokens as values.

The contract (web/page-config.js reads it; a page without it still works, from ?url= or a typed URL):
    {"websocket_url": "wss://…/<stage>", "auth": {"type": "none"}}
A stage with sign-in adds to ``auth``: {"type": "cognito", "region", "user_pool_id", "client_id",
"cognito_endpoint"}; the page keeps working when ``auth`` is absent.
"""

from typing import Any

CONFIG_FILE = "config.json"
AUTH_NONE = {"type": "none"}


def page_config(*, websocket_url: str) -> dict[str, Any]:
    """config.json of a stage whose WebSocket endpoint is ``websocket_url``."""
    return {"websocket_url": websocket_url, "auth": dict(AUTH_NONE)}


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
