"""message_fanout on moto's engine: one delivery per connection, gone recipients reported to the sender,
throttled posts retried."""

SENDER = "CfF0ed8QoAMCKxQ="
ALICE = "CfF2b3hQoAMCJ-g="
BOB = "CfF2dHqMoAMCLzQ="
CAROL = "CfF2fKd7oAMCJdA="
DAVE = "CfF2hLr2oAMCKbw="


def deliveries(execution) -> dict[str, str]:
    return {d["connection_id"]: d["status"] for d in execution.output["deliveries"]}


def states_entered(execution) -> list[str]:
    return [e["stateEnteredEventDetails"]["name"] for e in execution.history if "stateEnteredEventDetails" in e]


def test_sender_and_recipient_each_get_the_message_once(workflows, fanout_input):
    execution_input = fanout_input(SENDER, {"message": "hello", "recipient_id": ALICE})
    frame = execution_input["frame"]

    execution = workflows.run("message_fanout", execution_input)

    assert execution.status == "SUCCEEDED"
    assert execution.output == {
        "message_id": frame["message_id"],
        "deliveries": [
            {"connection_id": SENDER, "status": "delivered"},
            {"connection_id": ALICE, "status": "delivered"},
        ],
    }
    assert workflows.connections.frames(SENDER) == [frame]
    assert workflows.connections.frames(ALICE) == [frame]
    assert frame["type"] == "message" and frame["message"] == "hello"
    assert len(execution.events("MapIterationStarted")) == 2
    assert "TellSenderNotReached" not in states_entered(execution)


def test_every_recipient_gets_the_message_once(workflows, fanout_input):
    recipients = [ALICE, BOB, CAROL, DAVE]
    execution_input = fanout_input(SENDER, {"message": "hi all", "recipient_ids": [ALICE, BOB, SENDER, CAROL, DAVE]})

    execution = workflows.run("message_fanout", execution_input)

    assert execution.status == "SUCCEEDED"
    assert [d["connection_id"] for d in execution.output["deliveries"]] == [SENDER, *recipients]
    assert set(deliveries(execution).values()) == {"delivered"}
    for connection_id in [SENDER, *recipients]:
        assert workflows.connections.frames(connection_id) == [execution_input["frame"]], connection_id
    assert len(execution.events("MapIterationStarted")) == 5


def test_gone_recipient_does_not_stop_the_others_and_the_sender_is_told(workflows, fanout_input):
    workflows.connections.gone(BOB)
    execution_input = fanout_input(SENDER, {"message": "hi", "recipient_ids": [ALICE, BOB, CAROL]})
    frame = execution_input["frame"]

    execution = workflows.run("message_fanout", execution_input)

    assert execution.status == "SUCCEEDED"
    assert deliveries(execution) == {SENDER: "delivered", ALICE: "delivered", BOB: "gone", CAROL: "delivered"}
    assert execution.output["message_id"] == frame["message_id"]
    assert workflows.connections.frames(ALICE) == [frame]
    assert workflows.connections.frames(CAROL) == [frame]
    assert workflows.connections.frames(BOB) == []
    assert workflows.connections.attempts(BOB) == [410], "a gone recipient is not retried"
    assert workflows.connections.frames(SENDER) == [
        frame,
        {
            "type": "delivery_failed",
            "reason": "gone",
            "message_id": frame["message_id"],
            "recipient_id": BOB,
            "recipient_ids": [BOB],
        },
    ]


def test_sender_is_told_every_recipient_not_reached(workflows, fanout_input):
    workflows.connections.gone(CAROL)
    workflows.connections.gone(ALICE)
    execution_input = fanout_input(SENDER, {"message": "hi", "recipient_ids": [ALICE, BOB, CAROL]})

    execution = workflows.run("message_fanout", execution_input)

    assert execution.status == "SUCCEEDED"
    assert deliveries(execution) == {SENDER: "delivered", ALICE: "gone", BOB: "delivered", CAROL: "gone"}
    (notice,) = [f for f in workflows.connections.frames(SENDER) if f["type"] == "delivery_failed"]
    assert notice["recipient_ids"] == [ALICE, CAROL]
    assert notice["recipient_id"] == ALICE


def test_sender_gone_too_still_completes_the_report(workflows, fanout_input):
    workflows.connections.gone(SENDER)
    workflows.connections.gone(ALICE)
    execution_input = fanout_input(SENDER, {"message": "hi", "recipient_ids": [ALICE, BOB]})

    execution = workflows.run("message_fanout", execution_input)

    assert execution.status == "SUCCEEDED"
    assert deliveries(execution) == {SENDER: "gone", ALICE: "gone", BOB: "delivered"}
    assert workflows.connections.frames(BOB) == [execution_input["frame"]]
    assert workflows.connections.attempts(SENDER) == [410, 410], "the message, then the not-reached notice"
    assert states_entered(execution)[-1] == "DeliveryReport"


def test_throttled_delivery_is_retried_and_delivered_once(workflows, fanout_input):
    workflows.connections.fail(ALICE, 429, times=2)
    execution_input = fanout_input(SENDER, {"message": "hello", "recipient_id": ALICE})

    execution = workflows.run("message_fanout", execution_input)

    assert execution.status == "SUCCEEDED"
    assert deliveries(execution) == {SENDER: "delivered", ALICE: "delivered"}
    assert workflows.connections.attempts(ALICE) == [429, 429, 200]
    assert workflows.connections.frames(ALICE) == [execution_input["frame"]]
    assert workflows.connections.frames(SENDER) == [execution_input["frame"]]
    assert execution.task_errors() == ["ConnectionThrottled", "ConnectionThrottled"]
    assert len(execution.events("MapIterationStarted")) == 2
