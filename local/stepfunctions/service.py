"""Step Functions, locally: moto's ASL interpreter (JSONPath) serving the stack's state machines.

moto sends the Lambda tasks of its executions to http://localhost:$MOTO_PORT, so MOTO_PORT names
the gateway's port, where the local Lambda service answers Lambda's Invoke API. The history of every
execution streams to the terminal, like the console's execution history.
"""

import os
import subprocess
import sys
import threading

import requests

from local.console import Console
from local.stepfunctions.client import local_stepfunctions_client
from local.stepfunctions.history import HistoryPrinter
from local.synth import PROJECT_ROOT
from local.template import StackModel


class StepFunctionsService:
    """Runs local.stepfunctions.server and creates the stack's state machines in it."""

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
            [sys.executable, "-m", "local.stepfunctions.server", "0"],
            cwd=PROJECT_ROOT,
            env={**os.environ, "MOTO_PORT": str(self._lambda_port)},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # a terminal's Ctrl-C is the runtime's to handle: it stops this process
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
        client = local_stepfunctions_client(self.endpoint_url, self._model.region)
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

    def update_state_machines(self, model: StackModel) -> None:
        """A reload: each state machine takes its new definition (executions already running finish on
        the one they started with); new ones are created, removed ones deleted."""
        client = local_stepfunctions_client(self.endpoint_url, model.region)
        existing = {machine["stateMachineArn"] for machine in client.list_state_machines()["stateMachines"]}
        for spec in model.state_machines.values():
            if spec.arn in existing:
                client.update_state_machine(stateMachineArn=spec.arn, definition=spec.definition, roleArn=spec.role_arn)
            else:
                client.create_state_machine(
                    name=spec.name, definition=spec.definition, roleArn=spec.role_arn, type=spec.type
                )
        for arn in existing - {spec.arn for spec in model.state_machines.values()}:
            client.delete_state_machine(stateMachineArn=arn)
        self._model = model

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
