"""What operators read of message_fanout in CloudWatch Logs: the delivery metrics' filter patterns
(cdk/delivery_metrics.py) and the saved queries' criteria (cdk/log_queries.py), applied to one real execution
of the fan-out on moto's engine, written as Step Functions writes it to its log group.

Step Functions logs each history event as one JSON line: ``type``, ``details`` (the event's details as
GetExecutionHistory returns them), ``id``, ``previous_event_id``, ``event_timestamp``, ``execution_arn``
(``…:express:<state machine>:<execution name>:<id>`` for Express) and ``redrive_count``; where execution data
are not logged (prod) the details carry no input, output or parameters (Step Functions developer guide, "Using
CloudWatch Logs to log execution history", "Log levels"). The metric filter patterns are evaluated by
``metric_filter_matches`` below, which knows only the pattern form the project uses (a conjunction of string
equalities on JSON fields) and refuses any other.
"""

import json
import re
import uuid

import pytest

from cdk.delivery_metrics import FILTER_PATTERNS
from cdk.log_queries import NOT_REACHED_STATES, TASK_FAILURES

SENDER = "CfF0ed8QoAMCKxQ="
ALICE = "CfF2b3hQoAMCJ-g="
BOB = "CfF2dHqMoAMCLzQ="
CAROL = "CfF2fKd7oAMCJdA="
DAVE = "CfF2hLr2oAMCKbw="
EXECUTION_DATA = ("input", "inputDetails", "output", "outputDetails", "parameters")

_TERM = re.compile(r'\((\$(?:\.\w+)+) = "([^"\\]*)"\)')


def metric_filter_matches(pattern: str, log_line: str) -> bool:
    """CloudWatch Logs' JSON metric filter semantics for ``{ ($.a.b = "x") && ... }``: every selected field
    exists and equals its string."""
    body = pattern.strip()
    if not (body.startswith("{") and body.endswith("}")):
        raise ValueError(f"not a JSON filter pattern: {pattern}")
    terms = [term.strip() for term in body[1:-1].split("&&")]
    parsed = [_TERM.fullmatch(term) for term in terms]
    if not all(parsed):
        raise ValueError(f"filter pattern beyond string equalities joined by &&: {pattern}")
    event = json.loads(log_line)
    for match in parsed:
        value = event
        for key in match.group(1).split(".")[1:]:
            if not isinstance(value, dict) or key not in value:
                return False
            value = value[key]
        if value != match.group(2):
            return False
    return True


def log_lines(execution, *, execution_data: bool) -> list[str]:
    """The execution's history events as the state machine's CloudWatch Logs lines."""
    express_arn = execution.arn.replace(":execution:", ":express:") + f":{uuid.uuid4()}"
    lines = []
    for event in execution.history:
        (details,) = [value for key, value in event.items() if key.endswith("EventDetails")] or [{}]
        if not execution_data:
            details = {key: value for key, value in details.items() if key not in EXECUTION_DATA}
        lines.append(
            json.dumps(
                {
                    "id": str(event["id"]),
                    "type": event["type"],
                    "details": details,
                    "previous_event_id": str(event.get("previousEventId", 0)),
                    "event_timestamp": str(int(event["timestamp"].timestamp() * 1000)),
                    "execution_arn": express_arn,
                    "redrive_count": "0",
                },
                separators=(",", ":"),
            )
        )
    return lines


@pytest.fixture
def mixed_fanout(workflows, fanout_input):
    """One message to four recipients: ALICE delivered, BOB gone, CAROL refused (403), DAVE throttled once
    then delivered; the execution named after the message, as sendMessage names it."""
    workflows.connections.connect(SENDER, ALICE, CAROL, DAVE)  # BOB has left
    workflows.connections.refuse(CAROL, 403)
    workflows.connections.refuse(DAVE, 429)
    execution_input = fanout_input(SENDER, {"message": "hi", "recipient_ids": [ALICE, BOB, CAROL, DAVE]})
    message_id = execution_input["frame"]["message_id"]
    execution = workflows.run("message_fanout", execution_input, name=message_id)
    assert execution.status == "SUCCEEDED"
    return execution, message_id


@pytest.mark.parametrize("execution_data", [True, False], ids=["dev-staging", "prod-no-execution-data"])
def test_each_delivery_outcome_is_counted_once_by_its_metric_filter(mixed_fanout, execution_data):
    execution, _ = mixed_fanout
    lines = log_lines(execution, execution_data=execution_data)

    counted = {
        metric: sum(metric_filter_matches(pattern, line) for line in lines)
        for metric, pattern in FILTER_PATTERNS.items()
    }

    report = [delivery["status"] for delivery in execution.output["deliveries"]]
    assert counted == {
        "Deliveries": report.count("delivered"),
        "GoneRecipients": report.count("gone"),
        "FailedDeliveries": report.count("failed"),
        "ThrottledPosts": 1,
    }
    assert counted == {"Deliveries": 3, "GoneRecipients": 1, "FailedDeliveries": 1, "ThrottledPosts": 1}


def test_the_message_id_finds_every_line_of_its_execution_each_delivery_included(mixed_fanout):
    execution, message_id = mixed_fanout
    lines = [json.loads(line) for line in log_lines(execution, execution_data=False)]

    # The saved query's condition: execution_arn like ":MESSAGE_ID:"
    assert all(f":{message_id}:" in line["execution_arn"] for line in lines)
    iterations = [
        line
        for line in lines
        if line["type"] == "MapIterationStarted" and line["details"]["name"] == "DeliverToEachConnection"
    ]
    assert sorted(line["details"]["index"] for line in iterations) == [0, 1, 2, 3, 4]


def test_the_failed_deliveries_query_selects_each_connection_not_reached_and_each_failed_post(mixed_fanout):
    execution, message_id = mixed_fanout
    lines = [json.loads(line) for line in log_lines(execution, execution_data=False)]

    selected = [
        line
        for line in lines
        if (line["type"] == "PassStateEntered" and line["details"]["name"] in NOT_REACHED_STATES)
        or line["type"] in TASK_FAILURES
    ]

    assert sorted(line["details"].get("name") or line["details"]["error"] for line in selected) == [
        "ApiGateway.403",
        "ApiGateway.410",
        "ApiGateway.429",
        "DeliveryFailed",
        "RecipientGone",
    ]
    # The query's parse statement, in Python's spelling of a named group.
    parse = re.compile(r":express:[^:]+:(?P<message_id>[^:]+):")
    assert {parse.search(line["execution_arn"])["message_id"] for line in selected} == {message_id}


@pytest.mark.parametrize(
    ("pattern", "line", "matches"),
    [
        ('{ ($.type = "A") && ($.details.name = "B") }', '{"type":"A","details":{"name":"B"}}', True),
        ('{ ($.type = "A") && ($.details.name = "B") }', '{"type":"A","details":{"name":"C"}}', False),
        ('{ ($.type = "A") && ($.details.name = "B") }', '{"type":"A","details":{}}', False),
        ('{ ($.type = "A") }', '{"type":"A","details":"B"}', True),
    ],
)
def test_the_pattern_matcher_itself(pattern, line, matches):
    assert metric_filter_matches(pattern, line) is matches


@pytest.mark.parametrize("pattern", ['{ $.type = "A" }', '{ ($.type = "A") || ($.x = "B") }', '"ERROR"'])
def test_the_pattern_matcher_refuses_patterns_it_does_not_know(pattern):
    with pytest.raises(ValueError):
        metric_filter_matches(pattern, "{}")
