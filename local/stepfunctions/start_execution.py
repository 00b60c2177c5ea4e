"""StartExecution answered by moto's Step Functions backend without moto's request dispatcher.

Every message starts an execution, and moto's server took about a fifth of the Step Functions process's
CPU under a burst to answer the call (py-spy, bench/local_runtime.py): its domain dispatcher, Flask's
request context and URL map, then moto's response class (parameters parsed from the botocore model,
``inspect.getmembers`` of the class to find the action, the answer serialized from the model). This WSGI
layer, in front of moto's application, reads the JSON body itself, works out the account and region
exactly as moto's ``BaseResponse`` does (the same regular expressions, the same lookups), calls the same
backend method and writes the two fields of the answer as moto's serializer writes them.

Anything else, or anything unusual about the request (an account named by MOTO_ACCOUNT_ID or a header, a
region in the URL or the user agent, a parameter of an unexpected type), goes to moto's application, and
so does a StartExecution that the backend refuses (no such state machine, a name taken, input that is not
JSON): the backend raises before it records or starts anything, so moto's dispatcher asks again and answers
with its own error. moto's checks of these internals are speedups' (the guard), which turns this layer on.
"""

import io
import json
import os
import random
import re
import uuid
from collections.abc import Callable, Iterable

from local.stepfunctions.moto_patches.guard import Patch, Target

START_EXECUTION_TARGET = "AWSStepFunctions.StartExecution"
_RESPONSES = "moto.core.responses"
_GET_BACKEND = Target("moto.stepfunctions.responses", "get_backend", signature="(account, region)")
_ACCOUNT_OF_KEY = Target("moto.iam.models", "get_account_id_from", signature="(access_key)")
_MARK_VISITED = Target(
    "moto.iam.models", "mark_account_as_visited", signature="(account_id, access_key, service, region)"
)
# BaseResponse's patterns, as moto 5.2.5 has them (a pattern compares equal to one with the same text and flags).
_REGION_IN_URL = Target(
    _RESPONSES, "BaseResponse.region_regex", value=re.compile(r"\.(?P<region>[^.]+)\.amazonaws\.com")
)
_REGION_IN_AGENT = Target(
    _RESPONSES,
    "BaseResponse.region_from_useragent_regex",
    value=re.compile(r"region/(?P<region>[a-z]{2}-[a-z]+-\d{1})"),
)
_ACCESS_KEY = Target(
    _RESPONSES,
    "BaseResponse.access_key_regex",
    value=re.compile(r"AWS.*(?P<access_key>(?<![A-Z0-9])[A-Z0-9]{20}(?![A-Z0-9]))[:/]"),
)
_UNIX_TIME = Target("moto.core.serialize", "TimestampSerializer._timestamp_unixtimestamp", signature="(value)")
_BACKEND_START = Target(
    "moto.stepfunctions.parser.models",
    "StepFunctionsParserBackend.start_execution",
    signature="(self, state_machine_arn, name=None, execution_input=None, trace_header=None)",
)
# moto's own default when no key is found in the request (BaseResponse.get_access_key).
_NO_ACCESS_KEY = "AKIAEXAMPLE"
_SERVICE = "stepfunctions"

_enabled = {"on": False}


def _enable() -> None:
    _enabled["on"] = True


PATCH = Patch(
    "StartExecution is answered without moto's request dispatcher",
    replaces=(),
    reads=(
        *(_GET_BACKEND, _ACCOUNT_OF_KEY, _MARK_VISITED, _BACKEND_START, _UNIX_TIME),
        *(_REGION_IN_URL, _REGION_IN_AGENT, _ACCESS_KEY),
    ),
    install=_enable,
)

WsgiApp = Callable[[dict, Callable], Iterable[bytes]]


class StartExecutionFastPath:
    """moto's WSGI application, StartExecution answered by the backend directly (once the speed-ups are on)."""

    def __init__(self, app: WsgiApp):
        self._app = app

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if not _enabled["on"] or environ.get("HTTP_X_AMZ_TARGET") != START_EXECUTION_TARGET:
            return self._app(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        answer = _answer(environ, body)
        if answer is None:
            environ["wsgi.input"] = io.BytesIO(body)
            return self._app(environ, start_response)
        start_response(
            "200 OK",
            [
                ("Content-Type", "application/x-amz-json-1.0"),
                ("x-amzn-RequestId", _request_id()),
                ("Content-Length", str(len(answer))),
            ],
        )
        return [answer]


def _request_id() -> str:
    """A request id as AWS writes them, from Python's generator: uuid4 reads os.urandom, which gives up the GIL,
    and taking it back from busy interpreter threads cost milliseconds."""
    return str(uuid.UUID(int=random.getrandbits(128), version=4))


def _answer(environ: dict, body: bytes) -> bytes | None:
    """The answer's body, or None when moto's application is to answer."""
    where = _account_and_region(environ, body)
    if where is None:
        return None
    try:
        request = json.loads(body)
    except ValueError:
        return None
    if not isinstance(request, dict):
        return None
    arn, name, execution_input = request.get("stateMachineArn"), request.get("name"), request.get("input")
    if not isinstance(arn, str) or not isinstance(name, str | None) or not isinstance(execution_input, str | None):
        return None
    account, region, access_key = where
    _MARK_VISITED.get()(account, access_key, _SERVICE, region)
    try:
        execution = _GET_BACKEND.get()(account, region).start_execution(
            arn, name, "{}" if execution_input is None else execution_input
        )
    except Exception:  # refused before anything was recorded: moto's dispatcher answers with its error
        return None
    started = _UNIX_TIME.get()(execution.start_date)
    return json.dumps({"executionArn": execution.execution_arn, "startDate": started}).encode()


def _account_and_region(environ: dict, body: bytes) -> tuple[str, str, str] | None:
    """(account, region, access key) as moto's BaseResponse works them out for this request, or None when it
    would read them from somewhere this layer does not look (an environment variable, a header, the URL, the
    user agent, a query string)."""
    if "MOTO_ACCOUNT_ID" in os.environ or "HTTP_X_MOTO_ACCOUNT_ID" in environ or environ.get("QUERY_STRING"):
        return None
    if b"AWSAccessKeyId" in body:  # moto parses a body as a query string too
        return None
    url = f"{environ.get('HTTP_HOST', '')}{environ.get('PATH_INFO', '')}"
    if _REGION_IN_URL.get().search(url) or _REGION_IN_AGENT.get().search(environ.get("HTTP_USER_AGENT", "")):
        return None
    authorization = environ.get("HTTP_AUTHORIZATION", "")
    if "AWS4" not in authorization:
        return None
    try:
        region = authorization.split(",")[0].split("/")[2]
    except IndexError:
        return None
    match = _ACCESS_KEY.get().search(authorization)
    access_key = match.group(1) if match else _NO_ACCESS_KEY
    return _ACCOUNT_OF_KEY.get()(access_key), region, access_key
