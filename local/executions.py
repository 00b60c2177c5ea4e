"""`python -m local executions [NAME]`: the local counterpart of the console's execution history."""

import argparse
import sys

from local.state import read_state, state_file
from local.stepfunctions.client import local_stepfunctions_client
from local.stepfunctions.history import describe_history, format_time


def show(args: argparse.Namespace) -> int:
    state = read_state(state_file(args.state_dir, args.stage))
    if state is None:
        print(f"error: no local runtime is serving stage {args.stage} (start one with `make dev`)", file=sys.stderr)
        return 1
    # Each interpreter process lists and describes the executions it runs.
    clients = [
        local_stepfunctions_client(url, state.region) for url in state.interpreter_urls or [state.stepfunctions_url]
    ]
    executions = [
        (name, execution, client)
        for client in clients
        for arn, name in state.state_machines.items()
        for page in client.get_paginator("list_executions").paginate(stateMachineArn=arn)
        for execution in page["executions"]
    ]
    if args.name is None:
        _print_table([(name, execution) for name, execution, _ in executions])
        return 0
    matches = [(e, client) for _, e, client in executions if args.name in (e["name"], e["executionArn"])]
    if not matches:
        print(f"error: no execution named {args.name!r}", file=sys.stderr)
        return 1
    execution, client = matches[0]
    _print_execution(client, execution["executionArn"])
    return 0


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
