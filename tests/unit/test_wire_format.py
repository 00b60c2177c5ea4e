"""docs/asyncapi.yaml is the wire format: its examples are valid, the server refuses exactly the
sendMessage frames the document does, and the limits lambdas/chat/requests.py copies are the document's."""

import json

import pytest
from chat import requests
from chat.requests import InvalidRequest, parse_send_message

from tests.protocol import client_frame, document, matching_messages, message_names, schema, server_frame

ALICE = "CfF2b3hQoAMCJ-g="
BOB = "CfF2dHqMoAMCLzQ="


def examples() -> list[tuple[str, str, dict]]:
    return [
        (name, example["name"], example["payload"])
        for name, message in document()["components"]["messages"].items()
        for example in message["examples"]
    ]


def test_every_message_has_an_example_and_a_direction():
    documented = set(document()["components"]["messages"])
    assert {name for name, _, _ in examples()} == documented
    assert set(message_names("send")) | set(message_names("receive")) == documented
    assert not set(message_names("send")) & set(message_names("receive"))


@pytest.mark.parametrize(("message", "example", "payload"), examples(), ids=[f"{m}-{e}" for m, e, _ in examples()])
def test_each_example_is_its_own_message_and_no_other(message, example, payload):
    assert matching_messages(payload, "send") + matching_messages(payload, "receive") == [message]


def test_the_limits_the_server_checks_are_the_documents():
    assert schema("RecipientUsers")["maxItems"] == requests.MAX_RECIPIENTS
    assert schema("Username")["maxLength"] == requests.MAX_USERNAME_LENGTH
    assert f"^{requests.USERNAME.pattern}$" == schema("Username")["pattern"]
    assert schema("MessageText")["x-max-utf8-bytes"] == requests.MAX_MESSAGE_BYTES
    assert schema("Recipients")["maxItems"] == requests.MAX_RECIPIENTS
    assert schema("ConnectionId")["maxLength"] == requests.MAX_CONNECTION_ID_LENGTH
    assert f"^{requests.CONNECTION_ID.pattern}$" == schema("ConnectionId")["pattern"]
    assert f"^{requests.CLIENT_MESSAGE_ID.pattern}$" == schema("ClientMessageId")["pattern"]


def server_accepts(frame: dict) -> bool:
    try:
        parse_send_message(json.dumps(frame))
    except InvalidRequest:
        return False
    return True


def document_accepts(frame: dict) -> bool:
    try:
        client_frame(frame)
    except AssertionError:
        return False
    return True


def send(**fields) -> dict:
    return {"action": "sendMessage", **fields}


LONGEST_ID = "A" * 128
SEND_MESSAGE_FRAMES = {
    "one recipient": send(message="Hello", recipient_id=ALICE),
    "several recipients": send(message="Hello", recipient_ids=[ALICE, BOB]),
    "a client message id": send(message="Hello", recipient_id=ALICE, client_message_id="tab1-42"),
    "the longest ids": send(message="Hi", recipient_ids=[LONGEST_ID], client_message_id="c" * 64),
    "20 recipients": send(message="Hi", recipient_ids=[f"id{n}" for n in range(20)]),
    "16 KiB of 2-byte characters": send(message="é" * 8192, recipient_id=ALICE),
    "no recipient": send(message="Hello"),
    "both recipient forms": send(message="Hello", recipient_id=ALICE, recipient_ids=[BOB]),
    "no recipients in the list": send(message="Hello", recipient_ids=[]),
    "21 recipients": send(message="Hi", recipient_ids=[f"id{n}" for n in range(21)]),
    "a recipient twice": send(message="Hello", recipient_ids=[ALICE, ALICE]),
    "an id too long": send(message="Hello", recipient_id="A" * 129),
    "an id with a space": send(message="Hello", recipient_id="not an id"),
    "an empty message": send(message="", recipient_id=ALICE),
    "a blank message": send(message=" \n\t", recipient_id=ALICE),
    "16 KiB and one byte": send(message="é" * 8192 + "!", recipient_id=ALICE),
    "a message that is not text": send(message=42, recipient_id=ALICE),
    "a client message id too long": send(message="Hi", recipient_id=ALICE, client_message_id="c" * 65),
    "a client message id with a dot": send(message="Hi", recipient_id=ALICE, client_message_id="tab.1"),
    "users": send(message="Hi", recipient_users=["bob", "Carol", "dave@example.com", "ünïcode"]),
    "20 users": send(message="Hi", recipient_users=[f"user{n}" for n in range(20)]),
    "the longest username": send(message="Hi", recipient_users=["u" * 128]),
    "21 users": send(message="Hi", recipient_users=[f"user{n}" for n in range(21)]),
    "no users in the list": send(message="Hi", recipient_users=[]),
    "a user twice": send(message="Hi", recipient_users=["bob", "bob"]),
    "a username with a space": send(message="Hi", recipient_users=["bo b"]),
    "a username too long": send(message="Hi", recipient_users=["u" * 129]),
    "a username that is a number": send(message="Hi", recipient_users=[7]),
    "users and a connection id": send(message="Hi", recipient_users=["bob"], recipient_id=ALICE),
    "a sender id": send(message="Hi", recipient_id=ALICE, sender_id=BOB),
    "a sender": send(message="Hi", recipient_id=ALICE, sender={"id": "x", "name": "bob"}),
}


@pytest.mark.parametrize("frame", SEND_MESSAGE_FRAMES.values(), ids=SEND_MESSAGE_FRAMES)
def test_the_server_accepts_exactly_the_send_message_frames_the_document_describes(frame):
    assert server_accepts(frame) == document_accepts(frame)


def test_an_undocumented_field_in_a_server_frame_fails_the_check():
    with pytest.raises(AssertionError, match="'nickname' was unexpected"):
        server_frame({"type": "connection", "connection_id": ALICE, "nickname": "alice"})


ALICE_USER = {"id": "7d3c6a0e-2b1f-4c5d-9e8f-0a1b2c3d4e5f", "name": "alice"}
MESSAGE = {
    "type": "message",
    "message_id": "3f2c1b0a-9e8d-4c7b-a6f5-e4d3c2b1a090",
    "message": "hi",
    "sender_id": ALICE,
    "sent_at": "2026-11-29T15:00:01.456Z",
}
USER_FRAMES = {
    "a message to connections with its sender": (
        {**MESSAGE, "sender": ALICE_USER, "recipient_id": BOB, "recipient_ids": [BOB]},
        "message",
    ),
    "a message to users": ({**MESSAGE, "sender": ALICE_USER, "recipient_users": ["bob"]}, "message"),
    "a message to users and connections": (
        {**MESSAGE, "recipient_users": ["bob"], "recipient_id": BOB, "recipient_ids": [BOB]},
        None,
    ),
    "a message to nobody": (MESSAGE, None),
    "a connection frame with a user without id": (
        {"type": "connection", "connection_id": ALICE, "user": {"name": "alice"}},
        None,
    ),
    "users offline, no connection named": (
        {
            "type": "delivery_failed",
            "reason": "offline",
            "message_id": MESSAGE["message_id"],
            "failures": [{"username": "carol", "status": "offline"}],
        },
        "delivery_failed",
    ),
    "a connection not reached without recipient ids": (
        {
            "type": "delivery_failed",
            "reason": "gone",
            "message_id": MESSAGE["message_id"],
            "failures": [{"connection_id": BOB, "status": "gone"}],
        },
        None,
    ),
    "recipient ids with only users offline": (
        {
            "type": "delivery_failed",
            "reason": "offline",
            "message_id": MESSAGE["message_id"],
            "recipient_id": BOB,
            "recipient_ids": [BOB],
            "failures": [{"username": "carol", "status": "offline"}],
        },
        None,
    ),
    "a user whose lookup failed, with its error": (
        {
            "type": "delivery_failed",
            "reason": "failed",
            "message_id": MESSAGE["message_id"],
            "failures": [{"username": "carol", "status": "failed", "error": "DynamoDb.InternalServerErrorException"}],
        },
        "delivery_failed",
    ),
    "a user offline with an error": (
        {
            "type": "delivery_failed",
            "reason": "offline",
            "message_id": MESSAGE["message_id"],
            "failures": [{"username": "carol", "status": "offline", "error": "x"}],
        },
        None,
    ),
    "a username with a space": ({**MESSAGE, "recipient_users": ["bo b"]}, None),
}


@pytest.mark.parametrize(("frame", "expected"), USER_FRAMES.values(), ids=USER_FRAMES)
def test_the_user_fields_of_server_frames(frame, expected):
    claimed = {"message": "message", "delivery_failed": "deliveryFailed", "connection": "connection"}[frame["type"]]
    if expected is None:
        with pytest.raises(AssertionError):
            server_frame(frame)
    else:
        assert server_frame(frame) == frame
        assert matching_messages(frame, "send") == [claimed]
