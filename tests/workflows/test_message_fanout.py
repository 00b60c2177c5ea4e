"""message_fanout on moto's engine: one delivery per connection, throttled posts retried, and every
connection not reached (gone, or failed with any other error) reported to the sender in one frame while
the others are still delivered and the execution succeeds."""

import json

import pytest
from chat.frames import encode

from cdk.definitions import deployed_definition
from tests.protocol import server_frame

SENDER = "CfF0ed8QoAMCKxQ="
ALICE = "CfF2b3hQoAMCJ-g="
BOB = "CfF2dHqMoAMCLzQ="
CAROL = "CfF2fKd7oAMCJdA="
DAVE = "CfF2hLr2oAMCKbw="


def throttled_attempts() -> int:
    """How many times a delivery that stays throttled is posted (first try + retries)."""
    definition = json.loads(deployed_definition("message_fanout"))
    task = definition["States"]["DeliverToEachConnection"]["ItemProcessor"]["States"]["DeliverMessage"]
    (retrier,) = [r for r in task["Retry"] if "ApiGateway.429" in r["ErrorEquals"]]
    return 1 + retrier["MaxAttempts"]


def not_reached(workflows, connection_id: str, status: int, times: int = 1) -> None:
    """Posts to ``connection_id`` fail with ``status``: 410 because the client left, else refused by the gateway."""
    if status == 410:
        workflows.connections.disconnect(connection_id)
    else:
        workflows.connections.refuse(connection_id, status, times)


def notices(workflows, sender: str = SENDER) -> list[dict]:
    return [f for f in workflows.connections.frames(sender) if f["type"] == "delivery_failed"]


def deliveries(execution) -> dict[str, str]:
    return {d["connection_id"]: d["status"] for d in execution.output["deliveries"]}


def deliveries_posted(execution) -> list[dict]:
    """The delivery Map's iterations: one per connection."""
    return [
        event
        for event in execution.events("MapIterationStarted")
        if event["mapIterationStartedEventDetails"]["name"] == "DeliverToEachConnection"
    ]


def states_entered(execution) -> list[str]:
    return [e["stateEnteredEventDetails"]["name"] for e in execution.history if "stateEnteredEventDetails" in e]


@pytest.mark.parametrize(
    ("addressed", "recipients"),
    [
        ({"recipient_id": ALICE}, [ALICE]),
        ({"recipient_ids": [ALICE, BOB, SENDER, CAROL, DAVE]}, [ALICE, BOB, CAROL, DAVE]),
    ],
    ids=["one-recipient", "several-and-the-sender-named-too"],
)
def test_sender_and_every_recipient_get_the_message_once(workflows, fanout_input, addressed, recipients):
    workflows.connections.connect(SENDER, *recipients)
    execution_input = fanout_input(SENDER, {"message": "hello", **addressed})
    frame = execution_input["frame"]

    execution = workflows.run("message_fanout", execution_input)

    assert execution.status == "SUCCEEDED"
    assert execution.output == {
        "message_id": frame["message_id"],
        "deliveries": [{"connection_id": c, "status": "delivered"} for c in [SENDER, *recipients]],
        "users": [],
    }
    for connection_id in [SENDER, *recipients]:
        assert workflows.connections.frames(connection_id) == [frame], connection_id
    assert frame["type"] == "message" and frame["message"] == "hello"
    assert len(deliveries_posted(execution)) == 1 + len(recipients)
    assert "TellSenderNotReached" not in states_entered(execution)


def test_each_delivery_is_a_signed_post_to_connections_with_no_lambda(workflows, fanout_input):
    workflows.connections.connect(SENDER, ALICE)
    execution = workflows.run("message_fanout", fanout_input(SENDER, {"message": "hi", "recipient_id": ALICE}))

    scheduled = [event["taskScheduledEventDetails"] for event in execution.events("TaskScheduled")]
    assert {(task["resourceType"], task["resource"]) for task in scheduled} == {("apigateway", "invoke")}
    posts = [json.loads(task["parameters"]) for task in scheduled]
    assert sorted(post["Path"] for post in posts) == sorted(f"/@connections/{c}" for c in (SENDER, ALICE))
    assert {(post["Method"], post["Stage"], post["AuthType"]) for post in posts} == {("POST", "dev", "IAM_ROLE")}
    assert workflows.gateway.invoked() == []


@pytest.mark.parametrize(
    ("status", "report"),
    [
        (410, {"status": "gone"}),
        (403, {"status": "failed", "error": "ApiGateway.403"}),
        (400, {"status": "failed", "error": "ApiGateway.400"}),
    ],
    ids=["410-gone", "403-forbidden", "400-bad-request"],
)
def test_a_recipient_not_reached_does_not_stop_the_others_and_the_sender_is_told(
    workflows, fanout_input, status, report
):
    workflows.connections.connect(SENDER, ALICE, BOB, CAROL, DAVE)
    not_reached(workflows, BOB, status)
    execution_input = fanout_input(SENDER, {"message": "hi all", "recipient_ids": [ALICE, BOB, CAROL, DAVE]})
    frame = execution_input["frame"]

    execution = workflows.run("message_fanout", execution_input)

    assert execution.status == "SUCCEEDED"
    assert execution.output == {
        "message_id": frame["message_id"],
        "deliveries": [
            {"connection_id": SENDER, "status": "delivered"},
            {"connection_id": ALICE, "status": "delivered"},
            {"connection_id": BOB, **report},
            {"connection_id": CAROL, "status": "delivered"},
            {"connection_id": DAVE, "status": "delivered"},
        ],
        "users": [],
    }
    for connection_id in [ALICE, CAROL, DAVE]:
        assert workflows.connections.frames(connection_id) == [frame], connection_id
    assert workflows.connections.frames(BOB) == []
    assert workflows.connections.attempts(BOB) == [status], "not retried"
    assert workflows.connections.frames(SENDER) == [
        frame,
        {
            "type": "delivery_failed",
            "reason": report["status"],
            "message_id": frame["message_id"],
            "recipient_id": BOB,
            "recipient_ids": [BOB],
            "failures": [{"connection_id": BOB, **report}],
        },
    ]
    assert execution.task_errors() == [f"ApiGateway.{status}"]
    assert len(deliveries_posted(execution)) == 5


def test_sender_is_told_every_recipient_not_reached(workflows, fanout_input):
    workflows.connections.connect(SENDER, BOB)  # ALICE and CAROL have left
    execution_input = fanout_input(SENDER, {"message": "hi", "recipient_ids": [ALICE, BOB, CAROL]})

    execution = workflows.run("message_fanout", execution_input)

    assert execution.status == "SUCCEEDED"
    assert deliveries(execution) == {SENDER: "delivered", ALICE: "gone", BOB: "delivered", CAROL: "gone"}
    (notice,) = [f for f in workflows.connections.frames(SENDER) if f["type"] == "delivery_failed"]
    assert notice["recipient_ids"] == [ALICE, CAROL]
    assert notice["recipient_id"] == ALICE
    assert notice["reason"] == "gone", "every connection not reached was gone"
    assert notice["failures"] == [
        {"connection_id": ALICE, "status": "gone"},
        {"connection_id": CAROL, "status": "gone"},
    ]


@pytest.mark.parametrize(
    ("status", "report"),
    [(410, {"status": "gone"}), (403, {"status": "failed", "error": "ApiGateway.403"})],
    ids=["sender-gone", "sender-forbidden"],
)
def test_the_sender_not_reached_too_still_ends_with_the_report(workflows, fanout_input, status, report):
    workflows.connections.connect(SENDER, BOB)  # ALICE has left
    not_reached(workflows, SENDER, status, times=2)  # the message, then the notice to the sender
    execution_input = fanout_input(SENDER, {"message": "hi", "recipient_ids": [ALICE, BOB]})

    execution = workflows.run("message_fanout", execution_input)

    assert execution.status == "SUCCEEDED"
    assert execution.output["deliveries"] == [
        {"connection_id": SENDER, **report},
        {"connection_id": ALICE, "status": "gone"},
        {"connection_id": BOB, "status": "delivered"},
    ]
    assert workflows.connections.frames(BOB) == [execution_input["frame"]]
    assert workflows.connections.attempts(SENDER) == [status, status], "the message, then the not-reached notice"
    assert "TellSenderNotReached" in states_entered(execution)
    assert states_entered(execution)[-1] == "DeliveryReport"


def test_throttled_delivery_is_retried_and_delivered_once(workflows, fanout_input):
    workflows.connections.connect(SENDER, ALICE)
    workflows.connections.refuse(ALICE, 429, times=2)
    execution_input = fanout_input(SENDER, {"message": "hello", "recipient_id": ALICE})

    execution = workflows.run("message_fanout", execution_input)

    assert execution.status == "SUCCEEDED"
    assert deliveries(execution) == {SENDER: "delivered", ALICE: "delivered"}
    assert workflows.connections.attempts(ALICE) == [429, 429, 200]
    assert workflows.connections.frames(ALICE) == [execution_input["frame"]]
    assert workflows.connections.frames(SENDER) == [execution_input["frame"]]
    assert execution.task_errors() == ["ApiGateway.429", "ApiGateway.429"]
    assert len(deliveries_posted(execution)) == 2


def test_throttling_that_never_stops_is_reported_failed_after_the_retries(workflows, fanout_input):
    attempts = throttled_attempts()
    workflows.connections.connect(SENDER, ALICE, BOB)
    workflows.connections.refuse(ALICE, 429, times=attempts + 5)
    execution_input = fanout_input(SENDER, {"message": "hello", "recipient_ids": [ALICE, BOB]})
    frame = execution_input["frame"]

    execution = workflows.run("message_fanout", execution_input)

    assert execution.status == "SUCCEEDED"
    assert deliveries(execution) == {SENDER: "delivered", ALICE: "failed", BOB: "delivered"}
    assert execution.output["deliveries"][1] == {
        "connection_id": ALICE,
        "status": "failed",
        "error": "ApiGateway.429",
    }
    assert attempts > 1
    assert workflows.connections.attempts(ALICE) == [429] * attempts
    assert workflows.connections.frames(ALICE) == []
    assert workflows.connections.frames(BOB) == [frame]
    assert execution.task_errors() == ["ApiGateway.429"] * attempts
    (notice,) = notices(workflows)
    assert notice["reason"] == "failed"
    assert notice["recipient_id"] == ALICE
    assert notice["recipient_ids"] == [ALICE]
    assert notice["failures"] == [{"connection_id": ALICE, "status": "failed", "error": "ApiGateway.429"}]


def test_gone_and_failed_recipients_are_reported_in_one_frame(workflows, fanout_input):
    workflows.connections.connect(SENDER, ALICE, CAROL, DAVE)  # BOB has left
    workflows.connections.refuse(CAROL, 403)
    execution_input = fanout_input(SENDER, {"message": "hi", "recipient_ids": [ALICE, BOB, CAROL, DAVE]})
    frame = execution_input["frame"]

    execution = workflows.run("message_fanout", execution_input)

    assert execution.status == "SUCCEEDED"
    assert deliveries(execution) == {
        SENDER: "delivered",
        ALICE: "delivered",
        BOB: "gone",
        CAROL: "failed",
        DAVE: "delivered",
    }
    assert workflows.connections.frames(ALICE) == [frame]
    assert workflows.connections.frames(DAVE) == [frame]
    assert workflows.connections.frames(SENDER) == [
        frame,
        {
            "type": "delivery_failed",
            "reason": "failed",
            "message_id": frame["message_id"],
            "recipient_id": BOB,
            "recipient_ids": [BOB, CAROL],
            "failures": [
                {"connection_id": BOB, "status": "gone"},
                {"connection_id": CAROL, "status": "failed", "error": "ApiGateway.403"},
            ],
        },
    ]


def test_every_frame_posted_is_compact_json_as_the_handlers_write_it(workflows, fanout_input):
    workflows.connections.connect(SENDER, ALICE)  # BOB has left: the sender is also sent a delivery_failed frame
    execution_input = fanout_input(SENDER, {"message": "hi", "recipient_ids": [ALICE, BOB]})

    workflows.run("message_fanout", execution_input)

    sent = workflows.connections.sent(SENDER) + workflows.connections.sent(ALICE)
    assert [json.loads(frame)["type"] for frame in sent] == ["message", "delivery_failed", "message"]
    assert sent == [encode(json.loads(frame)).decode("utf-8") for frame in sent]


@pytest.mark.parametrize("status", [200, 403], ids=["delivered", "sender-forbidden"])
def test_a_message_to_oneself_is_one_delivery_with_its_report(workflows, fanout_input, status):
    """One connection: every step of the fan-out handles a Map of one item (lists of one stay lists)."""
    workflows.connections.connect(SENDER)
    if status != 200:
        workflows.connections.refuse(SENDER, status, times=2)  # the message, then the notice to the sender
    execution_input = fanout_input(SENDER, {"message": "note to self", "recipient_id": SENDER})
    frame = execution_input["frame"]

    execution = workflows.run("message_fanout", execution_input)

    assert execution.status == "SUCCEEDED"
    report = {"status": "delivered"} if status == 200 else {"status": "failed", "error": f"ApiGateway.{status}"}
    assert execution.output == {
        "message_id": frame["message_id"],
        "deliveries": [{"connection_id": SENDER, **report}],
        "users": [],
    }
    assert len(deliveries_posted(execution)) == 1
    if status == 200:
        assert workflows.connections.frames(SENDER) == [frame]
    else:
        assert workflows.connections.attempts(SENDER) == [status, status], "the message, then the notice"
        scheduled = json.loads(execution.events("TaskScheduled")[-1]["taskScheduledEventDetails"]["parameters"])
        notice = server_frame(scheduled["RequestBody"])  # posted, though the sender did not get it
        assert notice == {
            "type": "delivery_failed",
            "reason": "failed",
            "message_id": frame["message_id"],
            "recipient_id": SENDER,
            "recipient_ids": [SENDER],
            "failures": [{"connection_id": SENDER, **report}],
        }
