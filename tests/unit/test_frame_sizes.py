"""The largest frames the chat can send stay within what API Gateway and Step Functions accept.

A message frame is posted to @connections, whose message payload limit is 128 KB (API Gateway sends
it to the client in frames of 32 KB at most); it also travels in the fan-out execution's input,
limited to 256 KB. The worst case is a message of MAX_MESSAGE_BYTES bytes that json.dumps escapes
most: a control character (1 byte) becomes \\u00XX (6 bytes).
"""

import json

from chat.frames import accepted_frame, encode, message_frame
from chat.requests import MAX_CONNECTION_ID_LENGTH, MAX_MESSAGE_BYTES, MAX_RECIPIENTS, MAX_USERNAME_LENGTH
from chat.users import User
from send_message import fanout_input

API_GATEWAY_MESSAGE_BYTES = 128 * 1024
STEP_FUNCTIONS_PAYLOAD_BYTES = 256 * 1024
LONGEST_ID = "A" * MAX_CONNECTION_ID_LENGTH
# A username as long as Cognito allows, of characters json.dumps escapes most: one outside the BMP becomes a
# surrogate pair, \uXXXX\uXXXX (12 bytes).
LONGEST_USERS = [User(id="0" * 36, name=chr(0x1F600 + number) * MAX_USERNAME_LENGTH) for number in range(21)]


def test_most_escaped_byte_grows_six_fold():
    """Per byte of UTF-8: ASCII controls 6x, 2-byte characters 3x, 3-byte 2x, 4-byte (a surrogate pair) 3x."""
    empty = len(encode({"m": ""}))
    samples = [*map(chr, range(0x80)), "\u0080", "\u07ff", "\u0800", "\uffff", "\U00010000", "\U0010ffff"]
    growth = {sample: (len(encode({"m": sample})) - empty) / len(sample.encode("utf-8")) for sample in samples}
    assert max(growth.values()) == 6 == growth["\x01"]


def worst_message_frame() -> dict:
    recipients = [LONGEST_ID[:-2] + f"{number:02d}" for number in range(MAX_RECIPIENTS)]
    return message_frame(
        message_id="0" * 36,
        message="\x01" * MAX_MESSAGE_BYTES,
        sender_id=LONGEST_ID,
        recipient_ids=recipients,
        sent_at="2026-11-29T15:00:00.000000+00:00",
        client_message_id="c" * 64,
    )


def worst_message_to_users() -> dict:
    """From a user with the longest name to as many users as allowed, each with the longest name."""
    return message_frame(
        message_id="0" * 36,
        message="\x01" * MAX_MESSAGE_BYTES,
        sender_id=LONGEST_ID,
        sender=LONGEST_USERS[0],
        recipient_users=LONGEST_USERS[1:],
        sent_at="2026-11-29T15:00:00.000000+00:00",
        client_message_id="c" * 64,
    )


def test_largest_message_frame_fits_one_api_gateway_message():
    for frame in (worst_message_frame(), worst_message_to_users()):
        size = len(encode(frame))
        assert size <= API_GATEWAY_MESSAGE_BYTES, size


def test_largest_fanout_input_fits_step_functions():
    for frame, sender, users in [
        (worst_message_frame(), None, []),
        (worst_message_to_users(), LONGEST_USERS[0], LONGEST_USERS[1:]),
    ]:
        execution_input = fanout_input(
            sender_id=LONGEST_ID,
            sender=sender,
            connection_ids=frame.get("recipient_ids", []),
            recipient_users=users,
            frame=frame,
        )
        assert len(json.dumps(execution_input).encode("utf-8")) <= STEP_FUNCTIONS_PAYLOAD_BYTES


def test_largest_delivery_failed_frame_fits_one_frame():
    """Every recipient unreached, each with a Step Functions error name (at most 256 characters)."""
    unreached = [LONGEST_ID[:-2] + f"{number:02d}" for number in range(MAX_RECIPIENTS)]
    frame = {
        "type": "delivery_failed",
        "reason": "failed",
        "message_id": "0" * 36,
        "recipient_id": unreached[0],
        "recipient_ids": unreached,
        "failures": [{"connection_id": id_, "status": "failed", "error": "E" * 256} for id_ in unreached],
    }
    assert len(encode(frame)) <= 32 * 1024


def test_largest_delivery_failed_frame_about_users_fits_one_api_gateway_message():
    """The sender's copy failed and every recipient user's lookup failed, each with the longest name: more than
    one 32 KB frame (API Gateway splits it), within one message."""
    frame = {
        "type": "delivery_failed",
        "reason": "failed",
        "message_id": "0" * 36,
        "recipient_id": LONGEST_ID,
        "recipient_ids": [LONGEST_ID],
        "failures": [
            {"connection_id": LONGEST_ID, "status": "failed", "error": "E" * 256},
            *({"username": user.name, "status": "failed", "error": "E" * 256} for user in LONGEST_USERS[1:]),
        ],
    }
    assert len(encode(frame)) <= API_GATEWAY_MESSAGE_BYTES


def test_accepted_frame_is_small():
    assert len(encode(accepted_frame(message_id="0" * 36, client_message_id="c" * 64))) <= 1024
