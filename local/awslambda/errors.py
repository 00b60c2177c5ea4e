"""A handler's errors in the terminal: one line each, saying where in the project's code it was raised.

Lambda's Python runtime logs an uncaught error as one log event holding its stack trace. Here it is one
line, ``[ERROR] Type: message (at lambdas/x.py:12 > lambdas/chat/y.py:30)``, the frames of the function's
own code only; the whole trace stays in the error payload (the Invoke API's answer, and the TaskFailed
cause that `python -m local executions` shows). The same error again within a few seconds, such as a
state machine retrying one task, is not printed again: it is the one error already on screen.
"""

import re
import time
from collections.abc import Callable
from typing import Any

# Longer than a connection_handshake that finds its client gone: three posts of about a second each,
# retried after 1 s and 2 s (statemachines/connection_handshake.asl.json).
REPEAT_WINDOW_SECONDS = 10.0
MAX_MESSAGE_CHARS = 500
_FRAME = re.compile(r'File "(?P<path>[^"]+)", line (?P<line>\d+)')
_REMEMBERED = 1000  # distinct errors remembered at most (older ones are forgotten first)


class ErrorLines:
    """The terminal lines of one function's handler errors."""

    def __init__(self, project_path: Callable[[str], str | None], *, clock: Callable[[], float] = time.monotonic):
        self._project_path = project_path  # a worker's file -> its path in the project; None outside its code
        self._clock = clock
        self._shown: dict[tuple, float] = {}  # error -> when it was last printed

    def line(self, payload: dict[str, Any]) -> str | None:
        """The line for a handler's error payload; None when the same error was printed within the window."""
        frames = []
        for entry in payload.get("stackTrace") or []:
            found = _FRAME.search(str(entry))
            path = self._project_path(found["path"]) if found else None
            if path is not None:
                frames.append(f"{path}:{found['line']}")
        message = " ".join(str(payload.get("errorMessage", "")).split())
        if len(message) > MAX_MESSAGE_CHARS:
            message = message[: MAX_MESSAGE_CHARS - 1] + "…"
        error = (payload.get("errorType"), message, tuple(frames))
        now = self._clock()
        last_shown = self._shown.pop(error, None)
        if last_shown is not None and now - last_shown < REPEAT_WINDOW_SECONDS:
            self._shown[error] = last_shown
            return None
        self._shown[error] = now
        while len(self._shown) > _REMEMBERED:
            del self._shown[next(iter(self._shown))]
        where = f" (at {' > '.join(frames)})" if frames else ""
        return f"[ERROR] {error[0]}: {message}{where}"
