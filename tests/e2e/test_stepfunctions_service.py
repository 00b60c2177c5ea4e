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
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import pytest

from local.console import Console
from local.state import RuntimeState, state_file, write_state
from local.stepfunctions.client import local_stepfunctions_client
from local.stepfunctions.service import StepFunctionsService
from local.template import StackModel, StateMachineSpec, WebSocketApiSpec
from tests.e2e.conftest import PROJECT_ROOT, answer

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


@pytest.fixture
def two_interpreters(terminal, lambda_port):
    console = Console(terminal)
    service = StepFunctionsService(
        MODEL, console, lambda_port=lambda_port, api_endpoints={}, keep_executions=100, interpreters=2
    )
    service.start(print_history=True)
    yield service
    service.stop()
    console.close()


def _listed(url: str, spec: StateMachineSpec) -> list[str]:
    client = local_stepfunctions_client(url, REGION)
    return [e["name"] for e in client.list_executions(stateMachineArn=spec.arn)["executions"]]


def test_a_busy_primary_shares_executions_with_a_secondary_and_every_one_is_seen(two_interpreters, terminal):
    primary, secondary = two_interpreters.endpoint_urls
    client = local_stepfunctions_client(primary, REGION)  # the functions' endpoint
    _start(client, SLOW, "one-at-a-time")
    assert _listed(primary, SLOW) == ["one-at-a-time"] and _listed(secondary, SLOW) == []  # not busy yet

    names = [f"shared-{number:02}" for number in range(20)]
    for name in names:
        _start(client, QUICK, name)

    _wait_for(lambda: len(_ended_lines(terminal)) >= len(names), 30, "an end line for every execution")
    assert sorted(_ended_lines(terminal)) == names
    here, there = _listed(primary, QUICK), _listed(secondary, QUICK)
    assert sorted(here + there) == names  # each ran once, in one of them
    assert len(there) == len(names) // 2  # turns between the two while the primary was busy
    described = local_stepfunctions_client(secondary, REGION).describe_execution(
        executionArn=f"{QUICK.arn.replace(':stateMachine:', ':execution:')}:{there[0]}"
    )
    assert described["status"] == "SUCCEEDED"


def test_every_interpreter_reaches_one_backend_for_the_other_services(two_interpreters):
    primary, secondary = two_interpreters.endpoint_urls

    def dynamodb(url: str):
        return boto3.client(
            "dynamodb", endpoint_url=url, region_name=REGION, aws_access_key_id="local", aws_secret_access_key="local"
        )

    dynamodb(secondary).create_table(
        TableName="registry",
        KeySchema=[{"AttributeName": "connection_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "connection_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb(secondary).put_item(TableName="registry", Item={"connection_id": {"S": "abc"}})

    assert dynamodb(primary).get_item(TableName="registry", Key={"connection_id": {"S": "abc"}})["Item"] == {
        "connection_id": {"S": "abc"}
    }
    assert dynamodb(secondary).list_tables()["TableNames"] == dynamodb(primary).list_tables()["TableNames"]


def test_a_killed_secondary_is_restarted_and_the_primary_runs_everything_meanwhile(two_interpreters, terminal):
    primary, _ = two_interpreters.endpoint_urls
    client = local_stepfunctions_client(primary, REGION)
    _start(client, SLOW, "keeps-the-primary-busy")
    os.kill(two_interpreters.process_ids[1], signal.SIGKILL)
    for number in range(6):  # some are turned to the secondary while it is down: the primary runs them
        _start(client, QUICK, f"meanwhile-{number}")

    _wait_for(lambda: "(interpreter 2) exited" in terminal.text(), 30, "the secondary's restart")
    _wait_for(lambda: len(_ended_lines(terminal)) >= 6, 30, "every execution's end")
    assert sorted(_ended_lines(terminal)) == [f"meanwhile-{number}" for number in range(6)]


def test_executions_lists_and_shows_the_executions_of_every_interpreter(two_interpreters, terminal, tmp_path):
    primary, secondary = two_interpreters.endpoint_urls
    client = local_stepfunctions_client(primary, REGION)
    _start(client, SLOW, "keeps-the-primary-busy")
    names = [f"listed-{number}" for number in range(4)]
    for name in names:
        _start(client, QUICK, name)
    _wait_for(lambda: len(_ended_lines(terminal)) >= len(names), 30, "every execution's end")
    in_secondary = _listed(secondary, QUICK)
    assert in_secondary
    write_state(
        state_file(tmp_path, "dev"),
        RuntimeState(
            stack="Test",
            region=REGION,
            websocket_url="ws://127.0.0.1:1/dev",
            gateway_url="http://127.0.0.1:1",
            stepfunctions_url=primary,
            interpreter_urls=two_interpreters.endpoint_urls,
            state_machines={spec.arn: spec.display_name for spec in MODEL.state_machines.values()},
        ),
    )

    def executions(*args: str) -> str:
        command = [sys.executable, "-m", "local", "executions", *args, "--state-dir", str(tmp_path)]
        return subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, check=True).stdout

    listing = executions()
    assert all(name in listing for name in [*names, "keeps-the-primary-busy"])
    shown = executions(in_secondary[0])
    assert f"execution  {in_secondary[0]}" in shown and "ExecutionSucceeded" in shown
