"""A workflow's calls to the Step Functions process's own moto server, answered in the process (a speed-up): the same
answers, errors and failures as over HTTP from the same application served by cheroot."""

import http.client
import threading

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from moto.moto_server.werkzeug_app import DomainDispatcherApplication

from local.stepfunctions.backend_apps import backend_app
from local.stepfunctions.in_process import InProcessTransport
from local.stepfunctions.server import moto_server

REGION = "eu-west-1"
TABLE = "chat-in-process"


@pytest.fixture(scope="module")
def served():
    """moto's application, served by cheroot on a port of its own: (application, port)."""
    app = DomainDispatcherApplication(backend_app)
    server = moto_server(0, app)
    threading.Thread(target=server.serve, daemon=True).start()
    yield app, server.bind_addr[1]
    server.stop()


def client(served, service: str, *, in_process: bool):
    app, port = served
    made = boto3.session.Session().client(
        service,
        region_name=REGION,
        endpoint_url=f"http://127.0.0.1:{port}",
        aws_access_key_id="ak",
        aws_secret_access_key="sk",
        config=Config(retries={"max_attempts": 0, "total_max_attempts": 1}, parameter_validation=False),
    )
    if in_process:
        made.meta.events.register("before-send", InProcessTransport(app, port))
    return made


def outcome(call):
    try:
        answer = call()
    except ClientError as error:
        return "error", error.response["Error"], error.response["ResponseMetadata"]["HTTPStatusCode"]
    answer.pop("ResponseMetadata")
    return "answer", answer


@pytest.fixture(scope="module")
def table(served):
    dynamodb = client(served, "dynamodb", in_process=False)
    dynamodb.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return TABLE


def test_writes_and_reads_are_answered_as_over_http(served, table):
    over_http, here = (client(served, "dynamodb", in_process=flag) for flag in (False, True))

    here.put_item(TableName=table, Item={"id": {"S": "a"}, "n": {"N": "1"}})
    updated = here.update_item(
        TableName=table,
        Key={"id": {"S": "a"}},
        UpdateExpression="ADD n :one",
        ExpressionAttributeValues={":one": {"N": "1"}},
        ReturnValues="UPDATED_NEW",
    )

    assert updated["Attributes"] == {"n": {"N": "2"}}
    read = {"TableName": table, "Key": {"id": {"S": "a"}}}
    assert outcome(lambda: here.get_item(**read)) == outcome(lambda: over_http.get_item(**read))
    assert outcome(lambda: here.describe_table(TableName=table))[1]["Table"]["ItemCount"] >= 0


def test_a_refused_call_gets_moto_s_error_as_over_http(served, table):
    over_http, here = (client(served, "dynamodb", in_process=flag) for flag in (False, True))
    conditional = {
        "TableName": table,
        "Item": {"id": {"S": "b"}},
        "ConditionExpression": "attribute_exists(id)",
    }
    missing_table = {"TableName": "no-such-table", "Key": {"id": {"S": "a"}}}

    assert outcome(lambda: here.put_item(**conditional)) == outcome(lambda: over_http.put_item(**conditional))
    assert outcome(lambda: here.get_item(**missing_table)) == outcome(lambda: over_http.get_item(**missing_table))
    assert outcome(lambda: here.get_item(**missing_table))[1]["Code"] == "ResourceNotFoundException"


def test_an_exception_of_the_application_is_a_500_with_no_body_as_cheroot_answers_it(served):
    app, port = served
    headers = {
        "X-Amz-Target": "DynamoDB_20120810.GetItem",
        "Content-Type": "application/x-amz-json-1.0",
        "Authorization": f"AWS4-HMAC-SHA256 Credential=ak/20261206/{REGION}/dynamodb/aws4_request, Signature=x",
    }
    connection = http.client.HTTPConnection("127.0.0.1", port)
    connection.request("POST", "/", body=b"{not json", headers=headers)
    over_http = connection.getresponse()

    status, answer_headers, body = InProcessTransport(app, port).answer(
        "POST", f"http://127.0.0.1:{port}/", headers, b"{not json"
    )

    assert (over_http.status, over_http.read()) == (500, b"")
    assert (status, body, answer_headers["Content-Length"]) == (500, b"", "0")
