"""`make delete-user`: a deployed stage's user leaves the pool, then the stage's user_removal workflow runs to its end
(StartSyncExecution: Express executions cannot be described afterwards), against moto's Cognito and CloudFormation
(``mock_aws``) and a stubbed Step Functions client (moto has no StartSyncExecution)."""

import json

import boto3
import pytest
from botocore.stub import ANY, Stubber
from test_token import REGION, deploy, mocked_pool

from cdk.operations import delete_user

REMOVAL_ARN = f"arn:aws:states:{REGION}:123456789012:stateMachine:Chat-dev-UserRemoval"


@pytest.fixture
def stage(monkeypatch):
    """Stage dev with sign-in (user Bob in its pool), and a stage open without."""
    with mocked_pool(monkeypatch) as (session, cognito, pool_id):
        cognito.admin_create_user(UserPoolId=pool_id, Username="Bob")
        deploy(session, "Chat-dev", {"UserPoolId": pool_id, "UserRemovalArn": REMOVAL_ARN})
        deploy(session, "Chat-open", {"UserRemovalArn": REMOVAL_ARN})
        yield session, cognito, pool_id


def stubbed_stepfunctions(expected_input: dict | None, answer: dict, *, started: bool = True) -> tuple:
    """A client that expects one StartSyncExecution (with ``expected_input``, or any) when ``started``."""
    client = boto3.client("stepfunctions", region_name=REGION)
    stubber = Stubber(client)
    if started:
        stubber.add_response(
            "start_sync_execution",
            {
                "executionArn": "arn:x",
                "startDate": "2026-12-06T12:00:00Z",
                "stopDate": "2026-12-06T12:00:01Z",
                **answer,
            },
            {
                "stateMachineArn": REMOVAL_ARN,
                "name": ANY,
                "input": ANY if expected_input is None else json.dumps(expected_input),
            },
        )
    stubber.activate()
    return client, stubber


def test_the_user_leaves_the_pool_and_user_removal_runs_with_their_key_id_and_name(stage, capsys):
    session, cognito, pool_id = stage
    sub = next(
        a["Value"]
        for a in cognito.admin_get_user(UserPoolId=pool_id, Username="Bob")["UserAttributes"]
        if a["Name"] == "sub"
    )
    output = {"username": "bob", "rooms": [{"room": "lobby", "status": "left"}], "connections": 2}
    client, stubber = stubbed_stepfunctions(
        {"username_key": "bob", "user": {"id": sub, "name": "Bob"}},
        {"status": "SUCCEEDED", "output": json.dumps(output)},
    )

    status = delete_user.main(["--stage", "dev", "--username", "Bob"], session=session, stepfunctions=client)

    assert status == 0
    assert capsys.readouterr().out == "removed bob and 2 registered connections of theirs; they left 1 room\n"
    assert cognito.list_users(UserPoolId=pool_id)["Users"] == []
    stubber.assert_no_pending_responses()


def test_a_failed_removal_says_so_and_that_it_can_run_again(stage, capsys):
    session = stage[0]
    client, _ = stubbed_stepfunctions(None, {"status": "FAILED", "error": "States.Runtime"})

    assert delete_user.main(["--stage", "dev", "--username", "Bob"], session=session, stepfunctions=client) == 1

    error = capsys.readouterr().err
    assert error.startswith("error: the user was deleted from the pool, but user_removal")
    assert f"start-sync-execution --state-machine-arn {REMOVAL_ARN} --input" in error and error.count("\n") == 1


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--stage", "dev", "--username", "nobody"], "error: no user nobody in the stage's user pool\n"),
        (
            ["--stage", "open", "--username", "Bob"],
            "error: stage open has no sign-in (auth none in cdk.json): it has no users\n",
        ),
    ],
)
def test_no_such_user_or_no_sign_in_is_one_line_and_nothing_runs(stage, capsys, arguments, message):
    session, cognito, pool_id = stage
    client, stubber = stubbed_stepfunctions(None, {}, started=False)

    assert delete_user.main(arguments, session=session, stepfunctions=client) == 1

    assert capsys.readouterr().err == message
    assert len(cognito.list_users(UserPoolId=pool_id)["Users"]) == 1
    stubber.assert_no_pending_responses()
