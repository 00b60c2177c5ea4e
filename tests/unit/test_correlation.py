"""One message is traceable: every log line about it carries its message_id as the correlation id.

The fan-out execution is named after the message id, so a CloudWatch Logs Insights query by that id finds
sendMessage's lines and the execution's lines (its ARN holds the name), each delivery's Map iteration among
them (tests/workflows/test_fanout_log.py).
"""

import os

import send_message

SENDER = "CfF0ed8QoAMCKxQ="
ALICE = "CfF2b3hQoAMCJ-g="


def accept_start(stepfunctions) -> None:
    stepfunctions.stubber.add_response(
        "start_execution",
        {"executionArn": f"{os.environ['FANOUT_STATE_MACHINE_ARN']}:x", "startDate": "2026-11-29T12:00:00Z"},
    )


def send_hi(events, lambda_context) -> None:
    """SENDER sends "hi" to ALICE."""
    send_message.handler(
        events.send_message({"action": "sendMessage", "message": "hi", "recipient_id": ALICE}, connection_id=SENDER),
        lambda_context,
    )


def test_send_message_lines_after_the_id_is_made_carry_it_and_name_the_execution(
    events, lambda_context, stub_client, log_lines
):
    stepfunctions = stub_client(send_message, "stepfunctions", "stepfunctions")
    accept_start(stepfunctions)

    send_hi(events, lambda_context)

    (call,) = stepfunctions.params("StartExecution")
    message_id = call["name"]
    (started,) = [line for line in log_lines() if line["message"] == "fan-out started"]
    assert started["correlation_id"] == message_id
    assert started["message_id"] == message_id
    assert started["connection_id"] == SENDER


def test_a_message_that_could_not_be_sent_is_logged_under_its_id(events, lambda_context, stub_client, log_lines):
    stepfunctions = stub_client(send_message, "stepfunctions", "stepfunctions")
    stepfunctions.stubber.add_client_error("start_execution", service_error_code="ServiceUnavailable")

    send_hi(events, lambda_context)

    (call,) = stepfunctions.params("StartExecution")
    (failed,) = [line for line in log_lines() if line["message"] == "could not start the fan-out"]
    assert failed["correlation_id"] == call["name"]
    assert failed["connection_id"] == SENDER


def test_a_rejected_frame_is_logged_under_the_sender_connection(events, lambda_context, log_lines):
    send_message.handler(events.send_message("not json", connection_id=SENDER), lambda_context)

    (rejected,) = [line for line in log_lines() if line["message"] == "rejected message"]
    assert (rejected["correlation_id"], rejected["connection_id"]) == (SENDER, SENDER)


def test_a_warm_function_does_not_carry_the_last_message_into_the_next_call(
    events, lambda_context, stub_client, log_lines
):
    stepfunctions = stub_client(send_message, "stepfunctions", "stepfunctions")
    accept_start(stepfunctions)
    send_hi(events, lambda_context)

    send_message.handler(events.send_message("not json", connection_id=ALICE), lambda_context)

    (rejected,) = [line for line in log_lines() if line["message"] == "rejected message"]
    assert (rejected["correlation_id"], rejected["connection_id"]) == (ALICE, ALICE)
