"""A CloudFormation custom resource that waits, so that roles created just before it have reached every AWS service
before the resources that depend on it are created. Deployed inline (standard library only), run at deploy time by
CloudFormation, never by the chat: cdk/iam_propagation.py explains why it exists."""

import json
import time
import urllib.request

# What the handler keeps for itself after waiting: the answer to CloudFormation must still go out in time.
ANSWER_SECONDS = 10


def handler(event, context):
    try:
        if event["RequestType"] in ("Create", "Update"):  # Update: a role was replaced, so a new one is there
            remaining = context.get_remaining_time_in_millis() / 1000 - ANSWER_SECONDS
            time.sleep(max(0.0, min(float(event["ResourceProperties"]["Seconds"]), remaining)))
        answer(event, "SUCCESS")
    except Exception as error:  # an unanswered custom resource holds the stack for an hour
        answer(event, "FAILED", f"{type(error).__name__}: {error}")


def answer(event, status, reason="waited"):
    """The response CloudFormation waits for, PUT to its pre-signed URL (CloudFormation user guide, "Custom
    resource response objects")."""
    body = json.dumps(
        {
            "Status": status,
            "Reason": reason,
            "PhysicalResourceId": event.get("PhysicalResourceId") or event["LogicalResourceId"],
            "StackId": event["StackId"],
            "RequestId": event["RequestId"],
            "LogicalResourceId": event["LogicalResourceId"],
        }
    ).encode("utf-8")
    request = urllib.request.Request(event["ResponseURL"], data=body, method="PUT", headers={"Content-Type": ""})
    with urllib.request.urlopen(request, timeout=ANSWER_SECONDS):
        pass
