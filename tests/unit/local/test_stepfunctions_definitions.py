"""The local runtime points apigateway:invoke tasks at itself."""

import json

import pytest

from local.stepfunctions.service import local_definition
from local.template_errors import UnsupportedTemplate

AWS_HOST = "abc123.execute-api.us-east-1.amazonaws.com"
LOCAL = "http://127.0.0.1:3001"


def post_task(endpoint: str) -> dict:
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::apigateway:invoke",
        "Parameters": {"ApiEndpoint": endpoint, "Method": "POST", "Stage": "dev", "Path.$": "$.path"},
        "End": True,
    }


def definition(endpoint: str) -> str:
    return json.dumps(
        {
            "StartAt": "Each",
            "States": {
                "Each": {
                    "Type": "Map",
                    "ItemProcessor": {"StartAt": "Post", "States": {"Post": post_task(endpoint)}},
                    "Next": "Notice",
                },
                "Notice": post_task(endpoint),
            },
        }
    )


def test_every_post_to_the_stack_api_goes_to_the_local_gateway():
    rewritten = json.loads(local_definition(definition(AWS_HOST), {AWS_HOST: LOCAL}, "Fanout"))

    inner = rewritten["States"]["Each"]["ItemProcessor"]["States"]["Post"]["Parameters"]
    assert inner["ApiEndpoint"] == LOCAL
    assert rewritten["States"]["Notice"]["Parameters"]["ApiEndpoint"] == LOCAL
    assert inner["Path.$"] == "$.path" and inner["Stage"] == "dev"


def test_a_post_to_another_api_stops_the_runtime():
    with pytest.raises(UnsupportedTemplate, match=r"Fanout.*other\.execute-api"):
        local_definition(definition("other.execute-api.us-east-1.amazonaws.com"), {AWS_HOST: LOCAL}, "Fanout")
