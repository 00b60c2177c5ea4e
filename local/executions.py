"""`python -m local executions [ID]`: the local counterpart of the console's execution history.

ID is an execution's name or ARN (a fan-out is named after its message id), or any id an execution's
input holds (a connection id: its handshake, the messages it sent and those it received). The history
is the runtime's Step Functions processes': it lives only while the runtime runs. Each interpreter
process (serve --interpreters) lists and describes the executions it runs: every one is asked.
"""

import argparse
import json
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from local.state import read_state, state_file
from local.stepfunctions.client import local_stepfunctions_client
from local.stepfunctions.history import describe_history, format_time

NOT_RUNNING = (
    "error: no local runtime is serving stage {stage}: execution history lives only while the runtime runs "
    "(in its Step Functions process). Start one with `make dev`; `make dev | tee dev.log` keeps the "
    "terminal's history lines after it stops."
)
DESCRIBING_THREADS = 8


def show(args: argparse.Namespace) -> int:
    state = read_state(state_file(args.state_dir, args.stage))
    if state is None:
        print(NOT_RUNNING.format(stage=args.stage), file=sys.stderr)
        return 1
    clients = [
        local_stepfunctions_client(url, state.region) for url in state.interpreter_urls or [state.stepfunctions_url]
    ]
    executions, client_of = [], {}  # (state machine name, execution); execution ARN -> the client that lists it
    for client in clients:
        paginator = client.get_paginator("list_executions")
        for arn, name in state.state_machines.items():
            for page in paginator.paginate(stateMachineArn=arn):
                for execution in page["executions"]:
                    executions.append((name, execution))
                    client_of[execution["executionArn"]] = client
    if args.name is None:
        _print_table(executions)
        return 0
    matches = [pair for pair in executions if args.name in (pair[1]["name"], pair[1]["executionArn"])]
    if not matches:  # not a name: an id the inputs hold
        matches = _about(client_of, executions, args.name)
    if not matches:
        print(
            f"error: no execution is named {args.name!r} or has it in its input (the runtime keeps the last "
            "ended executions of each state machine: serve --keep-executions)",
            file=sys.stderr,
        )
        return 1
    if len(matches) == 1:
        arn = matches[0][1]["executionArn"]
        _print_execution(client_of[arn], arn)
        return 0
    print(f"{len(matches)} executions about {args.name}:")
    _print_table(matches)
    for _, execution in sorted(matches, key=lambda pair: pair[1]["startDate"]):
        print()
        _print_execution(client_of[execution["executionArn"]], execution["executionArn"])
    return 0


def _about(client_of: dict, executions: list, wanted: str) -> list:
    """The executions whose input holds ``wanted`` as a value, anywhere in it."""

    def input_of(execution: dict) -> Any:
        client = client_of[execution["executionArn"]]
        try:
            return json.loads(client.describe_execution(executionArn=execution["executionArn"]).get("input") or "null")
        except (ValueError, client.exceptions.ExecutionDoesNotExist):  # forgotten meanwhile (--keep-executions)
            return None

    with ThreadPoolExecutor(DESCRIBING_THREADS) as pool:
        inputs = list(pool.map(input_of, [execution for _, execution in executions]))
    return [pair for pair, document in zip(executions, inputs, strict=True) if _holds(document, wanted)]


def _holds(document: Any, wanted: str) -> bool:
    if isinstance(document, dict):
        return any(_holds(value, wanted) for value in document.values())
    if isinstance(document, list):
        return any(_holds(value, wanted) for value in document)
    return document == wanted


def _print_table(executions: list) -> None:
    executions.sort(key=lambda pair: pair[1]["startDate"])
    print(f"{'STATE MACHINE':<22}{'NAME':<50}{'STATUS':<11}{'START':<14}DURATION")
    for name, execution in executions:
        stop = execution.get("stopDate")
        duration = f"{(stop - execution['startDate']).total_seconds() * 1000:.0f} ms" if stop else "-"
        start = format_time(execution["startDate"])
        print(f"{name:<22}{execution['name']:<50}{execution['status']:<11}{start:<14}{duration}")


def _print_execution(client, execution_arn: str) -> None:
    described = client.describe_execution(executionArn=execution_arn)
    print(f"execution  {described['name']}")
    print(f"status     {described['status']}")
    print(f"input      {described.get('input', '')}")
    if "output" in described:
        print(f"output     {described['output']}")
    if "error" in described:
        print(f"error      {described['error']}: {described.get('cause', '')}")
    events = client.get_execution_history(executionArn=execution_arn, maxResults=1000)["events"]
    print()
    for line in describe_history(events):
        print(line)
