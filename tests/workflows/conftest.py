"""Harness that runs the real statemachines/*.asl.json on moto's Step Functions engine.

Three things listen on 127.0.0.1:

- the engine `make dev` runs: ``python -m local.stepfunctions.server`` (moto's server, its interpreter
  patched by local/stepfunctions/moto_patches, sped up unless LOCAL_MOTO_TUNING=off), with ``execute_state_machine``
  on, runs the executions;
- a fake Lambda service: moto's engine sends its Lambda invokes to ``http://localhost:$MOTO_PORT``, so
  ``MOTO_PORT`` names this server, which runs the REAL task handler (send_connection_id) in-process and
  answers like Lambda (a handler exception becomes an error payload with ``X-Amz-Function-Error:
  Unhandled``, whose ``errorType`` Step Functions uses as the error name);
- a fake API Gateway @connections endpoint (same server) that records the frames each connection got
  and can be scripted to answer 400 (BadRequestException), 403 (ForbiddenException), 410
  (GoneException) or 429 (LimitExceededException). Two clients reach it: the handler's
  ``apigatewaymanagementapi`` client under ``/<stage>/@connections/{id}``, and message_fanout's
  ``apigateway:invoke`` tasks, which moto's engine sends (with ``requests``) to
  ``{ApiEndpoint}/{Stage}/_user_request_/{Path}`` (joined with ``urljoin``, which folds the Path's
  leading slash): the harness substitutes this server's URL for ``${ConnectionsApiEndpoint}``, so
  posts arrive at ``/<stage>/_user_request_/@connections/{id}/``. A non-200 answer fails such a task
  with the error ``ApiGateway.<status>``, the name AWS documents for the integration.

The handlers' @connections client is rebuilt to point at the fake, configured as deployed (one try per
call: every scripted 429 reaches the state machine's Retry, which is what is under test).
"""

import itertools
import json
import os
import subprocess
import sys
import threading
import time
import traceback
import urllib.parse
import urllib.request
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
import send_connection_id
from chat.clients import connections_client

from cdk.definitions import deployed_definition
from local.intrinsics import substitute_definition
from local.stepfunctions.client import local_stepfunctions_client

PROJECT_ROOT = Path(__file__).resolve().parents[2]
LOOPBACK = "127.0.0.1"
STAGE = "dev"
REGION = os.environ["AWS_DEFAULT_REGION"]
ACCOUNT = "123456789012"
EXECUTION_DEADLINE_SECONDS = 60


def function_arn(name: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


# ASL placeholder -> (Lambda function name, real handler), as CloudFormation substitutes them.
TASK_FUNCTIONS: dict[str, tuple[str, Callable[[dict, Any], dict]]] = {
    "SendConnectionIdFunctionArn": ("chat-test-SendConnectionId", send_connection_id.handler),
}
WORKFLOWS = ("connection_handshake", "message_fanout")


# --- fake API Gateway @connections -----------------------------------------------------------


class FakeConnections:
    """The @connections API of one stage: records every post, answers as scripted (200 by default)."""

    ERRORS: ClassVar[dict[int, tuple[str, str]]] = {
        # Not in the @connections service model: botocore raises a plain ClientError for it.
        400: ("BadRequestException", "Invalid connectionId"),
        403: ("ForbiddenException", "Forbidden"),
        410: ("GoneException", "The connection is not open"),
        429: ("LimitExceededException", "Rate exceeded"),
    }

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._frames: dict[str, list[dict]] = defaultdict(list)
            self._attempts: dict[str, list[int]] = defaultdict(list)
            self._scripts: dict[str, list[int]] = {}
            self._gone: set[str] = set()

    def fail(self, connection_id: str, status: int, times: int = 1) -> None:
        """Answer the next ``times`` posts to ``connection_id`` with ``status`` (400, 403, 410 or 429)."""
        assert status in self.ERRORS
        with self._lock:
            self._scripts.setdefault(connection_id, []).extend([status] * times)

    def gone(self, connection_id: str) -> None:
        """Answer every post to ``connection_id`` with 410: the client has left."""
        with self._lock:
            self._gone.add(connection_id)

    def frames(self, connection_id: str) -> list[dict]:
        """The frames ``connection_id`` received, in order."""
        with self._lock:
            return list(self._frames.get(connection_id, []))

    def attempts(self, connection_id: str) -> list[int]:
        """The status answered to each post to ``connection_id``, in order."""
        with self._lock:
            return list(self._attempts.get(connection_id, []))

    def connections_posted_to(self) -> set[str]:
        with self._lock:
            return set(self._attempts)

    def answer(self, connection_id: str, data: bytes) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            script = self._scripts.get(connection_id) or []
            if connection_id in self._gone:
                status = 410
            elif script:
                status = script.pop(0)
            else:
                status = 200
            self._attempts[connection_id].append(status)
            if status == 200:
                self._frames[connection_id].append(json.loads(data))
                return 200, {}, b""
        error_type, message = self.ERRORS[status]
        body = json.dumps({"message": message}).encode()
        return status, {"x-amzn-ErrorType": error_type, "Content-Type": "application/json"}, body


# --- fake Lambda service ---------------------------------------------------------------------


@dataclass
class HandlerCall:
    """One call of a task handler by the fake Lambda service, as recorded for assertions."""

    function_name: str
    event: dict
    error_type: str | None


class FakeLambda:
    """Runs the real handlers in-process; one at a time per function, as in one execution environment."""

    def __init__(self, make_context: Callable[..., Any]) -> None:
        self._make_context = make_context
        self._functions = {name: handler for name, handler in TASK_FUNCTIONS.values()}
        self._function_locks = {name: threading.Lock() for name in self._functions}
        self._lock = threading.Lock()
        self.invocations: list[HandlerCall] = []

    def reset(self) -> None:
        with self._lock:
            self.invocations = []

    def function_name(self, name_or_arn: str) -> str | None:
        name = name_or_arn
        if name.startswith("arn:"):
            parts = name.split(":")  # arn:aws:lambda:region:account:function:name[:qualifier]
            name = parts[6] if len(parts) >= 7 else ""
        return name if name in self._functions else None

    def invoke(self, name: str, payload: bytes) -> tuple[int, dict[str, str], bytes]:
        event = json.loads(payload or b"{}")
        context = self._make_context(function_name=name, invoked_function_arn=function_arn(name))
        error_type = None
        with self._function_locks[name]:
            try:
                result = self._functions[name](event, context)
                headers, body = {}, json.dumps(result)
            except Exception as error:
                error_type = type(error).__name__
                headers = {"X-Amz-Function-Error": "Unhandled"}
                body = json.dumps(
                    {
                        "errorMessage": str(error),
                        "errorType": error_type,
                        "requestId": context.aws_request_id,
                        "stackTrace": traceback.format_tb(error.__traceback__),
                    }
                )
        with self._lock:
            self.invocations.append(HandlerCall(name, event, error_type))
        return 200, {"Content-Type": "application/json", "X-Amz-Executed-Version": "$LATEST", **headers}, body.encode()


class _LoopbackHandler(BaseHTTPRequestHandler):
    server: "_LoopbackServer"
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        path = urllib.parse.urlsplit(self.path).path
        parts = path.split("/")
        # /2015-03-31/functions/{name or url-encoded ARN}/invocations
        if len(parts) == 5 and parts[1] == "2015-03-31" and parts[2] == "functions" and parts[4] == "invocations":
            name = self.server.lambdas.function_name(urllib.parse.unquote(parts[3]))
            if name is None:
                self._send(404, {"x-amzn-ErrorType": "ResourceNotFoundException"}, b'{"Message":"no such function"}')
            else:
                self._send(*self.server.lambdas.invoke(name, body))
            return
        # /{stage}/@connections/{url-encoded connection id}: the handler's boto3 client
        if len(parts) == 4 and parts[1] == STAGE and urllib.parse.unquote(parts[2]) == "@connections":
            self._send(*self.server.connections.answer(urllib.parse.unquote(parts[3]), body))
            return
        # /{stage}/_user_request_/@connections/{connection id}/: moto's apigateway:invoke (the trailing
        # slash is where moto appends the query string, empty here)
        if len(parts) == 6 and parts[1:4] == [STAGE, "_user_request_", "@connections"] and parts[5] == "":
            self._send(*self.server.connections.answer(urllib.parse.unquote(parts[4]), body))
            return
        self._send(404, {}, b'{"message":"not found"}')

    def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass


class _LoopbackServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, lambdas: FakeLambda, connections: FakeConnections) -> None:
        super().__init__((LOOPBACK, 0), _LoopbackHandler)
        self.lambdas = lambdas
        self.connections = connections


# --- executions ------------------------------------------------------------------------------


@dataclass
class Execution:
    arn: str
    status: str
    input: dict
    output: Any
    history: list[dict]

    def events(self, event_type: str) -> list[dict]:
        return [event for event in self.history if event["type"] == event_type]

    def task_errors(self) -> list[str]:
        return [event["taskFailedEventDetails"]["error"] for event in self.events("TaskFailed")]


class WorkflowHarness:
    def __init__(self, make_context: Callable[..., Any]) -> None:
        self.connections = FakeConnections()
        self.lambdas = FakeLambda(make_context)
        self._server = _LoopbackServer(self.lambdas, self.connections)
        self._server_thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._engine: subprocess.Popen | None = None
        self._names = itertools.count()
        self.state_machine_arns: dict[str, str] = {}

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def callback_url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}/{STAGE}"

    @property
    def loopback_url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def start(self) -> None:
        self._server_thread.start()
        self._start_engine()
        self._configure_moto(execute_state_machine=True)
        self.stepfunctions = local_stepfunctions_client(self.moto_url, REGION)
        self.connections_client = connections_client(self.callback_url)
        role = f"arn:aws:iam::{ACCOUNT}:role/chat-test-workflows"
        for workflow in WORKFLOWS:
            response = self.stepfunctions.create_state_machine(
                name=f"chat-test-{workflow}",
                definition=self.definition(workflow),
                roleArn=role,
                type="EXPRESS",
            )
            self.state_machine_arns[workflow] = response["stateMachineArn"]

    def stop(self) -> None:
        if self._engine is not None:
            self._engine.stdin.close()  # the server's signal to stop
            self._engine.wait(timeout=30)
        self._server.shutdown()
        self._server.server_close()

    def _start_engine(self) -> None:
        """The Step Functions server process; its Lambda tasks come to this harness (MOTO_PORT)."""
        self._engine = subprocess.Popen(
            [sys.executable, "-m", "local.stepfunctions.server", "0"],
            cwd=PROJECT_ROOT,
            env={**os.environ, "MOTO_PORT": str(self.port)},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        ready = self._engine.stdout.readline().split()
        if len(ready) != 2 or ready[0] != "ready":
            pytest.fail(f"the Step Functions server did not start (exit code {self._engine.wait()}); see its stderr")
        self.moto_url = f"http://{LOOPBACK}:{ready[1]}"

    def reset(self) -> None:
        self.connections.reset()
        self.lambdas.reset()

    def _configure_moto(self, *, execute_state_machine: bool) -> None:
        request = urllib.request.Request(
            f"{self.moto_url}/moto-api/config",
            data=json.dumps({"stepfunctions": {"execute_state_machine": execute_state_machine}}).encode(),
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status < 300

    def run(self, workflow: str, execution_input: dict, name: str | None = None) -> Execution:
        """Start an execution (always named: moto needs it), wait for its end, return what it did."""
        name = name or f"test-{next(self._names)}-{uuid.uuid4().hex[:12]}"
        arn = self.stepfunctions.start_execution(
            stateMachineArn=self.state_machine_arns[workflow], name=name, input=json.dumps(execution_input)
        )["executionArn"]
        deadline = time.monotonic() + EXECUTION_DEADLINE_SECONDS
        while True:
            description = self.stepfunctions.describe_execution(executionArn=arn)
            if description["status"] != "RUNNING":
                break
            if time.monotonic() > deadline:
                raise AssertionError(f"{workflow} execution {name} still RUNNING after {EXECUTION_DEADLINE_SECONDS}s")
            time.sleep(0.05)
        output = description.get("output")
        return Execution(
            arn=arn,
            status=description["status"],
            input=execution_input,
            output=json.loads(output) if output else None,
            history=self._history(arn),
        )

    def _history(self, arn: str) -> list[dict]:
        events, token = [], None
        while True:
            page = self.stepfunctions.get_execution_history(
                executionArn=arn, maxResults=1000, **({"nextToken": token} if token else {})
            )
            events += page["events"]
            token = page.get("nextToken")
            if not token:
                return events

    def definition(self, workflow: str) -> str:
        """The deployed definition with its ${...} placeholders substituted as CloudFormation does (by the
        local runtime's substitution, which refuses a placeholder without a value), @connections being
        this harness's server."""
        substitutions = {placeholder: function_arn(name) for placeholder, (name, _) in TASK_FUNCTIONS.items()}
        substitutions |= {"ConnectionsApiEndpoint": self.loopback_url, "ConnectionsStage": STAGE}
        return substitute_definition(deployed_definition(workflow), substitutions, f"{workflow} (as deployed)")


@pytest.fixture(scope="session")
def workflow_harness(make_lambda_context):
    harness = WorkflowHarness(make_lambda_context)
    harness.start()
    yield harness
    harness.stop()


@pytest.fixture
def workflows(workflow_harness, monkeypatch) -> WorkflowHarness:
    """The harness, wired for one test: fresh records and scripts, task handlers posting to the fake."""
    workflow_harness.reset()
    monkeypatch.setattr(send_connection_id, "connections", workflow_harness.connections_client)
    return workflow_harness


# --- inputs as the route handlers start them -------------------------------------------------


def _started_input(stub_client, module, invoke: Callable[[], dict]) -> dict:
    stub = stub_client(module, "stepfunctions", "stepfunctions")
    stub.stubber.add_response(
        "start_execution",
        {"executionArn": f"arn:aws:states:{REGION}:{ACCOUNT}:execution:x:y", "startDate": "2026-11-29T12:00:00Z"},
    )
    response = invoke()
    assert response["statusCode"] == 200, response
    (params,) = stub.params("StartExecution")
    return json.loads(params["input"])


@pytest.fixture
def handshake_input(events, lambda_context, stub_client) -> Callable[[str], dict]:
    """The input on_connect starts connection_handshake with, for a client connecting as ``connection_id``."""
    import on_connect

    def build(connection_id: str) -> dict:
        event = events.connect(connection_id=connection_id)
        return _started_input(stub_client, on_connect, lambda: on_connect.handler(event, lambda_context))

    return build


@pytest.fixture
def fanout_input(events, lambda_context, stub_client) -> Callable[..., dict]:
    """The input send_message starts message_fanout with, for ``body`` sent by ``sender``."""
    import send_message

    def build(sender: str, body: dict) -> dict:
        event = events.send_message({"action": "sendMessage", **body}, connection_id=sender)
        return _started_input(stub_client, send_message, lambda: send_message.handler(event, lambda_context))

    return build
