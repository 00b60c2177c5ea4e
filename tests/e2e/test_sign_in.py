"""Sign-in end to end on a stage with auth cognito (dev), served by the real local runtime: users made with
`python -m local users`, tokens from `python -m local token` or from Cognito's API at the runtime's /cognito/
(moto's user pool, real RS256 signatures), the authorizer (lambdas/authorize.py) run by the gateway on $connect,
the user on every frame, messages to people, and every bad token of the issue refused at the handshake."""

import asyncio
import gzip
import json
import time
import uuid
from pathlib import Path

import jwt
import moto
import pytest
import requests
import websockets

from local.state import RuntimeState, read_state, state_file
from tests.e2e.conftest import RunningRuntime
from tests.protocol import client_frame, server_frame
from tests.tokens import SigningKey, hs256_with_public_key, unsigned_token, with_payload

PASSWORD = "A long local password 1!"  # also fits a pool made with the default policy
MOTO_KEYS = Path(moto.__file__).parent / "cognitoidp" / "resources"


def state_of(runtime: RunningRuntime) -> RuntimeState:
    state = read_state(state_file(runtime.state_dir, runtime.stage))
    assert state is not None and state.cognito, "the sign-in stage's runtime notes its pool"
    return state


def cognito(runtime: RunningRuntime, endpoint_url: str | None = None):
    return runtime.aws_client("cognito-idp", endpoint_url or state_of(runtime).stepfunctions_url)


def new_user(runtime: RunningRuntime, prefix: str = "user") -> str:
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    added = runtime.local_cli("users", "add", name, "--password", PASSWORD)
    assert added.returncode == 0, added.stderr
    return name


def token_of(runtime: RunningRuntime, name: str) -> str:
    printed = runtime.local_cli("token", name, "--password", PASSWORD)
    assert printed.returncode == 0, printed.stderr
    return printed.stdout.strip()


async def receive(client, seconds: float = 30) -> dict:
    return server_frame(await asyncio.wait_for(client.recv(), seconds))


async def receive_type(client, frame_type: str) -> dict:
    while (frame := await receive(client))["type"] != frame_type:
        pass
    return frame


async def signed_in(runtime: RunningRuntime, token: str):
    client = await websockets.connect(f"{runtime.ws_url}?token={token}", open_timeout=60)
    return client, await receive_type(client, "connection")


def handshake_status(runtime: RunningRuntime, query: str = "", headers: dict | None = None) -> int:
    async def attempt() -> int:
        try:
            client = await websockets.connect(f"{runtime.ws_url}{query}", additional_headers=headers, open_timeout=60)
        except websockets.InvalidStatus as refused:
            return refused.response.status_code
        await client.close()
        return 101

    return asyncio.run(attempt())


def test_the_connection_frame_names_the_signed_in_user(signed_in_runtime):
    name = new_user(signed_in_runtime)
    claims = jwt.decode(token_of(signed_in_runtime, name), options={"verify_signature": False})

    async def scenario():
        client, frame = await signed_in(signed_in_runtime, token_of(signed_in_runtime, name))
        await client.close()
        return frame

    frame = asyncio.run(scenario())
    assert frame["user"] == {"id": claims["sub"], "name": name}
    assert frame["connection_id"]


def test_every_connection_of_a_user_receives_a_message_sent_to_their_name_with_its_sender(signed_in_runtime):
    alice, bob = new_user(signed_in_runtime, "alice"), new_user(signed_in_runtime, "bob")
    alice_token, bob_token = token_of(signed_in_runtime, alice), token_of(signed_in_runtime, bob)

    async def scenario():
        (tab1, first), (tab2, _), (sender, bob_connection) = await asyncio.gather(
            signed_in(signed_in_runtime, alice_token),
            signed_in(signed_in_runtime, alice_token),
            signed_in(signed_in_runtime, bob_token),
        )
        frame = {"action": "sendMessage", "message": "hello both tabs", "recipient_users": [alice]}
        await sender.send(json.dumps(client_frame(frame)))
        frames = await asyncio.gather(*(receive_type(client, "message") for client in (tab1, tab2, sender)))
        await asyncio.gather(tab1.close(), tab2.close(), sender.close())
        return first, bob_connection, frames

    alice_connection, bob_connection, frames = asyncio.run(scenario())
    for frame in frames:  # both of alice's tabs, and bob's own copy
        assert frame["message"] == "hello both tabs"
        assert frame["sender"] == bob_connection["user"]
        assert frame["sender_id"] == bob_connection["connection_id"]
    assert bob_connection["user"]["name"] == bob and alice_connection["user"]["name"] == alice


def test_a_frame_claiming_a_sender_is_refused_and_nothing_is_sent(signed_in_runtime):
    mallory = new_user(signed_in_runtime, "mallory")

    async def scenario():
        client, _ = await signed_in(signed_in_runtime, token_of(signed_in_runtime, mallory))
        forged = {"action": "sendMessage", "message": "trust me", "recipient_users": [mallory]}
        await client.send(json.dumps({**forged, "sender": {"id": "x", "name": "admin"}}))
        answer = await receive(client)
        with pytest.raises(TimeoutError):
            await receive(client, 2)
        await client.close()
        return answer

    answer = asyncio.run(scenario())
    assert answer["type"] == "error" and answer["code"] == "invalid_request" and "sender" in answer["message"]


def test_the_page_signs_in_through_the_runtimes_cognito_endpoint_named_in_config_json(signed_in_runtime):
    name = new_user(signed_in_runtime)
    config = requests.get(f"{signed_in_runtime.http_url}/config.json", timeout=10).json()
    auth = config["auth"]
    assert auth["type"] == "cognito" and auth["cognito_endpoint"] == f"{signed_in_runtime.http_url}/cognito/"
    assert config["websocket_url"] == signed_in_runtime.ws_url
    page = cognito(signed_in_runtime, auth["cognito_endpoint"])  # unsigned calls, as a browser makes them

    answer = page.initiate_auth(
        ClientId=auth["client_id"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": name, "PASSWORD": PASSWORD},
    )
    claims = jwt.decode(answer["AuthenticationResult"]["IdToken"], options={"verify_signature": False})
    assert claims["iss"] == f"https://cognito-idp.{auth['region']}.amazonaws.com/{auth['user_pool_id']}"
    assert claims["aud"] == auth["client_id"] and claims["cognito:username"] == name
    refused = requests.post(
        auth["cognito_endpoint"],
        headers={"X-Amz-Target": "AWSCognitoIdentityProviderService.AdminDeleteUser"},
        data=json.dumps({"UserPoolId": auth["user_pool_id"], "Username": name}),
        timeout=10,
    )
    assert refused.status_code == 403 and refused.json()["__type"] == "AccessDeniedException"
    assert name in signed_in_runtime.local_cli("users", "list").stdout  # the admin call reached nothing


def test_users_cli_adds_lists_signs_in_and_removes_with_one_line_errors(signed_in_runtime):
    name = new_user(signed_in_runtime)
    cli = signed_in_runtime.local_cli

    again = cli("users", "add", name, "--password", PASSWORD)
    assert again.returncode == 1 and again.stderr.strip() == f"error: user {name} already exists"
    weak = cli("users", "add", f"{name}-weak", "--password", "short")
    assert weak.returncode == 1 and "password" in weak.stderr and len(weak.stderr.strip().splitlines()) == 1
    assert name in cli("users", "list").stdout and f"{name}-weak" not in cli("users", "list").stdout
    wrong = cli("token", name, "--password", "not the password 1")
    assert wrong.returncode == 1 and wrong.stderr.strip() == f"error: wrong password for {name}"
    assert jwt.decode(token_of(signed_in_runtime, name), options={"verify_signature": False})["token_use"] == "id"

    removed = cli("users", "remove", name)
    assert removed.returncode == 0, removed.stderr
    assert name not in cli("users", "list").stdout
    gone = cli("token", name, "--password", PASSWORD)
    assert gone.returncode == 1 and gone.stderr.startswith(f"error: no user {name}")
    assert cli("users", "remove", name).returncode == 1


def test_removing_a_user_removes_their_registry_entries_and_directory_item(signed_in_runtime):
    name = new_user(signed_in_runtime)
    state = state_of(signed_in_runtime)
    dynamodb = signed_in_runtime.aws_client("dynamodb", state.stepfunctions_url)

    def registered() -> list:
        return dynamodb.query(
            TableName=state.tables["connections"],
            IndexName="by_username",
            KeyConditionExpression="username = :name",
            ExpressionAttributeValues={":name": {"S": name.lower()}},
        )["Items"]

    async def connect_then_remove():
        client, _ = await signed_in(signed_in_runtime, token_of(signed_in_runtime, name))
        assert len(registered()) == 1  # the handshake registered it before the connection frame
        deadline = time.monotonic() + 10  # and remembers the user beside sending it
        while "Item" not in dynamodb.get_item(TableName=state.tables["users"], Key={"username": {"S": name.lower()}}):
            assert time.monotonic() < deadline, "the handshake did not remember the user"
            await asyncio.sleep(0.1)
        removed = signed_in_runtime.local_cli("users", "remove", name)
        await client.close()
        return removed

    removed = asyncio.run(connect_then_remove())
    assert removed.stdout.strip() == f"removed {name.lower()} and 1 registered connection of theirs; they left 0 rooms"
    assert "Item" not in dynamodb.get_item(TableName=state.tables["users"], Key={"username": {"S": name.lower()}})


def test_cli_on_a_stage_that_is_not_running_says_so_in_one_line(signed_in_runtime, tmp_path):
    stopped = RunningRuntime(port=0, stage="dev", state_dir=tmp_path, log_path=tmp_path / "none.log")
    for args in (("users", "list"), ("token", "alice", "--password", "x")):
        answer = stopped.local_cli(*args)
        assert answer.returncode == 1
        assert (
            answer.stderr.strip()
            == "error: no local runtime is serving stage dev: start it first (`make dev STAGE=dev`)"
        )


def test_the_runtime_says_how_to_add_a_user_and_get_a_token(signed_in_runtime):
    log = signed_in_runtime.log()
    assert "python -m local users add alice" in log and "TOKEN=$(.venv/bin/python -m local token alice)" in log
    assert f'wscat -c "{signed_in_runtime.ws_url}?token=$TOKEN"' in log


# -- every bad token of the list, end to end: refused at the handshake, the authorizer's log gives the reason


def moto_signing_key() -> SigningKey:
    """The key moto signs every pool's tokens with (shipped in moto, key id "dummy"): a token it did not issue but
    whose signature verifies, to test the claims the signature does not cover."""
    private = json.loads(gzip.decompress((MOTO_KEYS / "jwks-private.json.gz").read_bytes()))
    return SigningKey(kid=private["kid"], private_key=jwt.algorithms.RSAAlgorithm.from_jwk(json.dumps(private)))


@pytest.fixture(scope="module")
def bad_tokens(signed_in_runtime) -> dict[str, str]:
    """Each bad token of the issue, made against the running stage's pool (and a second pool and client in moto)."""
    runtime = signed_in_runtime
    state = state_of(runtime)
    name = new_user(runtime, "victim")
    answer = cognito(runtime).initiate_auth(
        ClientId=state.cognito["client_id"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": name, "PASSWORD": PASSWORD},
    )["AuthenticationResult"]
    good = answer["IdToken"]
    claims = jwt.decode(good, options={"verify_signature": False})
    admin = cognito(runtime)
    other_client = admin.create_user_pool_client(
        UserPoolId=state.cognito["user_pool_id"], ClientName=f"other-{name}", ExplicitAuthFlows=["USER_PASSWORD_AUTH"]
    )["UserPoolClient"]["ClientId"]
    other_pool = admin.create_user_pool(PoolName=f"other-{name}")["UserPool"]["Id"]
    other_pool_client = admin.create_user_pool_client(UserPoolId=other_pool, ClientName="c")["UserPoolClient"]
    admin.admin_create_user(UserPoolId=other_pool, Username=name, MessageAction="SUPPRESS")
    admin.admin_set_user_password(UserPoolId=other_pool, Username=name, Password=PASSWORD, Permanent=True)

    def id_token(client_id: str) -> str:
        return admin.initiate_auth(
            ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH", AuthParameters={"USERNAME": name, "PASSWORD": PASSWORD}
        )["AuthenticationResult"]["IdToken"]

    now = int(time.time())
    moto_key = moto_signing_key()
    return {
        "expired": jwt.encode(
            {**claims, "iat": now - 7200, "exp": now - 3600}, moto_key.private_key, "RS256", {"kid": moto_key.kid}
        ),
        "other pool": id_token(other_pool_client["ClientId"]),
        "other client": id_token(other_client),
        "access token": answer["AccessToken"],
        "tampered": with_payload(good, {**claims, "cognito:username": "admin"}),
        "alg none": unsigned_token(claims, kid=moto_key.kid),
        "HS256 with the public key": hs256_with_public_key(claims, moto_key),
        "garbage": "not-a-token",
        "8 KB": "e" * 8000,
    }


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("expired", "expired"),
        ("other pool", "issued by another user pool"),
        ("other client", "issued to another app client"),
        ("access token", "not an ID token"),
        ("tampered", "its signature does not verify"),
        ("alg none", "signed with 'none'"),
        ("HS256 with the public key", "signed with 'HS256'"),
        ("garbage", "not a JWT"),
        ("8 KB", "characters long"),
    ],
)
def test_a_bad_token_is_refused_at_the_handshake_and_the_log_says_why(signed_in_runtime, bad_tokens, case, reason):
    assert handshake_status(signed_in_runtime, f"?token={bad_tokens[case]}") == 403
    deadline = time.monotonic() + 10
    while reason not in signed_in_runtime.log():
        assert time.monotonic() < deadline, f"the authorizer's log does not say {reason!r}"
        time.sleep(0.1)
    assert bad_tokens[case] not in signed_in_runtime.log()  # never the token itself


def test_a_missing_token_or_one_in_a_header_is_refused_401_without_the_authorizer(signed_in_runtime):
    token = token_of(signed_in_runtime, new_user(signed_in_runtime))
    assert handshake_status(signed_in_runtime) == 401
    assert handshake_status(signed_in_runtime, "?token=") == 401
    assert handshake_status(signed_in_runtime, headers={"Authorization": f"Bearer {token}", "token": token}) == 401
    assert "identity source route.request.querystring.token is missing" in signed_in_runtime.log()


def test_a_message_to_someone_offline_is_stored_and_read_from_history_when_they_come(signed_in_runtime):
    alice, bob = new_user(signed_in_runtime, "alice"), new_user(signed_in_runtime, "bob")
    alice_token, bob_token = token_of(signed_in_runtime, alice), token_of(signed_in_runtime, bob)

    async def scenario():
        sender, _ = await signed_in(signed_in_runtime, alice_token)
        await sender.send(
            json.dumps(client_frame({"action": "sendMessage", "message": "while away", "recipient_users": [bob]}))
        )
        failed = await receive_type(sender, "delivery_failed")
        await sender.close()
        reader, _ = await signed_in(signed_in_runtime, bob_token)
        await reader.send(json.dumps(client_frame({"action": "history", "with": alice})))
        page = await receive_type(reader, "history")
        end = await receive_type(reader, "history_end")
        await reader.close()
        return failed, page, end

    failed, page, end = asyncio.run(scenario())
    assert (failed["reason"], failed["stored"], failed["failures"]) == (
        "offline",
        True,
        [{"username": bob, "status": "offline"}],
    )
    (stored,) = page["messages"]
    assert (stored["message"], stored["sender"]["name"], stored["message_id"]) == (
        "while away",
        alice,
        failed["message_id"],
    )
    assert (end["count"], end["before"]) == (1, None)
