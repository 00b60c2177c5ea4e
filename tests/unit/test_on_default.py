"""$default answers any frame that names no known action with an error frame listing the valid actions."""

import importlib.util

import on_default
import pytest

from cdk.paths import LAMBDAS_DIR
from tests.protocol import server_frame


def error_of(response: dict) -> dict:
    # Answered, not failed: a client's unroutable frame must not count as the API's IntegrationError.
    assert response["statusCode"] == 200
    frame = server_frame(response["body"])
    assert frame["type"] == "error"
    assert isinstance(frame["message"], str) and frame["message"]
    return frame


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("not json at all", "invalid_json"),
        ("", "invalid_json"),
        ('["sendMessage"]', "invalid_json"),
        ({"message": "hello"}, "missing_action"),
        ({"action": "shout", "message": "hello"}, "unknown_action"),
        ({"action": 42}, "unknown_action"),
        ("[" * 100_000, "invalid_json"),
        ('{"action": ' * 100_000, "invalid_json"),
        ('{"action": ' + "9" * 5000 + "}", "invalid_json"),
    ],
    ids=["not-json", "empty", "array", "no-action", "unknown", "number", "deep-array", "deep-object", "huge-integer"],
)
def test_unroutable_frames_get_an_error_frame_naming_valid_actions(events, lambda_context, body, code):
    frame = error_of(on_default.handler(events.default(body), lambda_context))

    assert frame["code"] == code
    assert frame["valid_actions"] == ["sendMessage"]  # VALID_ACTIONS, as the stack sets it
    assert "sendMessage" in frame["message"]


def test_unknown_action_is_named_in_the_error(events, lambda_context):
    frame = error_of(on_default.handler(events.default({"action": "shout"}), lambda_context))

    assert "shout" in frame["message"]


def test_missing_body_is_invalid_json(events, lambda_context):
    event = events.default()
    del event["body"]

    frame = error_of(on_default.handler(event, lambda_context))

    assert frame["code"] == "invalid_json"


def test_long_unknown_action_is_quoted_shortened(events, lambda_context):
    frame = error_of(on_default.handler(events.default({"action": "shout" * 20_000}), lambda_context))

    assert frame["code"] == "unknown_action"
    assert "'shoutshout" in frame["message"]
    assert "(100000 characters)" in frame["message"]
    assert len(frame["message"]) < 300


def test_the_valid_actions_are_the_ones_the_stack_routes(monkeypatch, events, lambda_context):
    """A second action needs no change here: the stack lists the routes in VALID_ACTIONS."""
    monkeypatch.setenv("VALID_ACTIONS", "sendMessage,setName")
    spec = importlib.util.spec_from_file_location("cold_start_on_default", LAMBDAS_DIR / "on_default.py")
    fresh = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fresh)

    frame = error_of(fresh.handler(events.default({"action": "shout"}), lambda_context))

    assert frame["valid_actions"] == ["sendMessage", "setName"]
    assert "valid actions: sendMessage, setName" in frame["message"]
