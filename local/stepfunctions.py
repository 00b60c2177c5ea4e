"""Step Functions, locally: moto's ASL interpreter (JSONPath) serving the stack's state machines.

moto sends the Lambda tasks of its executions to http://localhost:$MOTO_PORT, so MOTO_PORT names
the gateway's port, where the local Lambda service answers Lambda's Invoke API. The history of every
execution streams to the terminal, like the console's execution history.
"""

import json
import os
import subprocess
import sys
import threading
from datetime import datetime

import boto3
import requests
from botocore.config import Config

from local.console import Console
from local.synth import PROJECT_ROOT
from local.template import StackModel

_EXECUTION_ENDED = {"ExecutionSucceeded", "ExecutionFailed", "ExecutionTimedOut", "ExecutionAborted"}


def stepfunctions_client(endpoint_url: str, region: str):
    return boto3.client(
        "stepfunctions",
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id="local",
        aws_secret_access_key="local",
        config=Config(retries={"max_attempts": 2}),
    )


class StepFunctionsService:
    """Runs local.stepfunctions_server and creates the stack's state machines in it."""

    def __init__(self, model: StackModel, console: Console, *, lambda_port: int):
        self._model = model
        self._console = console
        self._lambda_port = lambda_port
        self._process: subprocess.Popen | None = None
        self._log_thread: threading.Thread | None = None
        self._history: HistoryPrinter | None = None
        self.endpoint_url = ""

    def start(self, *, print_history: bool = True) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "local.stepfunctions_server", "0"],
            cwd=PROJECT_ROOT,
            env={**os.environ, "MOTO_PORT": str(self._lambda_port)},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._log_thread = threading.Thread(target=self._forward_errors, name="stepfunctions-log", daemon=True)
        self._log_thread.start()
        ready = self._process.stdout.readline().split()
        if len(ready) != 2 or ready[0] != "ready":
            raise RuntimeError(f"the Step Functions server did not start (exit code {self._process.wait()})")
        self.endpoint_url = f"http://127.0.0.1:{ready[1]}"
        response = requests.post(
            f"{self.endpoint_url}/moto-api/config",
            json={"stepfunctions": {"execute_state_machine": True}},
            timeout=10,
        )
        response.raise_for_status()
        client = stepfunctions_client(self.endpoint_url, self._model.region)
        names = {}
        for spec in self._model.state_machines.values():
            created = client.create_state_machine(
                name=spec.name, definition=spec.definition, roleArn=spec.role_arn, type=spec.type
            )
            if created["stateMachineArn"] != spec.arn:
                raise RuntimeError(f"state machine {spec.logical_id}: moto gave {created['stateMachineArn']}")
            names[spec.arn] = spec.display_name
        if print_history:
            self._history = HistoryPrinter(client, names, self._console)
            self._history.start()

    def _forward_errors(self) -> None:
        for line in self._process.stderr:
            self._console.line("stepfunctions", line)

    def stop(self) -> None:
        if self._history is not None:
            self._history.stop()
        if self._process is not None:
            self._process.stdin.close()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()


class HistoryPrinter(threading.Thread):
    """Streams each execution's history events to the terminal, prefixed by the state machine."""

    def __init__(self, client, names: dict[str, str], console: Console, interval: float = 0.2):
        super().__init__(name="execution-history", daemon=True)
        self._client = client
        self._names = names
        self._console = console
        self._interval = interval
        self._printed: dict[str, int] = {}
        self._unfinished: dict[str, dict[str, str]] = {}  # per state machine: execution ARN -> name
        self._finished: set[str] = set()
        self._stopping = threading.Event()

    def stop(self) -> None:
        self._stopping.set()
        self.join(timeout=5)

    def run(self) -> None:
        while not self._stopping.wait(self._interval):
            for arn, name in self._names.items():
                try:
                    self._print_new_events(arn, name)
                except Exception as error:  # the printer must never stop the runtime
                    self._console.line(name, f"(history unavailable: {error})")

    def _print_new_events(self, state_machine_arn: str, name: str) -> None:
        # The newest page finds new executions; unfinished ones are followed until they end, even
        # when a burst pushes them off that page.
        unfinished = self._unfinished.setdefault(state_machine_arn, {})
        newest = self._client.list_executions(stateMachineArn=state_machine_arn, maxResults=100)["executions"]
        for execution in reversed(newest):
            if execution["executionArn"] not in self._finished:
                unfinished.setdefault(execution["executionArn"], execution["name"])
        for arn, execution_name in list(unfinished.items()):
            events = self._client.get_execution_history(executionArn=arn, maxResults=1000)["events"]
            for event in events[self._printed.get(arn, 0) :]:
                self._console.line(name, f"{execution_name[:24]:24} {describe_event(event)}")
            self._printed[arn] = len(events)
            if events and events[-1]["type"] in _EXECUTION_ENDED:
                self._finished.add(arn)
                self._printed.pop(arn, None)
                del unfinished[arn]


def describe_event(event: dict) -> str:
    """One line for a history event: type, state or error, and output when the execution ends."""
    text = event["type"]
    for key, value in event.items():
        if not key.endswith("EventDetails") or not isinstance(value, dict):
            continue
        if "name" in value:
            text += f" {value['name']}"
        if "error" in value:
            text += f" error={value['error']}"
        if event["type"] == "ExecutionSucceeded" and "output" in value:
            text += f" output={_shorten(value['output'])}"
    return text


def _shorten(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def format_time(value: datetime | None) -> str:
    return value.astimezone().strftime("%H:%M:%S.%f")[:-3] if value else "-"


def describe_history(events: list[dict]) -> list[str]:
    """The console's execution history as text lines: id, time, type, details."""
    lines = []
    for event in events:
        details = {key: value for key, value in event.items() if key.endswith("EventDetails")}
        detail_text = json.dumps(details, default=str) if details else ""
        lines.append(f"{event['id']:>4}  {format_time(event.get('timestamp'))}  {event['type']:<28} {detail_text}")
    return lines
