"""The outcome of one Lambda invocation, and the throttle error."""

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Invocation:
    """What Lambda's Invoke API answers: a JSON payload, and FunctionError when the function failed."""

    payload: Any
    function_error: str | None = None

    @property
    def payload_bytes(self) -> bytes:
        return json.dumps(self.payload).encode("utf-8")


class Throttled(Exception):
    """No worker of the function became free in time (Lambda's TooManyRequestsException)."""
