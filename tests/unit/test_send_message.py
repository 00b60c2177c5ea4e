"""sendMessage validates the frame, then starts the fan-out workflow that delivers it."""

import json
import os
import re
import time
import types
import uuid
from datetime import datetime

import pytest
import send_message
from botocore.exceptions import ConnectTimeoutError, EndpointConnectionError, ReadTimeoutError
from botocore.retries.standard import ExponentialBackoff
from chat.clients import stepfunctions_client
from chat.directory import Directory
from chat.requests import MAX_CONNECTION_ID_LENGTH, MAX_MESSAGE_BYTES, MAX_RECIPIENTS, QUOTED_LENGTH

from tests.conftest import USER_POOL_ID, SignedInUser
from tests.protocol import server_frame

SENDER = "CfF0ed8QoAMCKxQ="
ALICE = "CfF2b3hQoAMCJ-g="
BOB = "CfF2dHqMoAMCLzQ="
CAROL = "CfF2fKd7oAMCJdA="
SENT_AT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


@pytest.fixture
def stepfunctions(stub_client):
    return stub_client(send_message, "stepfunctions", "stepfunctions")


def accept_start(stepfunctions) -> None:
    stepfunctions.stubber.add_response(
        "start_execution",
        {"executionArn": f"{os.environ['FANOUT_STATE_MACHINE_ARN']}:x", "startDate": "2026-11-29T12:00:00Z"},
    )


def send(events, lambda_context, body, *, sender=SENDER) -> dict:
    return send_message.handler(events.send_message(body, connection_id=sender), lambda_context)


def started_execution(stepfunctions) -> tuple[dict, dict]:
    assert stepfunctions.operations() == ["StartExecution"]
    (call,) = stepfunctions.params("StartExecution")
    execution_input = json.loads(call["input"])
    server_frame(execution_input["frame"])  # what the fan-out will post
    return call, execution_input


# --- accepted messages -------------------------------------------------------------------------


def test_seed_form_with_one_recipient_starts_the_fanout(events, lambda_context, stepfunctions):
    accept_start(stepfunctions)

    response = send(events, lambda_context, {"action": "sendMessage", "message": "hello", "recipient_id": ALICE})

    assert response["statusCode"] == 200
    call, execution_input = started_execution(stepfunctions)
    assert call["stateMachineArn"] == os.environ["FANOUT_STATE_MACHINE_ARN"]
    assert execution_input["sender_id"] == SENDER
    assert execution_input["connection_ids"] == [SENDER, ALICE]
    assert execution_input["targets"] == [
        {"connection_ids": [SENDER, ALICE], "username": None}
    ]  # a stage without sign-in: no users
    assert execution_input["look_up_users"] is False
    # A connection reads nothing back later.
    assert execution_input["history"] == {"store": False, "items": []}
    frame = execution_input["frame"]
    assert set(frame) == {"type", "message_id", "message", "sender_id", "recipient_id", "recipient_ids", "sent_at"}
    assert frame["type"] == "message"
    assert frame["message"] == "hello"
    assert frame["sender_id"] == SENDER
    assert frame["recipient_id"] == ALICE
    assert frame["recipient_ids"] == [ALICE]
    assert SENT_AT.match(frame["sent_at"]), frame["sent_at"]
    assert uuid.UUID(frame["message_id"])


def test_recipient_list_puts_the_sender_first_and_delivers_once_per_connection(events, lambda_context, stepfunctions):
    accept_start(stepfunctions)

    response = send(
        events,
        lambda_context,
        {"action": "sendMessage", "message": "hi all", "recipient_ids": [ALICE, SENDER, BOB]},
    )

    assert response["statusCode"] == 200
    _, execution_input = started_execution(stepfunctions)
    assert execution_input["connection_ids"] == [SENDER, ALICE, BOB]
    assert execution_input["targets"] == [{"connection_ids": [SENDER, ALICE, BOB], "username": None}]
    frame = execution_input["frame"]
    assert frame["recipient_ids"] == [ALICE, SENDER, BOB]
    assert frame["recipient_id"] == ALICE


def test_accepted_message_is_answered_with_the_id_its_frames_will_carry(events, lambda_context, stepfunctions):
    # sendMessage has a route response: an answer without a body would reach the client as an empty frame.
    accept_start(stepfunctions)

    response = send(events, lambda_context, {"action": "sendMessage", "message": "hello", "recipient_id": ALICE})

    assert response["statusCode"] == 200
    accepted = server_frame(response["body"])
    _, execution_input = started_execution(stepfunctions)
    assert accepted == {"type": "accepted", "message_id": execution_input["frame"]["message_id"]}


def test_execution_is_named_after_the_message(events, lambda_context, stepfunctions):
    accept_start(stepfunctions)

    send(events, lambda_context, {"action": "sendMessage", "message": "hello", "recipient_id": ALICE})

    call, execution_input = started_execution(stepfunctions)
    assert call["name"] == execution_input["frame"]["message_id"]
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,80}", call["name"])


def test_every_message_gets_its_own_id(events, lambda_context, stepfunctions):
    for _ in range(2):
        accept_start(stepfunctions)
        send(events, lambda_context, {"action": "sendMessage", "message": "hello", "recipient_id": ALICE})

    calls = stepfunctions.params("StartExecution")
    first, second = (json.loads(call["input"])["frame"]["message_id"] for call in calls)
    assert first != second


@pytest.mark.parametrize(
    "body",
    [
        {"action": "sendMessage", "message": "é" * (MAX_MESSAGE_BYTES // 2), "recipient_id": ALICE},
        {"action": "sendMessage", "message": "x", "recipient_ids": [f"id-{n}" for n in range(MAX_RECIPIENTS)]},
        {"action": "sendMessage", "message": "x", "recipient_id": "c" * MAX_CONNECTION_ID_LENGTH},
        {"action": "sendMessage", "message": "x", "recipient_id": ALICE, "recipient_ids": None},
        {"action": "sendMessage", "message": "x", "recipient_id": ALICE, "client_hint": "ignored"},
        {"action": "sendMessage", "message": "  padded  ", "recipient_id": SENDER},
        {"action": "sendMessage", "message": "x", "recipient_ids": ["AZaz09+/=_-", "a", "Zm9v"]},
    ],
    ids=["message-at-byte-limit", "max-recipients", "longest-id", "null-list", "extra-field", "to-self", "id-alphabet"],
)
def test_limits_are_inclusive_and_unknown_fields_ignored(events, lambda_context, stepfunctions, body):
    accept_start(stepfunctions)

    response = send(events, lambda_context, body)

    assert response["statusCode"] == 200
    _, execution_input = started_execution(stepfunctions)
    assert execution_input["frame"]["message"] == body["message"]
    (named,) = execution_input["targets"]
    assert named["username"] is None
    assert named["connection_ids"][0] == SENDER
    assert len(named["connection_ids"]) == len(set(named["connection_ids"]))


# --- rejected messages -------------------------------------------------------------------------

REJECTED = [
    ("not json", "invalid_json", "not-json"),
    ('{"action": "sendMessage", "message": "hi", ', "invalid_json", "truncated-json"),
    ('["sendMessage", "hi"]', "invalid_json", "json-array"),
    ('"sendMessage"', "invalid_json", "json-string"),
    ({"action": "sendMessage", "recipient_id": ALICE}, "invalid_request", "missing-message"),
    ({"action": "sendMessage", "message": "", "recipient_id": ALICE}, "invalid_request", "empty-message"),
    ({"action": "sendMessage", "message": " \n\t ", "recipient_id": ALICE}, "invalid_request", "blank-message"),
    (
        {"action": "sendMessage", "message": "x" * (MAX_MESSAGE_BYTES + 1), "recipient_id": ALICE},
        "invalid_request",
        "message-over-limit",
    ),
    (
        {"action": "sendMessage", "message": "é" * (MAX_MESSAGE_BYTES // 2) + "x", "recipient_id": ALICE},
        "invalid_request",
        "utf8-bytes-over-limit",
    ),
    (
        {"action": "sendMessage", "message": "hi", "recipient_id": ALICE, "recipient_ids": [BOB]},
        "invalid_request",
        "both-recipient-forms",
    ),
    ({"action": "sendMessage", "message": "hi"}, "invalid_request", "no-recipient"),
    ({"action": "sendMessage", "message": "hi", "recipient_ids": []}, "invalid_request", "empty-list"),
    (
        {"action": "sendMessage", "message": "hi", "recipient_ids": [f"id-{n}" for n in range(MAX_RECIPIENTS + 1)]},
        "invalid_request",
        "too-many-recipients",
    ),
    ({"action": "sendMessage", "message": "hi", "recipient_ids": [ALICE, BOB, ALICE]}, "invalid_request", "dupes"),
    ({"action": "sendMessage", "message": "hi", "recipient_id": ""}, "invalid_request", "empty-id"),
    ({"action": "sendMessage", "message": "hi", "recipient_ids": [ALICE, ""]}, "invalid_request", "empty-id-in-list"),
    (
        {"action": "sendMessage", "message": "hi", "recipient_id": "c" * (MAX_CONNECTION_ID_LENGTH + 1)},
        "invalid_request",
        "id-too-long",
    ),
    ({"action": "sendMessage", "message": 42, "recipient_id": ALICE}, "invalid_request", "message-number"),
    ({"action": "sendMessage", "message": ["hi"], "recipient_id": ALICE}, "invalid_request", "message-list"),
    ({"action": "sendMessage", "message": "hi", "recipient_id": 7}, "invalid_request", "recipient-id-number"),
    ({"action": "sendMessage", "message": "hi", "recipient_id": [ALICE]}, "invalid_request", "recipient-id-list"),
    ({"action": "sendMessage", "message": "hi", "recipient_ids": ALICE}, "invalid_request", "recipient-ids-string"),
    ({"action": "sendMessage", "message": "hi", "recipient_ids": [ALICE, 7]}, "invalid_request", "id-number-in-list"),
    ({"action": "sendMessage", "message": "hi", "recipient_ids": {"a": ALICE}}, "invalid_request", "ids-object"),
    ({"action": "sendMessage", "message": "hi", "recipient_id": "Cf F2b3h"}, "invalid_request", "id-with-space"),
    ({"action": "sendMessage", "message": "hi", "recipient_id": f"{ALICE}\n"}, "invalid_request", "id-newline-end"),
    ({"action": "sendMessage", "message": "hi", "recipient_id": "CfF2b3hé"}, "invalid_request", "id-non-ascii"),
    ({"action": "sendMessage", "message": "hi", "recipient_id": "../@connections"}, "invalid_request", "id-path"),
    ({"action": "sendMessage", "message": "hi", "recipient_id": "a%2Fb"}, "invalid_request", "id-percent"),
    ({"action": "sendMessage", "message": "hi", "recipient_ids": [ALICE, "<b>"]}, "invalid_request", "bad-id-in-list"),
    ("[" * 100_000, "invalid_json", "deeply-nested-array"),
    ('{"a":' * 100_000 + "1" + "}" * 100_000, "invalid_json", "deeply-nested-object"),
    (
        f'{{"action": "sendMessage", "message": "hi", "recipient_id": "{ALICE}", "x": {"[" * 5000}{"]" * 5000}}}',
        "invalid_json",
        "deep-unknown-field",
    ),
    ('{"action": "sendMessage", "message": "hi", "n": ' + "1" * 5000 + "}", "invalid_json", "huge-integer"),
    (
        {"action": "sendMessage", "message": "hi", "recipient_id": ALICE, "sender_id": BOB},
        "invalid_request",
        "sender-id",
    ),
    (
        {"action": "sendMessage", "message": "hi", "recipient_id": ALICE, "sender": {"id": "x", "name": "root"}},
        "invalid_request",
        "sender",
    ),
    ({"action": "sendMessage", "message": "hi", "recipient_users": []}, "invalid_request", "no-users-in-the-list"),
    (
        {"action": "sendMessage", "message": "hi", "recipient_users": [f"u{n}" for n in range(MAX_RECIPIENTS + 1)]},
        "invalid_request",
        "too-many-users",
    ),
    ({"action": "sendMessage", "message": "hi", "recipient_users": ["bob", "carol", "bob"]}, "invalid_request", "dup"),
    ({"action": "sendMessage", "message": "hi", "recipient_users": ["bob", "Bob"]}, "invalid_request", "dup-case"),
    ({"action": "sendMessage", "message": "hi", "recipient_users": ["bob", 7]}, "invalid_request", "user-number"),
    ({"action": "sendMessage", "message": "hi", "recipient_users": "bob"}, "invalid_request", "users-string"),
    ({"action": "sendMessage", "message": "hi", "recipient_users": ["bo b"]}, "invalid_request", "user-space"),
    ({"action": "sendMessage", "message": "hi", "recipient_users": ["x" * 129]}, "invalid_request", "user-too-long"),
    (
        {"action": "sendMessage", "message": "hi", "recipient_users": ["bob"], "recipient_id": ALICE},
        "invalid_request",
        "users-and-id",
    ),
]


@pytest.mark.parametrize(("body", "code"), [(body, code) for body, code, _ in REJECTED], ids=[i for *_, i in REJECTED])
def test_bad_input_is_answered_with_an_error_frame_and_nothing_is_sent(
    events, lambda_context, stepfunctions, body, code
):
    response = send(events, lambda_context, body)

    # Answered with 200: a client's bad frame is not an integration failure (IntegrationError counts 4XX/5XX).
    assert response["statusCode"] == 200
    frame = server_frame(response["body"])
    assert set(frame) == {"type", "code", "message"}
    assert frame["type"] == "error"
    assert frame["code"] == code
    assert isinstance(frame["message"], str) and frame["message"].strip()
    assert stepfunctions.operations() == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"action": "sendMessage", "message": "", "recipient_id": ALICE}, "message"),
        ({"action": "sendMessage", "message": "x" * (MAX_MESSAGE_BYTES + 1), "recipient_id": ALICE}, "message"),
        ({"action": "sendMessage", "message": "hi", "recipient_ids": []}, "recipient_ids"),
        ({"action": "sendMessage", "message": "hi"}, "recipient_id"),
    ],
)
def test_error_message_names_what_is_wrong(events, lambda_context, stepfunctions, body, field):
    frame = server_frame(send(events, lambda_context, body)["body"])

    assert field in frame["message"]


def test_oversize_message_error_states_the_limit(events, lambda_context, stepfunctions):
    body = {"action": "sendMessage", "message": "x" * (MAX_MESSAGE_BYTES + 1), "recipient_id": ALICE}

    frame = server_frame(send(events, lambda_context, body)["body"])

    assert str(MAX_MESSAGE_BYTES) in frame["message"]


def test_message_that_cannot_be_started_is_reported_as_not_sent(events, lambda_context, stepfunctions):
    stepfunctions.stubber.add_client_error(
        "start_execution", service_error_code="ServiceUnavailable", http_status_code=503
    )

    response = send(events, lambda_context, {"action": "sendMessage", "message": "hello", "recipient_id": ALICE})

    assert response["statusCode"] == 503
    frame = server_frame(response["body"])
    assert frame["type"] == "error"
    assert frame["code"] == "not_sent"
    assert frame["message"]
    assert stepfunctions.operations() == ["StartExecution"]


@pytest.mark.parametrize("field", ["recipient_id", "recipient_ids"])
def test_invalid_recipient_id_is_named_shortened_in_the_error(events, lambda_context, stepfunctions, field):
    bad_id = "Cf!" + "x" * 5000
    body = {"action": "sendMessage", "message": "hi", field: bad_id if field == "recipient_id" else [ALICE, bad_id]}

    frame = server_frame(send(events, lambda_context, body)["body"])

    assert frame["code"] == "invalid_request"
    assert frame["message"].startswith(f"{field}: ")
    assert repr(bad_id[:QUOTED_LENGTH]) in frame["message"]
    assert "(5003 characters)" in frame["message"]
    assert "not a connection id" in frame["message"]
    assert len(frame["message"]) < 300
    assert stepfunctions.operations() == []


# --- Step Functions not answering ----------------------------------------------------------


@pytest.fixture
def unreachable_stepfunctions(monkeypatch):
    """The deployed client, with every HTTP attempt failing as ``error`` does; no backoff sleep."""

    def install(error: Exception) -> list[str]:
        client = stepfunctions_client()
        attempts: list[str] = []

        def fail(request, **_):
            attempts.append(request.url)
            raise error

        client.meta.events.register("before-send.sfn.StartExecution", fail)
        monkeypatch.setattr(ExponentialBackoff, "delay_amount", lambda self, context: 0)
        monkeypatch.setattr(send_message, "stepfunctions", client)
        return attempts

    return install


@pytest.mark.parametrize(
    "error",
    [
        EndpointConnectionError(endpoint_url="https://states.us-east-1.amazonaws.com/"),
        ConnectTimeoutError(endpoint_url="https://states.us-east-1.amazonaws.com/"),
        ReadTimeoutError(endpoint_url="https://states.us-east-1.amazonaws.com/"),
    ],
    ids=lambda error: type(error).__name__,
)
def test_message_whose_start_gets_no_answer_is_reported_as_not_sent(
    events, lambda_context, unreachable_stepfunctions, error
):
    attempts = unreachable_stepfunctions(error)

    response = send(events, lambda_context, {"action": "sendMessage", "message": "hello", "recipient_id": ALICE})

    assert response["statusCode"] == 503
    frame = server_frame(response["body"])
    assert frame["type"] == "error"
    assert frame["code"] == "not_sent"
    assert len(attempts) == 2, "one retry, then the sender is told"


# --- client_message_id: the client's own id, echoed in the frames about its message ----------


def test_client_message_id_is_echoed_in_the_accepted_and_message_frames(events, lambda_context, stepfunctions):
    accept_start(stepfunctions)
    body = {"action": "sendMessage", "message": "hi", "recipient_id": ALICE, "client_message_id": "tab1-42"}

    response = send(events, lambda_context, body)

    _, execution_input = started_execution(stepfunctions)
    assert execution_input["frame"]["client_message_id"] == "tab1-42"
    accepted = server_frame(response["body"])
    assert (accepted["type"], accepted["client_message_id"]) == ("accepted", "tab1-42")
    assert accepted["message_id"] == execution_input["frame"]["message_id"]


def test_client_message_id_is_echoed_in_the_error_about_that_message(events, lambda_context, stepfunctions):
    body = {"action": "sendMessage", "message": "", "recipient_id": ALICE, "client_message_id": "tab1-43"}

    frame = server_frame(send(events, lambda_context, body)["body"])

    assert (frame["code"], frame["client_message_id"]) == ("invalid_request", "tab1-43")
    assert stepfunctions.operations() == []


def test_client_message_id_is_echoed_when_the_message_is_not_sent(events, lambda_context, stepfunctions):
    stepfunctions.stubber.add_client_error("start_execution", service_error_code="Throttling", http_status_code=400)
    body = {"action": "sendMessage", "message": "hi", "recipient_id": ALICE, "client_message_id": "tab1-44"}

    frame = server_frame(send(events, lambda_context, body)["body"])

    assert (frame["code"], frame["client_message_id"]) == ("not_sent", "tab1-44")


@pytest.mark.parametrize("bad_id", ["", "has space", "x" * 65, 42, "<script>"])
def test_malformed_client_message_id_is_rejected_and_never_echoed(events, lambda_context, stepfunctions, bad_id):
    body = {"action": "sendMessage", "message": "hi", "recipient_id": ALICE, "client_message_id": bad_id}

    frame = server_frame(send(events, lambda_context, body)["body"])

    assert frame["code"] == "invalid_request" and "client_message_id" in frame["message"]
    assert "client_message_id" not in frame
    assert stepfunctions.operations() == []


# --- on a stage with sign-in: the sender is the connection's user; messages to people -----------

ALICE_USER = SignedInUser("sub-alice", "Alice")


@pytest.fixture
def directory(monkeypatch, stub_client):
    """The stage has users: sendMessage's directory reads a stubbed users table and a stubbed Cognito."""
    clients = types.SimpleNamespace(dynamodb=None, cognito=None)
    dynamodb = stub_client(clients, "dynamodb", "dynamodb")
    cognito = stub_client(clients, "cognito", "cognito-idp")
    monkeypatch.setattr(
        send_message,
        "directory",
        Directory(dynamodb=dynamodb.client, cognito=cognito.client, users_table="users", user_pool_id=USER_POOL_ID),
    )
    return types.SimpleNamespace(dynamodb=dynamodb, cognito=cognito)


def users_table_has(directory, *users: tuple[str, str]) -> None:
    items = [
        {"username": {"S": name.lower()}, "user_id": {"S": user_id}, "name": {"S": name}} for user_id, name in users
    ]
    directory.dynamodb.stubber.add_response("batch_get_item", {"Responses": {"users": items}})


def cognito_has(directory, user_id: str, name: str) -> None:
    directory.cognito.stubber.add_response(
        "admin_get_user",
        {"Username": name, "UserAttributes": [{"Name": "sub", "Value": user_id}]},
        {"UserPoolId": USER_POOL_ID, "Username": name.lower()},
    )


def cognito_does_not_know(directory, name: str) -> None:
    directory.cognito.stubber.add_client_error(
        "admin_get_user",
        service_error_code="UserNotFoundException",
        http_status_code=400,
        expected_params={"UserPoolId": USER_POOL_ID, "Username": name},
    )


def send_as(events, lambda_context, body, user=ALICE_USER) -> dict:
    event = events.send_message({"action": "sendMessage", **body}, connection_id=SENDER, user=user)
    return send_message.handler(event, lambda_context)


def test_a_signed_in_sender_is_named_in_the_message_and_gets_it_on_all_their_connections(
    events, lambda_context, stepfunctions, directory
):
    accept_start(stepfunctions)

    response = send_as(events, lambda_context, {"message": "hi", "recipient_id": BOB})

    assert response["statusCode"] == 200
    _, execution_input = started_execution(stepfunctions)
    assert execution_input["frame"]["sender"] == {"id": "sub-alice", "name": "Alice"}
    assert execution_input["frame"]["sender_id"] == SENDER
    assert execution_input["targets"] == [
        {"connection_ids": [SENDER, BOB], "username": None},
        {"username": "alice", "name": "Alice", "recipient": False},  # their other tabs
    ]
    assert execution_input["look_up_users"] is True
    assert directory.dynamodb.operations() == directory.cognito.operations() == []


def test_a_message_to_users_names_them_as_cognito_does_and_the_fanout_looks_up_their_connections(
    events, lambda_context, stepfunctions, directory
):
    users_table_has(directory, ("sub-bob", "Bob"))
    cognito_has(directory, "sub-carol", "Carol")  # never connected: not in the users table yet
    accept_start(stepfunctions)

    response = send_as(events, lambda_context, {"message": "hi", "recipient_users": ["bob", "carol"]})

    assert response["statusCode"] == 200
    _, execution_input = started_execution(stepfunctions)
    frame = execution_input["frame"]
    assert frame["recipient_users"] == ["Bob", "Carol"]
    assert "recipient_id" not in frame and "recipient_ids" not in frame
    assert execution_input["targets"] == [
        {"connection_ids": [SENDER], "username": None},
        {"username": "alice", "name": "Alice", "recipient": False},
        {"username": "bob", "name": "Bob", "recipient": True},
        {"username": "carol", "name": "Carol", "recipient": True},
    ]
    (batch,) = directory.dynamodb.params("BatchGetItem")
    assert batch["RequestItems"]["users"]["Keys"] == [{"username": {"S": "bob"}}, {"username": {"S": "carol"}}]
    # Kept in the sender's direct conversation with each, at a place fixed now (a second execution rewrites it).
    place = f"{frame['sent_at']}#{frame['message_id']}"
    sent = datetime.fromisoformat(frame["sent_at"].replace("Z", "+00:00"))
    expiry = int(sent.timestamp()) + int(os.environ["HISTORY_RETENTION_DAYS"]) * 86400
    assert execution_input["history"] == {
        "store": True,
        "items": [
            # with_target: where the recipient is in targets (the sender is targets[1]), for the conversations the
            # fan-out then moves forward: the sender's with each, and each one's with her.
            {"conversation": "dm#alice bob", "sent_key": place, "expires_at": expiry, "with_target": 2},
            {"conversation": "dm#alice carol", "sent_key": place, "expires_at": expiry, "with_target": 3},
        ],
    }


def test_a_message_to_oneself_by_name_is_looked_up_once(events, lambda_context, stepfunctions, directory):
    users_table_has(directory, ("sub-alice", "Alice"))
    accept_start(stepfunctions)

    send_as(events, lambda_context, {"message": "note to self", "recipient_users": ["ALICE"]})

    _, execution_input = started_execution(stepfunctions)
    assert execution_input["targets"][1:] == [{"username": "alice", "name": "Alice", "recipient": True}]
    assert [item["conversation"] for item in execution_input["history"]["items"]] == ["dm#alice alice"]
    assert execution_input["history"]["items"][0]["with_target"] == 1  # the sender herself


def test_a_conversation_is_named_the_same_whoever_sends():
    from chat.history import direct_conversation

    assert direct_conversation("zoe", "adam") == direct_conversation("adam", "zoe") == "dm#adam zoe"


def test_two_different_pairs_of_users_never_share_a_conversation():
    """A username may hold '#' (Cognito's and this chat's usernames exclude only white space): x#y with z and x with
    y#z are two conversations, or x could read, and write into, the conversation of x#y and z."""
    from chat.history import direct_conversation

    assert direct_conversation("x#y", "z") != direct_conversation("x", "y#z")


def test_an_unknown_user_is_an_error_naming_them_and_nothing_is_sent(events, lambda_context, stepfunctions, directory):
    users_table_has(directory, ("sub-bob", "Bob"))
    cognito_does_not_know(directory, "bobb")

    response = send_as(
        events, lambda_context, {"message": "hi", "recipient_users": ["bob", "bobb"], "client_message_id": "t-1"}
    )

    assert response["statusCode"] == 200  # a client error, not an integration error
    frame = server_frame(response["body"])
    assert (frame["code"], frame["unknown_users"], frame["client_message_id"]) == ("unknown_user", ["bobb"], "t-1")
    assert "'bobb'" in frame["message"]
    assert stepfunctions.operations() == []


def test_users_on_a_stage_without_sign_in_are_an_error_saying_it_has_none(events, lambda_context, stepfunctions):
    response = send(events, lambda_context, {"action": "sendMessage", "message": "hi", "recipient_users": ["bob"]})

    frame = server_frame(response["body"])
    assert (response["statusCode"], frame["code"]) == (200, "no_users")
    assert "no sign-in" in frame["message"]
    assert stepfunctions.operations() == []


def test_a_directory_that_does_not_answer_means_not_sent(events, lambda_context, stepfunctions, directory):
    directory.dynamodb.stubber.add_client_error("batch_get_item", service_error_code="InternalServerError")

    response = send_as(events, lambda_context, {"message": "hi", "recipient_users": ["bob"]})

    assert (response["statusCode"], server_frame(response["body"])["code"]) == (503, "not_sent")
    assert stepfunctions.operations() == []


def test_a_connection_whose_token_expired_may_not_send(events, lambda_context, stepfunctions, directory):
    expired = SignedInUser("sub-alice", "Alice", token_expires_at=int(time.time()) - 1)

    response = send_as(
        events, lambda_context, {"message": "hi", "recipient_id": BOB, "client_message_id": "t-2"}, expired
    )

    assert response["statusCode"] == 200
    frame = server_frame(response["body"])
    assert (frame["code"], frame["client_message_id"]) == ("token_expired", "t-2")
    assert "reconnect" in frame["message"]
    assert stepfunctions.operations() == []


def test_the_sender_cannot_be_claimed_by_the_frame(events, lambda_context, stepfunctions, directory):
    response = send_as(
        events, lambda_context, {"message": "hi", "recipient_id": BOB, "sender": {"id": "x", "name": "Bob"}}
    )

    frame = server_frame(response["body"])
    assert frame["code"] == "invalid_request" and "sender" in frame["message"]
    assert stepfunctions.operations() == []
