"""The connection registry on moto's engine and its DynamoDB: connection_handshake writes the connection's item
(and, signed in, its user's) before the client hears its id; connection_cleanup removes it; every execution
may run twice harmlessly (asynchronous Express executions run at least once)."""

from chat.connections import REGISTRATION_SECONDS

from tests.conftest import SignedInUser

CLIENT = "CfF0ed8QoAMCKxQ="
ALICE = SignedInUser("sub-alice", "Alice")


def entered(execution) -> list[str]:
    return [e["stateEnteredEventDetails"]["name"] for e in execution.history if "stateEnteredEventDetails" in e]


def test_a_connection_without_sign_in_is_registered_without_a_user(workflows, handshake_input):
    workflows.connections.connect(CLIENT)
    execution_input = handshake_input(CLIENT)

    execution = workflows.run("connection_handshake", execution_input)

    assert execution.status == "SUCCEEDED"
    assert workflows.registry() == {
        CLIENT: {
            "connection_id": CLIENT,
            "connected_at": str(execution_input["connected_at"]),
            "expires_at": str(execution_input["connected_at"] + REGISTRATION_SECONDS),
        }
    }
    assert workflows.users() == {}
    assert workflows.connections.frames(CLIENT) == [{"type": "connection", "connection_id": CLIENT}]


def test_a_signed_in_connection_is_registered_with_its_user_who_joins_the_directory(workflows, handshake_input):
    workflows.connections.connect(CLIENT)

    execution = workflows.run("connection_handshake", handshake_input(CLIENT, ALICE))

    assert execution.status == "SUCCEEDED"
    item = workflows.registry()[CLIENT]
    assert (item["user_id"], item["username"]) == ("sub-alice", "alice")
    assert workflows.users() == {
        "alice": {
            "username": "alice",
            "user_id": "sub-alice",
            "name": "Alice",
            "live_connections": [CLIENT],
            "presence_version": "1",
        }
    }
    assert workflows.connections.frames(CLIENT) == [
        {"type": "connection", "connection_id": CLIENT, "user": {"id": "sub-alice", "name": "Alice"}}
    ]


def test_the_connection_is_registered_before_the_client_hears_its_id(workflows, handshake_input):
    """Once a client has its connection frame, a message to its user finds it."""
    workflows.connections.connect(CLIENT)

    execution = workflows.run("connection_handshake", handshake_input(CLIENT, ALICE))

    states = entered(execution)
    assert states.index("RegisterUserConnection") < states.index("SendConnectionId") < states.index("GoLive")
    scheduled = [e["taskScheduledEventDetails"]["resourceType"] for e in execution.events("TaskScheduled")]
    # DynamoDB's own integration: no Lambda writes the items; then room_fanout starts (Alice's first connection)
    assert scheduled == ["dynamodb", "lambda", "dynamodb", "states"]


def test_a_second_execution_of_the_same_handshake_is_harmless(workflows, handshake_input):
    workflows.connections.connect(CLIENT)
    execution_input = handshake_input(CLIENT, ALICE)

    first = workflows.run("connection_handshake", execution_input)
    registry, users = workflows.registry(), workflows.users()
    second = workflows.run("connection_handshake", execution_input)

    assert first.status == second.status == "SUCCEEDED"
    assert workflows.registry() == registry and workflows.users() == users
    assert len(workflows.connections.frames(CLIENT)) == 2  # told twice: clients take the last connection frame


def test_a_client_that_left_before_opening_is_not_left_in_the_registry(workflows, handshake_input):
    # CLIENT never connects: every post answers 410, and the handshake ends as gone.
    execution = workflows.run("connection_handshake", handshake_input(CLIENT, ALICE))

    assert execution.output == {"connection_id": CLIENT, "status": "gone"}
    assert entered(execution)[-2:] == ["ForgetConnection", "ClientLeft"]
    assert workflows.registry() == {}


def test_cleanup_removes_the_connection_and_may_run_again(workflows, handshake_input):
    workflows.connections.connect(CLIENT)
    workflows.run("connection_handshake", handshake_input(CLIENT, ALICE))
    assert CLIENT in workflows.registry()

    first = workflows.run("connection_cleanup", {"connection_id": CLIENT, "registered_before": None})
    second = workflows.run("connection_cleanup", {"connection_id": CLIENT, "registered_before": None})

    assert first.status == second.status == "SUCCEEDED"
    assert first.output == second.output == {"connection_id": CLIENT, "status": "removed"}
    assert workflows.registry() == {}
    assert "alice" in workflows.users()  # who ever connected stays known


def test_cleanup_of_a_connection_never_registered_succeeds(workflows):
    execution = workflows.run("connection_cleanup", {"connection_id": "CfF9never9AMC=", "registered_before": None})

    assert execution.status == "SUCCEEDED"
    assert execution.task_errors() == []
