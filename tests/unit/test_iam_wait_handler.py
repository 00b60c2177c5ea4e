"""The deploy-time wait (cdk/iam_wait_handler.py) always answers CloudFormation, with what its request needs."""

import json
import time

import pytest

from cdk import iam_wait_handler

URL = "https://cloudformation-custom-resource-response-euwest1.s3.amazonaws.com/answer"


class Context:
    def __init__(self, remaining_ms: int = 60_000):
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@pytest.fixture
def cloudformation(monkeypatch):
    """The answers the handler PUTs to CloudFormation's pre-signed response URL (unit tests open no sockets)."""
    answers = []

    class Sent:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    def urlopen(request, timeout):
        assert (request.get_method(), request.full_url, timeout) == ("PUT", URL, iam_wait_handler.ANSWER_SECONDS)
        answers.append(json.loads(request.data))
        return Sent()

    monkeypatch.setattr(iam_wait_handler.urllib.request, "urlopen", urlopen)
    return URL, answers


def request(url: str, request_type: str, seconds="0.2") -> dict:
    return {
        "RequestType": request_type,
        "ResponseURL": url,
        "StackId": "arn:aws:cloudformation:eu-west-1:111122223333:stack/Chat-dev/1",
        "RequestId": "r-1",
        "LogicalResourceId": "IamPropagationWait",
        "ResourceProperties": {"Seconds": seconds, "Roles": ["arn:aws:iam::111122223333:role/x"]},
    }


@pytest.mark.parametrize("request_type", ["Create", "Update"])
def test_create_and_update_wait_then_succeed(cloudformation, request_type):
    url, answers = cloudformation
    started = time.monotonic()

    iam_wait_handler.handler(request(url, request_type), Context())

    assert time.monotonic() - started >= 0.2
    (answer,) = answers
    assert answer["Status"] == "SUCCESS"
    assert (answer["RequestId"], answer["LogicalResourceId"]) == ("r-1", "IamPropagationWait")
    assert answer["PhysicalResourceId"] == "IamPropagationWait"


def test_delete_answers_at_once(cloudformation):
    url, answers = cloudformation
    started = time.monotonic()

    iam_wait_handler.handler({**request(url, "Delete", seconds="300"), "PhysicalResourceId": "kept"}, Context())

    assert time.monotonic() - started < 5
    assert [(answer["Status"], answer["PhysicalResourceId"]) for answer in answers] == [("SUCCESS", "kept")]


def test_the_wait_leaves_time_to_answer(cloudformation):
    url, answers = cloudformation
    started = time.monotonic()

    iam_wait_handler.handler(request(url, "Create", seconds="300"), Context(remaining_ms=10_500))

    assert time.monotonic() - started < 5
    assert answers[0]["Status"] == "SUCCESS"


def test_a_bad_request_is_answered_as_failed_not_left_hanging(cloudformation):
    url, answers = cloudformation

    iam_wait_handler.handler(request(url, "Create", seconds="soon"), Context())

    (answer,) = answers
    assert answer["Status"] == "FAILED" and "ValueError" in answer["Reason"]
