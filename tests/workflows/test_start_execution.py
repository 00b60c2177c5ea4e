"""StartExecution as the functions call it, answered the same with the engine's speed-ups (which answer it
without moto's request dispatcher, local.stepfunctions.start_execution) and without them: the execution's
ARN and start date, and moto's own errors for a call it refuses."""

import datetime
import json
import urllib.request

import pytest
from botocore.exceptions import ClientError

from tests.workflows.conftest import ACCOUNT, REGION

NOTHING_TO_DO = {"sender_id": "x"}  # connection_cleanup's input is not read here: the call is what is tested


def start(workflows, name: str, execution_input: str, workflow: str = "connection_cleanup") -> dict:
    return workflows.stepfunctions.start_execution(
        stateMachineArn=workflows.state_machine_arns[workflow], name=name, input=execution_input
    )


def test_an_execution_is_started_and_named_as_asked(workflows):
    before = datetime.datetime.now(datetime.UTC)

    started = start(workflows, "named-as-asked", json.dumps(NOTHING_TO_DO))

    arn = workflows.state_machine_arns["connection_cleanup"].replace(":stateMachine:", ":execution:")
    assert started["executionArn"] == f"{arn}:named-as-asked"
    assert before - datetime.timedelta(seconds=1) <= started["startDate"] <= datetime.datetime.now(datetime.UTC)
    described = workflows.stepfunctions.describe_execution(executionArn=started["executionArn"])
    assert json.loads(described["input"]) == NOTHING_TO_DO


def test_the_answer_holds_the_execution_arn_and_start_date_only(workflows):
    started = start(workflows, "answer-fields", "{}")

    assert set(started) - {"ResponseMetadata"} == {"executionArn", "startDate"}
    assert started["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_a_state_machine_that_does_not_exist_is_refused_with_moto_s_error(workflows):
    missing = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:no-such-machine"

    with pytest.raises(ClientError) as refused:
        workflows.stepfunctions.start_execution(stateMachineArn=missing, name="nowhere", input="{}")

    assert refused.value.response["Error"]["Code"] == "StateMachineDoesNotExist"


def test_input_that_is_not_json_is_refused_and_nothing_is_started(workflows):
    with pytest.raises(ClientError) as refused:
        start(workflows, "not-json", "{not json")

    # moto 5.2.5 answers 400 with its InvalidExecutionInput message but no error code, tuned or not.
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    listed = workflows.stepfunctions.list_executions(stateMachineArn=workflows.state_machine_arns["connection_cleanup"])
    assert "not-json" not in {execution["name"] for execution in listed["executions"]}


def test_a_name_already_taken_by_an_ended_execution_is_refused(workflows):
    workflows.run("connection_cleanup", NOTHING_TO_DO, name="taken-name")  # returns once it has ended

    with pytest.raises(ClientError) as refused:
        start(workflows, "taken-name", json.dumps({"other": "input"}))

    assert refused.value.response["Error"]["Code"] == "ExecutionAlreadyExists"


def test_a_call_the_fast_path_does_not_read_reaches_moto_all_the_same(workflows):
    """An account named by moto's header is moto's to handle: the call is answered as before."""
    body = json.dumps(
        {"stateMachineArn": workflows.state_machine_arns["connection_cleanup"], "name": "by-header", "input": "{}"}
    ).encode()
    request = urllib.request.Request(
        workflows.moto_url,
        data=body,
        method="POST",
        headers={
            "X-Amz-Target": "AWSStepFunctions.StartExecution",
            "Content-Type": "application/x-amz-json-1.0",
            "x-moto-account-id": ACCOUNT,
            "Authorization": f"AWS4-HMAC-SHA256 Credential=local/20260101/{REGION}/states/aws4_request, x",
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        answer = json.loads(response.read())

    assert answer["executionArn"].endswith(":by-header")
