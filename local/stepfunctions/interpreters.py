"""Several interpreter processes behind one Step Functions endpoint, and one moto backend for the rest.

One interpreter process saturates (the GIL) under a burst while the machine's other cores idle, and
executions are independent of one another. So the runtime may run several: the *primary* is the
endpoint the functions call (every API of every moto service); each *secondary* only runs executions.

- In the primary, ``StartExecutionRouter`` runs StartExecution there while it runs fewer than
  ``busy_at`` executions (a message at a time never pays a hop); beyond that the calls take turns
  between the primary and the secondaries. A process that cannot keep up holds more executions at
  once (each waits longer for the GIL), so this shares out exactly when one process is saturated. A secondary that
  cannot be reached (restarting) is skipped: the primary runs the execution.
- In a secondary, ``PrimaryForwarder`` answers Step Functions calls and moto's own API (its
  configuration) itself, and forwards every other request to the primary: whatever DynamoDB, Cognito
  or other ``aws-sdk`` call an execution's task makes, and to whichever process it is sent, it reaches
  the one backend every function and every other execution sees.

Each process reports its own executions' starts and ends (local.stepfunctions.feed), so the terminal
shows them all; `python -m local executions` asks every process.
"""

import io
import itertools
import threading
import urllib.parse
from collections.abc import Callable, Iterable

from local.stepfunctions.moto_patches.kept_alive import KeptAliveHttp

# Where the runtime tells the primary its secondaries: PUT, their URLs one per line.
INTERPRETERS_PATH = "/_local/interpreters"
START_EXECUTION = "AWSStepFunctions.StartExecution"
_STEP_FUNCTIONS_TARGET = "AWSStepFunctions."
_MOTO_API = "/moto-api/"
# Not passed on from one hop to the next (RFC 9110, 7.6.1), or recomputed for the whole body.
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "content-length"}

WsgiApp = Callable[[dict, Callable], Iterable[bytes]]


class Unreachable(ConnectionError):
    """The other process did not answer (it is restarting, or gone)."""


def http_to(url: str) -> KeptAliveHttp:
    parts = urllib.parse.urlsplit(url)
    return KeptAliveHttp(parts.hostname, parts.port, Unreachable)


def forward(environ: dict, start_response: Callable, body: bytes, to: KeptAliveHttp) -> list[bytes]:
    """The request ``environ`` (its ``body`` read) answered by the server behind ``to``; raises
    Unreachable when it does not answer."""
    headers = {name[5:].replace("_", "-"): value for name, value in environ.items() if name.startswith("HTTP_")}
    if environ.get("CONTENT_TYPE"):
        headers["Content-Type"] = environ["CONTENT_TYPE"]
    headers = {name: value for name, value in headers.items() if name.lower() not in _HOP_BY_HOP}
    status, reason, answer_headers, answer = to.request(environ["REQUEST_METHOD"], _target(environ), body, headers)
    kept = [(name, value) for name, value in answer_headers if name.lower() not in _HOP_BY_HOP]
    start_response(f"{status} {reason}", [*kept, ("Content-Length", str(len(answer)))])
    return [answer]


def _target(environ: dict) -> str:
    """The request target as the client sent it."""
    if environ.get("REQUEST_URI"):
        return environ["REQUEST_URI"]
    path = urllib.parse.quote(environ.get("PATH_INFO", "/").encode("latin-1"), safe="/:@!$&'()*+,;=-._~")
    query = environ.get("QUERY_STRING")
    return f"{path}?{query}" if query else path


def _read_body(environ: dict) -> bytes:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    return environ["wsgi.input"].read(length) if length else b""


class RunningExecutions:
    """How many executions this process runs now (its feed's starts less its ends)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._running = 0

    def started(self) -> None:
        with self._lock:
            self._running += 1

    def ended(self) -> None:
        with self._lock:
            self._running -= 1

    def __int__(self) -> int:
        return self._running


class StartExecutionRouter:
    """The primary's WSGI application: moto's, with StartExecution shared out when this process is busy."""

    def __init__(self, app: WsgiApp, running: RunningExecutions, *, busy_at: int):
        self._app = app
        self._running = running
        self._busy_at = busy_at
        self._others: list[KeptAliveHttp] = []
        self._turns = itertools.count()

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == INTERPRETERS_PATH and environ["REQUEST_METHOD"] == "PUT":
            self._others = [http_to(url) for url in _read_body(environ).decode().split()]
            start_response("204 No Content", [])
            return []
        others = self._others
        if environ.get("HTTP_X_AMZ_TARGET") == START_EXECUTION and others and int(self._running) >= self._busy_at:
            turn = next(self._turns) % (len(others) + 1)
            if turn:
                body = _read_body(environ)
                try:
                    return forward(environ, start_response, body, others[turn - 1])
                except Unreachable:  # restarting: this process runs it
                    environ["wsgi.input"] = io.BytesIO(body)
        return self._app(environ, start_response)


class PrimaryForwarder:
    """A secondary's WSGI application: Step Functions and moto's own API here, everything else in the primary."""

    def __init__(self, app: WsgiApp, primary_url: str):
        self._app = app
        self._primary = http_to(primary_url)

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("HTTP_X_AMZ_TARGET", "").startswith(_STEP_FUNCTIONS_TARGET) or environ.get(
            "PATH_INFO", ""
        ).startswith(_MOTO_API):
            return self._app(environ, start_response)
        try:
            return forward(environ, start_response, _read_body(environ), self._primary)
        except Unreachable:
            start_response("503 Service Unavailable", [("Content-Type", "application/json")])
            return [b'{"message": "the primary Step Functions process is restarting"}']
