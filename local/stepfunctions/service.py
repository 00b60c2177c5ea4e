"""Step Functions, locally: moto's ASL interpreter (JSONPath) serving the stack's state machines.

moto sends the Lambda tasks of its executions to http://localhost:$MOTO_PORT, so MOTO_PORT names
the gateway's port, where the local Lambda service answers Lambda's Invoke API. The process pushes
each execution's start and end (local.stepfunctions.feed); its history goes to the terminal when it
ends, like the console's execution history. Nothing polls the engine.

Under a burst one process saturates (the GIL) while other cores idle: with ``interpreters`` above 1,
secondary processes run a share of the executions (local.stepfunctions.interpreters); the functions
still call the primary, and every process feeds its executions' ends to the terminal.

Each process is supervised: when it dies, it is started again on the same port (the functions keep
their endpoint), its state machines are created again, and one line says so and names the
executions that were in flight (they are lost with the process, as their histories are).
"""

import json
import os
import subprocess
import sys
import threading
import time

import requests

from cdk.definitions import CONNECTIONS_POST, task_states
from local.console import Console
from local.stepfunctions import DEFAULT_KEEP_EXECUTIONS
from local.stepfunctions.client import local_stepfunctions_client
from local.stepfunctions.history import HistoryPrinter
from local.stepfunctions.interpreters import INTERPRETERS_PATH
from local.stepfunctions.tables import create_tables
from local.stepfunctions.user_pools import ID_STRATEGY_ENVIRONMENT, create_user_pools
from local.synth import PROJECT_ROOT
from local.template import StackModel
from local.template_errors import UnsupportedTemplate

_RESTARTS_BEFORE_GIVING_UP = 3  # in a row, each within a minute of the previous one
_QUICK_DEATH_SECONDS = 60
# glibc's malloc gives threads arenas of their own (up to 8 a core), and memory freed in one stays with it. The
# interpreter's threads (one per running execution, cheroot's) allocate while holding the GIL, so more arenas
# than two spare them no waiting; with two, the process held about 10 MB less after a burst (bench/, rss of
# 200 x 20: 155-157 MB, not 166-167), at the same CPU per message. Other C libraries ignore the variable.
_MALLOC_ENVIRONMENT = {"MALLOC_ARENA_MAX": "2"}


class _Interpreter:
    """One process of the service: its port (kept across restarts), and its executions in flight."""

    def __init__(self, number: int):
        self.number = number  # 1: the primary
        self.port = 0
        self.process: subprocess.Popen | None = None
        self.in_flight: dict[str, str] = {}  # execution ARN -> "StateMachine/name"
        self.supervisor: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def name(self) -> str:
        return "the Step Functions process" + ("" if self.number == 1 else f" (interpreter {self.number})")


class StepFunctionsService:
    """Runs local.stepfunctions.server (``interpreters`` of them: a primary and its secondaries,
    local.stepfunctions.interpreters), creates the stack's state machines in each, restarts one when it dies."""

    def __init__(
        self,
        model: StackModel,
        console: Console,
        *,
        lambda_port: int,
        api_endpoints: dict[str, str],
        keep_executions: int = DEFAULT_KEEP_EXECUTIONS,
        interpreters: int = 1,
    ):
        """``api_endpoints``: AWS host of an API -> local origin serving it, for apigateway:invoke tasks."""
        self._model = model
        self._console = console
        self._lambda_port = lambda_port
        self._api_endpoints = api_endpoints
        self._keep_executions = keep_executions
        self._names = {spec.arn: spec.display_name for spec in model.state_machines.values()}
        self._interpreters = [_Interpreter(number) for number in range(1, interpreters + 1)]
        self._history: HistoryPrinter | None = None
        self._stopping = threading.Event()
        self.endpoint_url = ""
        # The template model's user pool and client ids -> moto's (local.stepfunctions.user_pools).
        self.cognito_ids: dict[str, str] = {}

    @property
    def process_id(self) -> int | None:
        """The primary's."""
        primary = self._interpreters[0].process
        return primary.pid if primary else None

    @property
    def process_ids(self) -> list[int]:
        """Every interpreter's, the primary's first."""
        return [interpreter.process.pid for interpreter in self._interpreters if interpreter.process]

    @property
    def endpoint_urls(self) -> list[str]:
        """Every interpreter's, the primary's first: each lists and describes its own executions."""
        return [interpreter.url for interpreter in self._interpreters if interpreter.port]

    def start(self, *, print_history: bool = True) -> None:
        if print_history:
            self._history = HistoryPrinter(self._names, self._console)
        for interpreter in self._interpreters:
            self._launch(interpreter)
        self._introduce_secondaries()
        for interpreter in self._interpreters:
            interpreter.supervisor = threading.Thread(
                target=self._supervise, args=(interpreter,), name="stepfunctions", daemon=True
            )
            interpreter.supervisor.start()

    def _launch(self, interpreter: _Interpreter) -> None:
        """Start the process on its port (any free one the first time) and create the state machines."""
        primary = self._interpreters[0]
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "local.stepfunctions.server", str(interpreter.port)),
                *("--keep-executions", str(self._keep_executions)),
                *(("--primary", primary.url) if interpreter is not primary else ()),
            ],
            cwd=PROJECT_ROOT,
            env={**os.environ, **ID_STRATEGY_ENVIRONMENT, **_MALLOC_ENVIRONMENT, "MOTO_PORT": str(self._lambda_port)},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # a terminal's Ctrl-C is the runtime's to handle: it stops this process
        )
        threading.Thread(target=self._forward_errors, args=(process,), name="stepfunctions-log", daemon=True).start()
        ready = process.stdout.readline().split()
        if len(ready) != 2 or ready[0] != "ready":
            process.stdin.close()
            raise RuntimeError(f"the Step Functions server did not start (exit code {process.wait()})")
        interpreter.process = process
        interpreter.port = int(ready[1])
        if interpreter is primary:
            self.endpoint_url = primary.url
        response = requests.post(
            f"{interpreter.url}/moto-api/config",
            json={"stepfunctions": {"execute_state_machine": True}},
            timeout=10,
        )
        response.raise_for_status()
        client = local_stepfunctions_client(interpreter.url, self._model.region)
        for spec in self._model.state_machines.values():
            created = client.create_state_machine(
                name=spec.name,
                definition=local_definition(spec.definition, self._api_endpoints, spec.logical_id),
                roleArn=spec.role_arn,
                type=spec.type,
            )
            if created["stateMachineArn"] != spec.arn:
                raise RuntimeError(f"state machine {spec.logical_id}: moto gave {created['stateMachineArn']}")
        if interpreter is primary:  # the one backend of every service but Step Functions: tables and pools are there
            create_tables(primary.url, self._model.region, self._model.tables.values())
            self.cognito_ids = create_user_pools(primary.url, self._model)

    def _introduce_secondaries(self) -> None:
        """Tell the primary where its secondaries are (again after the primary restarts)."""
        secondaries = self.endpoint_urls[1:]
        if secondaries:
            response = requests.put(f"{self.endpoint_url}{INTERPRETERS_PATH}", data="\n".join(secondaries), timeout=10)
            response.raise_for_status()

    def _supervise(self, interpreter: _Interpreter) -> None:
        quick_deaths = 0
        while True:
            launched_at = time.monotonic()
            for line in interpreter.process.stdout:
                try:
                    record = json.loads(line)
                except ValueError:  # not a feed record: say it rather than lose it
                    self._say(line)
                    continue
                self._on_record(interpreter, record)
            exit_code = interpreter.process.wait()
            if self._stopping.is_set():
                return
            quick_deaths = quick_deaths + 1 if time.monotonic() - launched_at < _QUICK_DEATH_SECONDS else 1
            lost, interpreter.in_flight = sorted(interpreter.in_flight.values()), {}
            lost_text = f"; lost in flight: {', '.join(lost)}" if lost else "; nothing was in flight"
            if quick_deaths > _RESTARTS_BEFORE_GIVING_UP:
                self._say(f"{interpreter.name} exited ({exit_code}) again{lost_text}; not restarting it")
                return
            restarting_at = time.monotonic()
            try:
                self._launch(interpreter)
                if interpreter.number == 1:
                    self._introduce_secondaries()
            except Exception as error:  # reported once; the functions then get connection errors
                self._say(f"{interpreter.name} exited ({exit_code}) and could not be restarted: {error}")
                return
            self._say(
                f"{interpreter.name} exited ({exit_code}); restarted in "
                f"{time.monotonic() - restarting_at:.1f} s with its state machines{lost_text}"
            )

    def _on_record(self, interpreter: _Interpreter, record: dict) -> None:
        if "started" in record:
            interpreter.in_flight[record["started"]] = (
                f"{self._names.get(record['state_machine'], '?')}/{record['name']}"
            )
            return
        interpreter.in_flight.pop(record["ended"], None)
        if self._history is not None:
            self._history.print_execution(record)

    def update_state_machines(self, model: StackModel) -> None:
        """A reload: each state machine takes its new definition (executions already running finish on
        the one they started with); new ones are created, removed ones deleted; in every interpreter."""
        for url in self.endpoint_urls:
            client = local_stepfunctions_client(url, model.region)
            existing = {machine["stateMachineArn"] for machine in client.list_state_machines()["stateMachines"]}
            for spec in model.state_machines.values():
                definition = local_definition(spec.definition, self._api_endpoints, spec.logical_id)
                if spec.arn in existing:
                    client.update_state_machine(stateMachineArn=spec.arn, definition=definition, roleArn=spec.role_arn)
                else:
                    client.create_state_machine(
                        name=spec.name, definition=definition, roleArn=spec.role_arn, type=spec.type
                    )
            for arn in existing - {spec.arn for spec in model.state_machines.values()}:
                client.delete_state_machine(stateMachineArn=arn)
        create_tables(self.endpoint_url, model.region, model.tables.values())  # new ones; the others keep their items
        self.cognito_ids = create_user_pools(self.endpoint_url, model)  # new ones; the others keep their users
        self._model = model  # what a restart re-creates
        self._names.update({spec.arn: spec.display_name for spec in model.state_machines.values()})

    def _say(self, text: str) -> None:
        self._console.line("stepfunctions", text)

    def _forward_errors(self, process: subprocess.Popen) -> None:
        for line in process.stderr:
            self._console.line("stepfunctions", line)

    def stop(self) -> None:
        self._stopping.set()
        for interpreter in self._interpreters:
            if interpreter.process is not None:
                interpreter.process.stdin.close()
        for interpreter in self._interpreters:
            if interpreter.process is None:
                continue
            try:
                interpreter.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                interpreter.process.kill()
                interpreter.process.wait()
        for interpreter in self._interpreters:
            if interpreter.supervisor is not None:
                interpreter.supervisor.join(timeout=5)


def local_definition(definition: str, api_endpoints: dict[str, str], logical_id: str) -> str:
    """The definition with each apigateway:invoke task's ApiEndpoint (an AWS host name) rewritten to the
    local origin serving that API; a task calling any other API would reach AWS, so it stops the runtime."""
    parsed = json.loads(definition)
    for state in task_states(parsed["States"]):
        if state.get("Resource") != CONNECTIONS_POST:
            continue
        endpoint = state.get("Parameters", {}).get("ApiEndpoint")
        if endpoint not in api_endpoints:
            raise UnsupportedTemplate(
                f"resource {logical_id}: apigateway:invoke of {endpoint!r}, not an API served here"
            )
        state["Parameters"]["ApiEndpoint"] = api_endpoints[endpoint]
    return json.dumps(parsed)
