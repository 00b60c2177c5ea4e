"""moto's service applications as the Step Functions process serves them: the same answers as moto's own, without
a class created per request."""

import json

import pytest
from moto.moto_server.werkzeug_app import create_backend_app
from werkzeug.datastructures import ImmutableMultiDict

from local.stepfunctions.backend_apps import FormDataAsWerkzeugReadsIt, backend_app

HEADERS = {
    "Content-Type": "application/x-amz-json-1.0",
    "Authorization": "AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20261206/eu-west-1/dynamodb/aws4_request, x",
}


def outcome(app, target: str, body: str):
    """(status, answer), or the exception that propagated out of the application (debug mode: as before)."""
    try:
        answer = app.test_client().post(
            "/", data=body, headers={**HEADERS, "X-Amz-Target": f"DynamoDB_20120810.{target}"}
        )
    except Exception as error:  # the outcome compared
        return "raised", type(error).__name__, str(error)
    return answer.status_code, json.loads(answer.data or b"null")


@pytest.mark.parametrize(
    "target, body",
    [
        ("ListTables", "{}"),
        ("DescribeTable", json.dumps({"TableName": "no-such-table"})),
        ("GetItem", "{not json"),
    ],
)
def test_answers_and_errors_are_moto_s_own(target, body):
    assert outcome(backend_app("dynamodb"), target, body) == outcome(create_backend_app("dynamodb"), target, body)


def test_a_json_body_is_read_without_a_class_made_for_the_request():
    app = backend_app("dynamodb")

    with app.test_request_context("/", method="POST", data="{}", headers=HEADERS):
        from flask import request

        assert isinstance(request, FormDataAsWerkzeugReadsIt)
        assert request.get_data() == b"{}"
        assert type(request.files) is ImmutableMultiDict
