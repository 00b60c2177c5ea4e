"""The Step Functions process of the local runtime, driven by boto3 as the functions drive it.

Its state machines here are small ones of the tests' own (no Lambda tasks), so that each test can
start executions by the hundred and watch what reaches the terminal.
"""

import http.client
import io
import json
import os
import re
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from local.console import Console
from local.stepfunctions.client import local_stepfunctions_client
from local.stepfunctions.service import StepFunctionsService
from local.template import StackModel, StateMachineSpec, WebSocketApiSpec
from tests.e2e.conftest import answer

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's account
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/local"


def _machine(name: str, definition: dict) -> StateMachineSpec:
    return StateMachineSpec(
        logical_id=name,
        display_name=name,
        name=name,
        arn=f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{name}",
        definition=json.dumps(definition),
        type="EXPRESS",
        role_arn=ROLE_ARN,
    )


QUICK = _machine("Quick", {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}})
SLOW = _machine("Slow", {"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 30, "End": True}}})
TIMED = _machine(
    "Timed",
    {"TimeoutSeconds": 1, "StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 5, "End": True}}},
)
INVOKE = _machine(
    "Invoke",
    {
        "StartAt": "Call",
        "States": {
            "Call": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName.$": "$.function", "Payload": {"asked.$": "$.function"}},
                "ResultSelector": {"answer.$": "$.Payload"},
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Failed"}],
                "End": True,
            },
            "Failed": {"Type": "Pass", "Parameters": {"error.$": "$.error.Error"}, "End": True},
        },
    },
)
MODEL = StackModel(
    stack_name="Test",
    region=REGION,
    account=ACCOUNT,
    functions={},
    state_machines={spec.logical_id: spec for spec in (QUICK, SLOW, TIMED, INVOKE)},
    api=WebSocketApiSpec(
        logical_id="Api", api_id="api", name="api", route_selection_expression="$request.body.action", stage="dev"
    ),
)


class Terminal(io.StringIO):
    """What the runtime's console wrote, readable while it writes."""

    def __init__(self):
        super().__init__()
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        with self._lock:
            return super().write(text)

    def text(self) -> str:
        with self._lock:
            return self.getvalue()


@pytest.fixture
def terminal():
    return Terminal()


class _LambdaInvokeApi(BaseHTTPRequestHandler):
    """Lambda's Invoke API as the runtime answers it: a result, a function error, or a throttle."""

    def do_POST(self) -> None:
        function = self.path.split("/")[3]
        payload = self.rfile.read(int(self.headers["Content-Length"]))
        headers, status = {}, 200
        if function == "works":
            body = {"echoed": json.loads(payload)}
        elif function == "raises":
            body, headers = {"errorType": "Boom", "errorMessage": "it broke"}, {"X-Amz-Function-Error": "Unhandled"}
        else:
            body, status = {"message": "Rate exceeded"}, 429
            headers = {"x-amzn-ErrorType": "TooManyRequestsException"}
        answer(self, status, json.dumps(body).encode(), headers)

    def log_message(self, format: str, *args) -> None:  # quiet
        pass


@pytest.fixture(scope="module")
def lambda_port():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _LambdaInvokeApi)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()


@pytest.fixture
def service(terminal, lambda_port):
    console = Console(terminal)
    service = StepFunctionsService(MODEL, console, lambda_port=lambda_port, api_endpoints={}, keep_executions=20)
    service.start(print_history=True)
    yield service
    service.stop()
    console.close()


def _client(service: StepFunctionsService):
    return local_stepfunctions_client(service.endpoint_url, REGION)


def _start(client, spec: StateMachineSpec, name: str) -> str:
    return client.start_execution(stateMachineArn=spec.arn, name=name, input="{}")["executionArn"]


def _wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def _ended_lines(terminal: Terminal) -> list[str]:
    return re.findall(r"^\[Quick\] (\S+)\s+ExecutionSucceeded", terminal.text(), re.MULTILINE)


def test_a_caller_keeps_its_connection_from_one_call_to_the_next(service):
    host, port = service.endpoint_url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    headers = {
        "X-Amz-Target": "AWSStepFunctions.ListStateMachines",
        "Content-Type": "application/x-amz-json-1.0",
        "Authorization": f"AWS4-HMAC-SHA256 Credential=local/20260101/{REGION}/states/aws4_request, Signature=0",
    }
    answers = []
    for _ in range(3):
        connection.request("POST", "/", body=b"{}", headers=headers)
        answer = connection.getresponse()
        answers.append((answer.status, answer.getheader("Connection"), len(json.loads(answer.read())["stateMachines"])))
        assert not answer.will_close
    socket_used = connection.sock
    assert answers == [(200, None, 4)] * 3
    assert connection.sock is socket_used  # one TCP connection for every call
    connection.close()


def test_every_execution_end_reaches_the_terminal_under_a_burst(service, terminal):
    client = _client(service)
    names = [f"burst-{number}" for number in range(600)]
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda name: _start(client, QUICK, name), names))

    _wait_for(lambda: len(_ended_lines(terminal)) >= len(names), 60, "an end line for every execution")
    assert sorted(_ended_lines(terminal)) == sorted(names)


def test_keeps_only_the_most_recent_executions_and_never_a_running_one(service):
    client = _client(service)
    running = [_start(client, SLOW, f"slow-{number:02}") for number in range(25)]
    for number in range(50):
        _start(client, QUICK, f"quick-{number:02}")

    def listed(spec: StateMachineSpec) -> list[str]:
        return [e["name"] for e in client.list_executions(stateMachineArn=spec.arn)["executions"]]

    _wait_for(lambda: len(listed(QUICK)) <= 20, 30, "old executions to be forgotten")
    assert sorted(listed(QUICK)) == [f"quick-{number:02}" for number in range(30, 50)]
    assert len(listed(SLOW)) == 25  # over the limit, but none has ended
    assert client.describe_execution(executionArn=running[0])["status"] == "RUNNING"


def test_a_killed_step_functions_process_is_restarted_and_says_what_was_lost(service, terminal):
    client = _client(service)
    _start(client, SLOW, "in-flight")
    time.sleep(0.5)
    os.kill(service.process_id, signal.SIGKILL)

    _wait_for(lambda: "restarted" in terminal.text(), 30, "the restart to be announced")
    _start(client, QUICK, "after-restart")  # the same endpoint, its state machines re-created
    _wait_for(lambda: "after-restart" in _ended_lines(terminal), 30, "an execution after the restart")
    text = terminal.text()
    restarts = [line for line in text.splitlines() if "restarted" in line]
    assert len(restarts) == 1 and "in-flight" in restarts[0], text
    assert "unavailable" not in text


def test_a_state_machine_timeout_still_times_it_out(service, terminal):
    client = _client(service)
    arn = _start(client, TIMED, "too-slow")

    _wait_for(lambda: client.describe_execution(executionArn=arn)["status"] != "RUNNING", 10, "the timeout")
    assert client.describe_execution(executionArn=arn)["status"] == "TIMED_OUT"
    _wait_for(lambda: "ExecutionTimedOut" in terminal.text(), 10, "the end line")


@pytest.mark.parametrize(
    ("function", "output"),
    [
        ("works", {"answer": {"echoed": {"asked": "works"}}}),
        ("raises", {"error": "Boom"}),
        ("throttled", {"error": "Lambda.TooManyRequestsException"}),
    ],
)
def test_lambda_tasks_get_the_invoke_apis_answers_and_errors_by_their_names(service, function, output):
    client = _client(service)
    arn = client.start_execution(stateMachineArn=INVOKE.arn, name=function, input=json.dumps({"function": function}))[
        "executionArn"
    ]

    _wait_for(lambda: client.describe_execution(executionArn=arn)["status"] != "RUNNING", 20, "the execution")
    described = client.describe_execution(executionArn=arn)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == output
