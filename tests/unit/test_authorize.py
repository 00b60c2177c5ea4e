"""The $connect authorizer lets a client in only with a valid Cognito ID token of this stage's pool and app
client, and says why it refused one without ever logging the token.

Real RS256 keys are made here; the pool's key set is served on loopback where Cognito serves it, and the
authorizer's own PyJWKClient fetches it (tests/tokens.py). PyJWKClient reads only http(s) URLs, so these unit
tests may open one kind of connection: to that server on 127.0.0.1, nothing else."""

import json
import socket
import time

import authorize
import pytest
from chat.identity import LEEWAY_SECONDS, MAX_TOKEN_CHARACTERS, IdTokenVerifier, KeysUnavailable

from tests.conftest import REGION, USER_POOL_CLIENT_ID, USER_POOL_ID
from tests.tokens import (
    JwksServer,
    SigningKey,
    TokenFactory,
    hs256_with_public_key,
    unsigned_token,
    with_payload,
)

METHOD_ARN = "arn:aws:execute-api:us-east-1:123456789012:abcd123456/dev/$connect"


@pytest.fixture(scope="module")
def cognito():
    with JwksServer().running() as server:
        yield server


@pytest.fixture(autouse=True)
def no_network(monkeypatch, cognito):
    """The unit tests' rule (tests/unit/conftest.py), but for the loopback Cognito endpoint serving the keys."""
    allowed = ("127.0.0.1", int(cognito.endpoint.rsplit(":", 1)[1]))
    connect_to = socket.socket.connect

    def only_the_key_server(self, address, *args, **kwargs):
        if tuple(address[:2]) != allowed:
            raise ConnectionRefusedError(f"unit tests must not open connections (tried {address!r})")
        return connect_to(self, address, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", only_the_key_server)


@pytest.fixture(scope="module")
def tokens(cognito) -> TokenFactory:
    factory = TokenFactory(region=REGION, user_pool_id=USER_POOL_ID, client_id=USER_POOL_CLIENT_ID)
    cognito.publish(USER_POOL_ID, SigningKey(), factory.key)  # a pool publishes more than one key
    return factory


@pytest.fixture(autouse=True)
def verifier(monkeypatch, cognito, tokens) -> IdTokenVerifier:
    """The stage's verifier as the local runtime configures it: keys from a Cognito endpoint of its own."""
    verifier = IdTokenVerifier(
        region=REGION, user_pool_id=USER_POOL_ID, client_id=USER_POOL_CLIENT_ID, cognito_endpoint=cognito.endpoint
    )
    monkeypatch.setattr(authorize, "verifier", verifier)
    return verifier


@pytest.fixture
def connect(events, make_lambda_context, log_lines):
    def call(token: str | None = None, **query: str) -> dict:
        return authorize.handler(events.authorize(token=token, **query), make_lambda_context())

    return call


def refusal(connect, log_lines, token: str | None = None, **query: str) -> str:
    """Connecting with ``token`` is refused: a Deny of this $connect, which API Gateway answers 403, with no
    context (nothing reaches the routes); returns the logged reason."""
    answer = connect(token, **query)
    assert answer == {
        "principalId": "unauthenticated",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": METHOD_ARN}],
        },
    }
    (line,) = [line for line in log_lines() if line["message"] == "connection refused"]
    if token:
        assert token not in json.dumps(log_lines())
    return line["reason"]


def test_a_valid_id_token_is_allowed_on_this_connect_with_the_user_in_the_context(connect, tokens, log_lines):
    token = tokens.id_token(username="Alice", sub="sub-of-alice")

    answer = connect(token)

    exp = tokens.id_claims()["exp"]
    assert answer["principalId"] == "sub-of-alice"
    assert answer["policyDocument"] == {
        "Version": "2012-10-17",
        "Statement": [{"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": METHOD_ARN}],
    }
    assert answer["context"]["user_id"] == "sub-of-alice" and answer["context"]["username"] == "Alice"
    assert abs(answer["context"]["token_expires_at"] - exp) <= 2
    # The context reaches API Gateway only as strings, numbers and booleans.
    assert all(isinstance(value, str | int | float | bool) for value in answer["context"].values())
    assert token not in json.dumps(log_lines())


def test_each_refusal_is_counted_and_is_no_function_error(events, make_lambda_context, capsys):
    """A bad token is an answer (RefusedConnections), not a failure (Lambda's Errors, the fault alarm)."""
    answer = authorize.handler(events.authorize(token="garbage"), make_lambda_context())

    assert answer["policyDocument"]["Statement"][0]["Effect"] == "Deny"
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert [metric.get("RefusedConnections") for metric in emf] == [[1.0]]


def test_a_token_expired_within_the_leeway_is_still_allowed(connect, tokens):
    assert connect(tokens.id_token(exp=int(time.time()) - LEEWAY_SECONDS + 3))["principalId"]


def test_the_keys_are_fetched_once_for_many_connects(connect, tokens, cognito):
    before = len(cognito.fetches)

    for n in range(5):
        connect(tokens.id_token(username=f"user{n}"))

    assert len(cognito.fetches) - before == 1


BAD_TOKENS = {
    "expired": (lambda t: t.id_token(exp=int(time.time()) - LEEWAY_SECONDS - 5), "expired"),
    "from another pool, signed with its own key": (
        lambda t: TokenFactory(REGION, "us-east-1_OtherPool", USER_POOL_CLIENT_ID).id_token(),
        "signed with a key that is not this pool's",
    ),
    "from another pool that shares the key": (
        lambda t: t.sign(t.id_claims(iss=f"https://cognito-idp.{REGION}.amazonaws.com/us-east-1_OtherPool")),
        "issued by another user pool",
    ),
    "for another app client": (lambda t: t.id_token(aud="another-app-client"), "issued to another app client"),
    "an access token": (lambda t: t.access_token(), "not an ID token"),
    "tampered payload": (
        lambda t: with_payload(t.id_token(username="alice"), t.id_claims(username="root")),
        "its signature does not verify",
    ),
    "alg none": (lambda t: unsigned_token(t.id_claims(), kid=t.key.kid), "signed with 'none', not RS256"),
    "HS256 signed with the public key": (
        lambda t: hs256_with_public_key(t.id_claims(), t.key),
        "signed with 'HS256', not RS256",
    ),
    "garbage": (lambda t: "garbage", "not a JWT"),
    "three dots of garbage": (lambda t: "a.b.c", "not a JWT"),
    "8 KB": (
        lambda t: t.id_token(padding="x" * 8192),
        f"characters long; at most {MAX_TOKEN_CHARACTERS}",
    ),
    "without a key id": (
        lambda t: __import__("jwt").encode(t.id_claims(), t.key.private_key, algorithm="RS256"),
        "signed with a key that is not this pool's",
    ),
    "without a username": (lambda t: t.id_token(**{"cognito:username": None}), "no cognito:username claim"),
}


@pytest.mark.parametrize("case", BAD_TOKENS.values(), ids=BAD_TOKENS)
def test_a_bad_token_is_refused_with_its_reason_logged_and_never_the_token(connect, tokens, log_lines, case):
    make, reason = case

    assert reason in refusal(connect, log_lines, make(tokens))


def test_an_8_kb_token_is_refused_before_any_key_is_fetched(connect, tokens, cognito, log_lines, verifier):
    before = len(cognito.fetches)

    refusal(connect, log_lines, "x" * 8192)

    assert len(cognito.fetches) == before


@pytest.mark.parametrize("query", [{}, {"token": ""}, {"Authorization": "Bearer x"}], ids=["none", "empty", "other"])
def test_without_a_token_in_the_query_string_the_connect_is_refused(connect, log_lines, query):
    """API Gateway answers 401 itself when the identity source is missing (the authorizer is not even called);
    the authorizer refuses the same requests should it be called."""
    assert refusal(connect, log_lines, **query) == "no token"


def test_a_token_in_a_header_instead_of_the_query_string_is_refused(events, make_lambda_context, log_lines, tokens):
    event = events.authorize()
    event["queryStringParameters"] = None
    event["headers"]["Authorization"] = tokens.id_token()

    answer = authorize.handler(event, make_lambda_context())

    assert answer["policyDocument"]["Statement"][0]["Effect"] == "Deny"


def test_when_the_pool_keys_cannot_be_fetched_the_connect_fails_rather_than_being_allowed(connect, tokens, monkeypatch):
    """Not a Deny (which would tell a valid user their token is bad): an error, which API Gateway answers 500,
    and the function's error metric (and fault alarm) counts."""
    unreachable = IdTokenVerifier(
        region=REGION, user_pool_id=USER_POOL_ID, client_id=USER_POOL_CLIENT_ID, cognito_endpoint="http://127.0.0.1:9"
    )
    monkeypatch.setattr(authorize, "verifier", unreachable)

    with pytest.raises(KeysUnavailable):
        connect(tokens.id_token())


def test_the_issuer_is_aws_and_the_keys_come_from_the_local_endpoint_only_when_told():
    on_aws = IdTokenVerifier(region="eu-west-1", user_pool_id="eu-west-1_Pool", client_id="c")
    local = IdTokenVerifier(
        region="eu-west-1", user_pool_id="eu-west-1_Pool", client_id="c", cognito_endpoint="http://127.0.0.1:3001/"
    )

    assert on_aws.issuer == local.issuer == "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Pool"
    assert on_aws.jwks_url == f"{on_aws.issuer}/.well-known/jwks.json"
    assert local.jwks_url == "http://127.0.0.1:3001/eu-west-1_Pool/.well-known/jwks.json"


def test_every_line_names_the_connection(connect, tokens, log_lines):
    connect(tokens.id_token())

    (line,) = [line for line in log_lines() if line["message"] == "connection allowed"]
    assert line["connection_id"] == line["correlation_id"] == "CfF0ed8QoAMCKxQ="
