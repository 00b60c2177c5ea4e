"""`make token`: a deployed stage's ID token for a user, from the pool and client its stack outputs, against
moto's Cognito and CloudFormation (``mock_aws``)."""

import contextlib
import json

import boto3
import jwt
import pytest
from moto import mock_aws

from cdk.operations import token

REGION = "eu-west-1"
PASSWORD = "Correct-horse-battery-1!"


@contextlib.contextmanager
def mocked_pool(monkeypatch):
    """moto's AWS, reached as a deployed stage's is (no local endpoint, no profile), with stage dev's user pool:
    (session, Cognito client, pool id)."""
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    with mock_aws():
        session = boto3.Session(region_name=REGION)
        cognito = session.client("cognito-idp")
        yield session, cognito, cognito.create_user_pool(PoolName="chat-dev")["UserPool"]["Id"]


@pytest.fixture
def aws(monkeypatch):
    """A deployed stage with sign-in: its pool (user alice), its client, and stack Chat-dev's outputs."""
    with mocked_pool(monkeypatch) as (session, cognito, pool_id):
        client_id = cognito.create_user_pool_client(
            UserPoolId=pool_id, ClientName="app", ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"]
        )["UserPoolClient"]["ClientId"]
        cognito.admin_create_user(UserPoolId=pool_id, Username="alice")
        cognito.admin_set_user_password(UserPoolId=pool_id, Username="alice", Password=PASSWORD, Permanent=True)
        deploy(session, "Chat-dev", {"UserPoolId": pool_id, "UserPoolClientId": client_id})
        yield session, cognito, pool_id


def deploy(session: boto3.Session, stack_name: str, outputs: dict[str, str]) -> None:
    template = {
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {name: {"Value": value} for name, value in outputs.items()},
    }
    session.client("cloudformation").create_stack(StackName=stack_name, TemplateBody=json.dumps(template))


def make_token(session, *arguments: str, password: str = PASSWORD, new_password: str | None = None) -> int:
    return token.main(
        ["--username", "alice", *arguments],
        session=session,
        ask=lambda prompt: password,
        ask_new=lambda: new_password or pytest.fail("no new password was expected"),
    )


def test_prints_the_users_id_token_alone_on_stdout(aws, capsys):
    session, _, pool_id = aws

    assert make_token(session, "--stage", "dev") == 0

    out = capsys.readouterr().out
    claims = jwt.decode(out.strip(), options={"verify_signature": False})
    assert out.count("\n") == 1
    assert (claims["cognito:username"], claims["token_use"]) == ("alice", "id")
    assert claims["iss"].endswith(f"/{pool_id}")


def test_a_wrong_password_is_one_line_and_no_token(aws, capsys):
    session, _, _ = aws

    assert make_token(session, "--stage", "dev", password="wrong") == 1

    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.strip() == "error: sign-in refused for alice: wrong username or password"


def test_a_user_with_a_temporary_password_chooses_a_new_one_first(aws, capsys):
    session, cognito, pool_id = aws
    cognito.admin_create_user(UserPoolId=pool_id, Username="bob", TemporaryPassword="Temporary-pass-1!")

    code = token.main(
        ["--stage", "dev", "--username", "bob"],
        session=session,
        ask=lambda prompt: "Temporary-pass-1!",
        ask_new=lambda: "A-new-password-of-bob-1!",
    )

    assert code == 0
    claims = jwt.decode(capsys.readouterr().out.strip(), options={"verify_signature": False})
    assert claims["cognito:username"] == "bob"


def test_a_stage_not_deployed_says_to_deploy_it(aws, capsys):
    session, _, _ = aws

    assert make_token(session, "--stage", "staging") == 1

    assert "stack Chat-staging is not deployed here: make deploy STAGE=staging first" in capsys.readouterr().err


def test_a_stage_without_sign_in_says_to_connect_without_a_token(aws, capsys):
    session, _, _ = aws
    deploy(session, "Chat-open", {"WebSocketUrl": "wss://x.execute-api.eu-west-1.amazonaws.com/open"})

    assert make_token(session, "--stage", "open") == 1

    assert "stage open has no sign-in (auth none in cdk.json)" in capsys.readouterr().err
