"""The handlers publish CloudWatch metrics (embedded metric format on stdout) for what happened."""

import json

import send_message

CONNECTION = "CfF2b3hQoAMCJ-g="


def published_metrics(output: str) -> dict[str, float]:
    metrics = {}
    for line in output.splitlines():
        if '"_aws"' not in line:
            continue
        document = json.loads(line)
        for directive in document["_aws"]["CloudWatchMetrics"]:
            assert directive["Namespace"] == "ServerlessChat"
            for metric in directive["Metrics"]:
                value = document[metric["Name"]]
                metrics[metric["Name"]] = sum(value) if isinstance(value, list) else value
    return metrics


def test_accepted_and_rejected_messages_are_counted(events, lambda_context, stub_client, capsys):
    stub = stub_client(send_message, "stepfunctions", "stepfunctions")
    stub.stubber.add_response("start_execution", {"executionArn": "arn:x", "startDate": "2026-11-29T12:00:00Z"})

    send_message.handler(
        events.send_message({"action": "sendMessage", "message": "hi", "recipient_id": CONNECTION}), lambda_context
    )
    assert published_metrics(capsys.readouterr().out) == {"AcceptedMessages": 1}

    send_message.handler(events.send_message("not json"), lambda_context)
    assert published_metrics(capsys.readouterr().out) == {"RejectedInputs": 1}


def test_metrics_are_dimensioned_by_service_and_stage(events, lambda_context, capsys):
    """Stages sharing an account share the namespace; the stage dimension keeps their alarms apart."""
    send_message.handler(events.send_message("not json"), lambda_context)

    (document,) = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    (directive,) = document["_aws"]["CloudWatchMetrics"]
    assert [sorted(dimensions) for dimensions in directive["Dimensions"]] == [["service", "stage"]]
    assert (document["service"], document["stage"]) == ("chat", "test")
