"""connection_handshake on moto's engine: the new client learns its connection id, retried while the
connection is not open yet, and the execution ends as "gone" when the client never shows up."""

import json

from chat.connections import OPENING_RETRY_DELAYS_SECONDS

from cdk.paths import STATEMACHINES_DIR

CLIENT = "CfF0ed8QoAMCKxQ="


POSTS_PER_TASK_ATTEMPT = len(OPENING_RETRY_DELAYS_SECONDS) + 1


def gone_task_attempts() -> int:
    """How many times the definition runs the task for a connection that stays gone (first try + retries)."""
    definition = json.loads((STATEMACHINES_DIR / "connection_handshake.asl.json").read_text(encoding="utf-8"))
    (retrier,) = [r for r in definition["States"]["SendConnectionId"]["Retry"] if "ConnectionGone" in r["ErrorEquals"]]
    return 1 + retrier["MaxAttempts"]


def test_client_is_told_its_connection_id(workflows, handshake_input):
    workflows.connections.connect(CLIENT)
    execution = workflows.run("connection_handshake", handshake_input(CLIENT))

    assert execution.status == "SUCCEEDED"
    assert execution.output == {"connection_id": CLIENT, "status": "delivered"}
    assert workflows.connections.sent(CLIENT) == [f'{{"type":"connection","connection_id":"{CLIENT}"}}']
    assert workflows.connections.posted_to() == {CLIENT}
    assert execution.task_errors() == []


def test_connection_not_open_yet_is_told_once_without_a_state_machine_retry(workflows, handshake_input):
    workflows.connections.connect(CLIENT)
    workflows.connections.refuse(CLIENT, 410, times=2)

    execution = workflows.run("connection_handshake", handshake_input(CLIENT))

    assert execution.status == "SUCCEEDED"
    assert execution.output == {"connection_id": CLIENT, "status": "delivered"}
    assert workflows.connections.attempts(CLIENT) == [410, 410, 200]
    assert workflows.connections.frames(CLIENT) == [{"type": "connection", "connection_id": CLIENT}]
    # The task posted again itself: no failed task, so no whole-second wait and no Lambda error.
    assert execution.task_errors() == []
    assert [e["taskSucceededEventDetails"]["resourceType"] for e in execution.events("TaskSucceeded")] == [
        "dynamodb",  # the registry item
        "lambda",  # one invocation of the task
    ]


def test_connection_slower_to_open_than_the_task_waits_is_retried_by_the_state_machine(workflows, handshake_input):
    workflows.connections.connect(CLIENT)
    workflows.connections.refuse(CLIENT, 410, times=POSTS_PER_TASK_ATTEMPT)

    execution = workflows.run("connection_handshake", handshake_input(CLIENT))

    assert execution.status == "SUCCEEDED"
    assert execution.output == {"connection_id": CLIENT, "status": "delivered"}
    assert workflows.connections.attempts(CLIENT) == [410] * POSTS_PER_TASK_ATTEMPT + [200]
    assert execution.task_errors() == ["ConnectionGone"]


def test_client_that_left_ends_the_handshake_as_gone(workflows, handshake_input):
    # CLIENT never connects: every post answers 410.
    execution = workflows.run("connection_handshake", handshake_input(CLIENT))

    assert execution.status == "SUCCEEDED"
    assert execution.output == {"connection_id": CLIENT, "status": "gone"}
    attempts = gone_task_attempts()
    assert attempts > 1
    # Each task attempt posts up to POSTS_PER_TASK_ATTEMPT times (fewer if its time budget runs out first).
    posts = workflows.connections.attempts(CLIENT)
    assert set(posts) == {410}
    assert attempts * 2 <= len(posts) <= attempts * POSTS_PER_TASK_ATTEMPT
    assert workflows.connections.frames(CLIENT) == []
    assert execution.task_errors() == ["ConnectionGone"] * attempts
    entered = [e["stateEnteredEventDetails"]["name"] for e in execution.history if "stateEnteredEventDetails" in e]
    assert entered[-1] == "ClientLeft"


def test_unexpected_gateway_error_fails_the_execution(workflows, handshake_input):
    workflows.connections.connect(CLIENT)
    workflows.connections.refuse(CLIENT, 403)

    execution = workflows.run("connection_handshake", handshake_input(CLIENT))

    # Not retried, not mistaken for a client that left: the execution fails with the Lambda error type.
    assert execution.status == "FAILED"
    assert execution.task_errors() == ["ForbiddenException"]
    assert workflows.connections.attempts(CLIENT) == [403]
    (failed,) = execution.events("ExecutionFailed")
    assert failed["executionFailedEventDetails"]["error"] == "ForbiddenException"
