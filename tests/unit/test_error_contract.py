"""Every error name the state machines retry or catch on is one that can actually occur: an exception
class the tasks raise (Step Functions names a Lambda error after its type), one of Lambda's own
documented errors, an apigateway:invoke error (ApiGateway.<HTTP status>), a DynamoDB error as the
optimized integration (DynamoDB.<code>) or the AWS SDK integration (DynamoDb.<code>Exception) names it,
or States.ALL. A misspelt name would silently never match. Every Task state, as deployed, carries its
kind's retry policy, and that policy is stated once (cdk/definitions.py), not in the ASL files."""

import json
import re
from pathlib import Path

import pytest
from chat import connections

from cdk.definitions import deployed_definition
from cdk.paths import STATEMACHINES_DIR

STATE_MACHINES = sorted(STATEMACHINES_DIR.glob("*.asl.json"))
LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke"
CONNECTIONS_POST = "arn:aws:states:::apigateway:invoke"
DYNAMODB_ITEM_TASKS = {
    f"arn:aws:states:::dynamodb:{action}" for action in ("getItem", "putItem", "updateItem", "deleteItem")
}
DYNAMODB_SDK_TASKS = {
    f"arn:aws:states:::aws-sdk:dynamodb:{action}" for action in ("query", "batchGetItem", "transactWriteItems")
}
START_EXECUTION = "arn:aws:states:::states:startExecution"
# StartExecution's throttling, as the optimized Step Functions integration names it ("StepFunctions." + the API's
# error code): the one error of starting another execution worth retrying.
STEP_FUNCTIONS_ERRORS = frozenset({"StepFunctions.ThrottlingException"})
# DynamoDB's error codes ("Error handling with DynamoDB": Error messages and codes). The optimized integration
# names an error "DynamoDB." + its code; the AWS SDK integration "DynamoDb." + the code with an "Exception"
# suffix ("AWS SDK service integrations": ServiceName.ErrorName, Exception always appended).
DYNAMODB_ERROR_CODES = frozenset(
    {
        "AccessDeniedException",
        "ConditionalCheckFailedException",
        "InternalServerError",
        "ItemCollectionSizeLimitExceededException",
        "LimitExceededException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "ResourceNotFoundException",
        "ThrottlingException",
        "TransactionCanceledException",  # TransactWriteItems: a condition failed, or a conflict
        "ValidationException",
    }
)
DYNAMODB_ITEM_ERRORS = frozenset(f"DynamoDB.{code}" for code in DYNAMODB_ERROR_CODES)
DYNAMODB_SDK_ERRORS = frozenset(f"DynamoDb.{code.removesuffix('Exception')}Exception" for code in DYNAMODB_ERROR_CODES)
# What DynamoDB says to retry: throttling and its internal errors.
DYNAMODB_TO_RETRY = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
}
# Step Functions' own errors a Catch names: States.ALL, and States.DataLimitExceeded, which States.ALL does not
# match ("Handling errors in Step Functions workflows", Error names): history_page catches a page too large for
# a state's 256 KiB of data.
STATES_ERRORS = frozenset({"States.ALL", "States.DataLimitExceeded"})
# "Call API Gateway with Step Functions", Error handling: ApiGateway.<HTTP status code> when there is one.
API_GATEWAY_ERROR = re.compile(r"ApiGateway\.[1-5]\d\d")

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


def raised_by_fail_states(states: dict) -> set[str]:
    """The errors the machine's own Fail states raise (e.g. message_fanout's UnprocessedKeys, retried by its Map)."""
    found = {state["Error"] for state in states.values() if state["Type"] == "Fail" and "Error" in state}
    for state in states.values():
        if "ItemProcessor" in state:
            found |= raised_by_fail_states(state["ItemProcessor"]["States"])
        for branch in state.get("Branches", []):
            found |= raised_by_fail_states(branch["States"])
    return found


def unknown_error_names(states: dict) -> set[str]:
    return {
        name
        for name in error_names(states)
        if not (
            task_exception(name)
            or name in raised_by_fail_states(states)
            or name in LAMBDA_ERRORS | DYNAMODB_ITEM_ERRORS | DYNAMODB_SDK_ERRORS | STEP_FUNCTIONS_ERRORS
            or API_GATEWAY_ERROR.fullmatch(name)
            or name in STATES_ERRORS
        )
    }


def tasks(states: dict) -> dict[str, dict]:
    """Every Task state by name, nested Map and Parallel states included."""
    found = {}
    for name, state in states.items():
        if state["Type"] == "Task":
            found[name] = state
        if "ItemProcessor" in state:
            found |= tasks(state["ItemProcessor"]["States"])
        for branch in state.get("Branches", []):
            found |= tasks(branch["States"])
    return found


def retried(task: dict) -> set[str]:
    return {error for rule in task.get("Retry", []) for error in rule["ErrorEquals"]}


def load(path: Path) -> dict:
    """The definition as deployed: the file with its retry policies."""
    return json.loads(deployed_definition(path.name.removesuffix(".asl.json")))


def test_every_state_machine_is_checked():
    assert {path.name for path in STATE_MACHINES} == {
        "connection_handshake.asl.json",
        "message_fanout.asl.json",
        "connection_cleanup.asl.json",
        "history_page.asl.json",
        "list_conversations.asl.json",
        "room_fanout.asl.json",
        "user_removal.asl.json",
        "room_change.asl.json",
        "room_listing.asl.json",
    }


@pytest.mark.parametrize("path", STATE_MACHINES, ids=lambda path: path.name)
def test_every_error_name_can_occur(path: Path):
    states = load(path)["States"]

    assert unknown_error_names(states) == set()


def test_the_fanout_tells_gone_from_failed_by_the_documented_410():
    states = load(STATEMACHINES_DIR / "message_fanout.asl.json")["States"]

    assert ("DeliverMessage", "ApiGateway.410") in {
        (name, error) for name, rule in rules(states, "Catch") for error in rule["ErrorEquals"]
    }


@pytest.mark.parametrize("path", STATE_MACHINES, ids=lambda path: path.name)
def test_every_task_carries_its_retry_policy(path: Path):
    found = tasks(load(path)["States"])

    assert found
    for name, task in found.items():
        if task["Resource"] == LAMBDA_INVOKE:
            missing = (LAMBDA_ERRORS_TO_RETRY | {"ConnectionThrottled"}) - retried(task)
        elif task["Resource"] in DYNAMODB_ITEM_TASKS:
            missing = {f"DynamoDB.{code}" for code in DYNAMODB_TO_RETRY} - retried(task)
        elif task["Resource"] in DYNAMODB_SDK_TASKS:
            missing = {f"DynamoDb.{code.removesuffix('Exception')}Exception" for code in DYNAMODB_TO_RETRY}
            missing -= retried(task)
        elif task["Resource"] == START_EXECUTION:
            missing = STEP_FUNCTIONS_ERRORS - retried(task)
        else:
            assert task["Resource"] == CONNECTIONS_POST, name
            missing = {"ApiGateway.429"} - retried(task)
        assert not missing, f"{name} does not retry {sorted(missing)}"
        for rule in task["Retry"]:
            assert rule["IntervalSeconds"] >= 1 and rule["MaxAttempts"] >= 1 and rule["BackoffRate"] >= 1, name


@pytest.mark.parametrize("path", STATE_MACHINES, ids=lambda path: path.name)
def test_the_retry_policies_are_not_copied_into_the_asl_files(path: Path):
    on_disk = tasks(json.loads(path.read_text(encoding="utf-8"))["States"])

    for name, task in on_disk.items():
        copied = retried(task) & (
            LAMBDA_ERRORS
            | DYNAMODB_ITEM_ERRORS
            | DYNAMODB_SDK_ERRORS
            | STEP_FUNCTIONS_ERRORS
            | {"ConnectionThrottled", "ApiGateway.429"}
        )
        assert not copied, f"{name} states {sorted(copied)} itself; the policy lives in cdk/definitions.py"


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


def test_a_task_of_a_kind_with_no_retry_policy_is_refused(tmp_path, monkeypatch):
    import cdk.definitions

    queue_task = {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage", "End": True}
    (tmp_path / "new.asl.json").write_text(json.dumps({"StartAt": "Put", "States": {"Put": queue_task}}))
    monkeypatch.setattr(cdk.definitions, "STATEMACHINES_DIR", tmp_path)

    with pytest.raises(ValueError, match=r"no retry policy for Task resource arn:aws:states:::sqs:sendMessage"):
        deployed_definition("new")
