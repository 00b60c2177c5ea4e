"""The executions a function starts join its X-Ray trace: StartExecution carries the invocation's trace header.

AWS, "AWS X-Ray and Step Functions" (Step Functions developer guide): a Lambda function starting an execution
with an SDK sets ``traceHeader`` on StartExecution itself for the execution to continue its trace.
"""

import os

import on_connect
import pytest
import send_message

TRACE_HEADER = "Root=1-67a1b2c3-0123456789abcdef01234567;Parent=53995c3f42cd8ad8;Sampled=1"
ALICE = "CfF2b3hQoAMCJ-g="


def started(stub_client, module) -> list[dict]:
    stepfunctions = stub_client(module, "stepfunctions", "stepfunctions")
    stepfunctions.stubber.add_response(
        "start_execution",
        {"executionArn": f"{os.environ['FANOUT_STATE_MACHINE_ARN']}:x", "startDate": "2026-11-29T12:00:00Z"},
    )
    return stepfunctions


@pytest.mark.parametrize("traced", [True, False], ids=["in-lambda", "no-trace"])
def test_send_message_passes_the_trace_header_to_the_fanout(events, lambda_context, stub_client, monkeypatch, traced):
    if traced:
        monkeypatch.setenv("_X_AMZN_TRACE_ID", TRACE_HEADER)
    else:
        monkeypatch.delenv("_X_AMZN_TRACE_ID", raising=False)
    stepfunctions = started(stub_client, send_message)

    send_message.handler(
        events.send_message({"action": "sendMessage", "message": "hi", "recipient_id": ALICE}), lambda_context
    )

    (call,) = stepfunctions.params("StartExecution")
    assert call.get("traceHeader") == (TRACE_HEADER if traced else None)


def test_connect_passes_the_trace_header_to_the_handshake(events, lambda_context, stub_client, monkeypatch):
    monkeypatch.setenv("_X_AMZN_TRACE_ID", TRACE_HEADER)
    stepfunctions = started(stub_client, on_connect)

    on_connect.handler(events.connect(), lambda_context)

    (call,) = stepfunctions.params("StartExecution")
    assert call["traceHeader"] == TRACE_HEADER
