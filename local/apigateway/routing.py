"""Route selection: which route of a WebSocket API a client's frame goes to."""

import json
from typing import Any

from local.template_errors import UnsupportedTemplate


class RouteSelector:
    """Evaluates a route selection expression of the form ``$request.body.<path>``."""

    def __init__(self, expression: str, route_keys: set[str]):
        path = expression.strip()
        if path.startswith("${") and path.endswith("}"):
            path = "$" + path[2:-1]
        if not path.startswith("$request.body."):
            raise UnsupportedTemplate(f"route selection expression {expression!r} is not supported")
        self._path = path.removeprefix("$request.body.").split(".")
        self._route_keys = route_keys

    def select(self, body: str) -> str:
        try:
            value: Any = json.loads(body)
        except (ValueError, RecursionError):
            return "$default"
        for part in self._path:
            value = value.get(part) if isinstance(value, dict) else None
        return value if isinstance(value, str) and value in self._route_keys else "$default"
