"""Every error name the state machines retry or catch on is one that can actually occur: an exception
class the tasks raise (Step Functions names a Lambda error after its type), one of Lambda's own
documented errors, or States.ALL. A misspelt name would silently never match."""

import json
from pathlib import Path

import pytest
from chat import connections

PROJECT_ROOT = Path(__file__).resolve().parents[2]

STATE_MACHINES = sorted((PROJECT_ROOT / "statemachines").glob("*.asl.json"))

# The errors a lambda:invoke task raises for Lambda itself, as the Step Functions developer guide names
# them ("Handling errors in Step Functions workflows", "Handle transient Lambda service exceptions").
LAMBDA_ERRORS = frozenset(
    {
        "Lambda.AWSLambdaException",
        "Lambda.ClientExecutionTimeoutException",
        "Lambda.SdkClientException",
        "Lambda.ServiceException",
        "Lambda.TooManyRequestsException",
        "Lambda.Unknown",
    }
)
# The transient ones AWS recommends retrying: every task retries them.
LAMBDA_ERRORS_TO_RETRY = LAMBDA_ERRORS - {"Lambda.Unknown"}


def rules(states: dict, kind: str) -> list[tuple[str, dict]]:
    """(state name, rule) for every Retry or Catch rule, nested Map and Parallel states included."""
    found = []
    for name, state in states.items():
        found += [(name, rule) for rule in state.get(kind, [])]
        if "ItemProcessor" in state:
            found += rules(state["ItemProcessor"]["States"], kind)
        for branch in state.get("Branches", []):
            found += rules(branch["States"], kind)
    return found


def error_names(states: dict) -> set[str]:
    return {name for kind in ("Retry", "Catch") for _, rule in rules(states, kind) for name in rule["ErrorEquals"]}


def task_exception(name: str) -> bool:
    """An exception class defined in chat.connections (not merely imported there)."""
    exception = getattr(connections, name, None)
    return (
        isinstance(exception, type)
        and issubclass(exception, Exception)
        and exception.__module__ == connections.__name__
    )


def unknown_error_names(states: dict) -> set[str]:
    return {
        name
        for name in error_names(states)
        if not (task_exception(name) or name in LAMBDA_ERRORS or name == "States.ALL")
    }


def lambda_tasks(states: dict) -> dict[str, dict]:
    tasks = {}
    for name, state in states.items():
        if state.get("Resource") == "arn:aws:states:::lambda:invoke":
            tasks[name] = state
        if "ItemProcessor" in state:
            tasks |= lambda_tasks(state["ItemProcessor"]["States"])
    return tasks


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def test_both_state_machines_are_checked():
    assert {path.name for path in STATE_MACHINES} == {"connection_handshake.asl.json", "message_fanout.asl.json"}


@pytest.mark.parametrize("path", STATE_MACHINES, ids=lambda path: path.name)
def test_every_error_name_can_occur(path: Path):
    states = load(path)["States"]

    assert {name for name in error_names(states) if task_exception(name)}, "no task error is handled by name"
    assert unknown_error_names(states) == set()


@pytest.mark.parametrize("path", STATE_MACHINES, ids=lambda path: path.name)
def test_every_lambda_task_retries_lambdas_transient_errors(path: Path):
    tasks = lambda_tasks(load(path)["States"])

    assert tasks
    for name, task in tasks.items():
        retried = {error for rule in task.get("Retry", []) for error in rule["ErrorEquals"]}
        assert retried >= LAMBDA_ERRORS_TO_RETRY, f"{name} does not retry {sorted(LAMBDA_ERRORS_TO_RETRY - retried)}"


@pytest.mark.parametrize("path", STATE_MACHINES, ids=lambda path: path.name)
def test_states_all_is_alone_and_last(path: Path):
    # What Step Functions requires of States.ALL; moto's engine does not check it.
    states = load(path)["States"]
    for kind in ("Retry", "Catch"):
        by_state: dict[str, list[dict]] = {}
        for name, rule in rules(states, kind):
            by_state.setdefault(name, []).append(rule)
        for name, state_rules in by_state.items():
            for position, rule in enumerate(state_rules):
                if "States.ALL" in rule["ErrorEquals"]:
                    assert rule["ErrorEquals"] == ["States.ALL"], f"{name}: States.ALL must be alone"
                    assert position == len(state_rules) - 1, f"{name}: States.ALL must be the last {kind} rule"


@pytest.mark.parametrize(
    "name",
    ["Lambda.ServiceExeption", "Lambda.Timeout", "States.Timeout", "ConnectionClosed", "InvalidRequest", "Config"],
)
def test_a_name_outside_the_contract_is_reported(name: str):
    states = {
        "Deliver": {
            "Type": "Task",
            "Retry": [{"ErrorEquals": ["ConnectionThrottled", name]}],
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Failed"}],
        },
        "Each": {
            "Type": "Map",
            "ItemProcessor": {"States": {"Inner": {"Type": "Task", "Catch": [{"ErrorEquals": ["ConnectionGone"]}]}}},
        },
    }

    assert unknown_error_names(states) == {name}
