"""The smoke test program (`python -m smoke URL`): passing against the real local runtime, failing fast and
clearly where the stage misbehaves or nothing listens, and never leaving a connection open."""

import asyncio
import json
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from urllib.parse import parse_qs, urlsplit

import pytest
from botocore.exceptions import ClientError
from websockets.asyncio.server import ServerConnection, serve

from local.state import read_state, state_file
from smoke.check import Identity, SmokeFailure, run_smoke_test
from tests.conftest import REGION
from tests.e2e.cognito_server import CognitoServer, cognito_server
from tests.e2e.conftest import PROJECT_ROOT, runtime_environment

CONNECTION_IDS = ("alice-id", "bob-id")


def run_smoke(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "smoke", *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=runtime_environment(),
    )


def test_passes_against_the_local_runtime_and_closes_its_connections(local_runtime):
    result = run_smoke(local_runtime.ws_url)

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.splitlines()[-1].startswith(f"smoke: PASS {local_runtime.ws_url} in ")
    connected = result.stdout.splitlines()[0]
    ids = [part.split(")")[0] for part in connected.split("(")[1:]]
    assert len(ids) == 2
    connections = local_runtime.connections_api()
    for connection_id in ids:
        assert gone_within(connections, connection_id, seconds=5)


def gone_within(connections, connection_id: str, *, seconds: float) -> bool:
    """@connections answers 410 for the connection (the gateway may finish its close a moment after the client)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            connections.get_connection(ConnectionId=connection_id)
        except ClientError as error:
            return error.response["Error"]["Code"] == "GoneException"
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)


def test_fails_fast_with_one_line_where_nothing_listens():
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
        url = f"ws://127.0.0.1:{unused.getsockname()[1]}/dev"
        started = time.monotonic()
        result = run_smoke(url)
        elapsed = time.monotonic() - started

    assert result.returncode == 1
    assert elapsed < 10  # the interpreter's start-up on a loaded machine, not the 30 s deadline
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"smoke: FAIL: cannot connect to {url}: ")


@pytest.mark.parametrize("argument", ["http://127.0.0.1/dev", "127.0.0.1:3001/dev"])
def test_refuses_a_url_that_is_not_a_websocket_url(argument):
    result = run_smoke(argument)

    assert result.returncode == 2
    assert "is not a ws:// or wss:// URL" in result.stderr


# --- against a scripted chat server: frame order, extra frames, failures -------------------------


class ScriptedChat:
    """A minimal chat on loopback that sends frames in an order of its choosing, plus frames of types
    the smoke test does not know, and can be told not to deliver."""

    def __init__(self, *, deliver: bool = True, give_ids: bool = True, users: dict[str, str] | None = None) -> None:
        """``users``: ID token -> username, as a stage with sign-in knows them (None: a stage without sign-in)."""
        self.deliver = deliver
        self.give_ids = give_ids
        self.users = users
        self.open: dict[str, ServerConnection] = {}
        self.ever_connected = 0
        self.tokens_seen: list[str | None] = []

    async def handle(self, connection: ServerConnection) -> None:
        connection_id = CONNECTION_IDS[self.ever_connected % 2]
        self.ever_connected += 1
        self.open[connection_id] = connection
        token = parse_qs(urlsplit(connection.request.path).query).get("token", [None])[0]
        self.tokens_seen.append(token)
        user = {"id": f"sub-{self.users[token]}", "name": self.users[token]} if self.users else None
        try:
            await connection.send(json.dumps({"type": "welcome", "note": "a frame type the test ignores"}))
            if self.give_ids:
                connected = {"type": "connection", "connection_id": connection_id}
                await connection.send(json.dumps({**connected, "user": user} if user else connected))
            async for raw in connection:
                await self.route(connection_id, json.loads(raw))
        finally:
            del self.open[connection_id]

    async def route(self, sender_id: str, request: dict) -> None:
        sender = self.open[sender_id]
        if "recipient_users" in request:  # one user, both connections theirs: every connection gets it
            user = next(iter(self.users.values()))
            frame = {"type": "message", "message": request["message"], "sender": {"id": f"sub-{user}", "name": user}}
            for connection in self.open.values():
                await connection.send(json.dumps({**frame, "sender_id": sender_id, "recipient_users": [user]}))
            return
        recipient_id = request["recipient_id"]
        message_id = f"m-{request['client_message_id']}"
        await sender.send(json.dumps({"type": "accepted", "message_id": message_id}))
        if not self.deliver:
            return
        frame = {
            "type": "message",
            "message_id": message_id,
            "message": request["message"],
            "sender_id": sender_id,
            "recipient_id": recipient_id,
            "recipient_ids": [recipient_id],
            "client_message_id": request["client_message_id"],
        }
        if recipient_id in self.open:
            await self.open[recipient_id].send(json.dumps(frame))
            await sender.send(json.dumps(frame))
        else:  # the failure overtakes the sender's own copy
            failed = {"type": "delivery_failed", "message_id": message_id, "recipient_ids": [recipient_id]}
            await sender.send(json.dumps({**failed, "recipient_id": recipient_id, "reason": "gone"}))
            await sender.send(json.dumps(frame))


@asynccontextmanager
async def scripted_chat(chat: ScriptedChat) -> AsyncIterator[str]:
    async with serve(chat.handle, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        yield f"ws://127.0.0.1:{port}/dev"


async def still_open(chat: ScriptedChat) -> set[str]:
    """The connections the server still holds, once it had a moment to process the closes (server still up)."""
    await asyncio.sleep(0.2)
    return set(chat.open)


def test_frames_are_matched_by_content_whatever_their_order_and_extra_types():
    chat = ScriptedChat()

    async def scenario() -> tuple[list[str], set[str]]:
        lines: list[str] = []
        async with scripted_chat(chat) as url:
            await run_smoke_test(url, deadline=10, report=lines.append)
            return lines, await still_open(chat)

    lines, left_open = asyncio.run(scenario())
    assert lines[-1].startswith("smoke: PASS")
    assert "delivery_failed (gone)" in lines[-2]
    assert chat.ever_connected == 2 and left_open == set()


@pytest.mark.parametrize(
    ("chat", "missing"),
    [
        (ScriptedChat(deliver=False), "waiting for alice's message frame of smoke-"),
        (ScriptedChat(give_ids=False), "waiting for alice's connection frame"),
    ],
    ids=["no-delivery", "no-connection-frame"],
)
def test_a_stage_that_does_not_answer_fails_at_the_deadline_naming_the_step_and_closes_everything(chat, missing):
    async def scenario() -> tuple[str, float, set[str]]:
        async with scripted_chat(chat) as url:
            started = time.monotonic()
            with pytest.raises(SmokeFailure) as failure:
                await run_smoke_test(url, deadline=2)
            elapsed = time.monotonic() - started
            return str(failure.value), elapsed, await still_open(chat)

    message, elapsed, left_open = asyncio.run(scenario())
    assert message.startswith(missing) and message.endswith("nothing within 2 s")
    assert 1.5 < elapsed < 3
    assert chat.ever_connected == 2 and left_open == set()


# --- a stage with sign-in: the throwaway user's token on every connection ------------------------


def test_with_a_user_both_connections_carry_its_token_name_it_and_a_message_to_it_by_name_reaches_both():
    chat = ScriptedChat(users={"id-token-of-smoke-1": "smoke-1"})

    async def scenario() -> list[str]:
        lines: list[str] = []
        async with scripted_chat(chat) as url:
            await run_smoke_test(
                url, deadline=10, report=lines.append, identity=Identity("smoke-1", "id-token-of-smoke-1")
            )
        return lines

    lines = asyncio.run(scenario())
    assert lines[-1].startswith("smoke: PASS")
    assert "smoke: a message to user smoke-1 reached both of their connections" in lines
    assert chat.tokens_seen == ["id-token-of-smoke-1", "id-token-of-smoke-1"]
    assert not any("id-token-of-smoke-1" in line for line in lines)  # the token is never printed


def test_a_connection_frame_that_names_another_user_fails():
    chat = ScriptedChat(users={"token": "someone-else"})

    async def scenario() -> str:
        async with scripted_chat(chat) as url:
            with pytest.raises(SmokeFailure) as failure:
                await run_smoke_test(url, deadline=10, identity=Identity("smoke-1", "token"))
        return str(failure.value)

    assert asyncio.run(scenario()).startswith("alice's connection frame names no user smoke-1")


@pytest.fixture
def cognito() -> Iterator[tuple[CognitoServer, str]]:
    """moto's Cognito, and a role of its IAM for the smoke test to assume (through its STS)."""
    with cognito_server() as server:
        role = server.client("iam").create_role(RoleName="chat-dev-smoke-test", AssumeRolePolicyDocument="{}")
        yield server, role["Role"]["Arn"]


def test_the_program_makes_a_throwaway_user_through_the_role_and_deletes_it_after_a_failure_too(cognito):
    server, role_arn = cognito
    endpoint, pool_id, client_id = server.endpoint, server.user_pool_id, server.client_id
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        url = f"ws://127.0.0.1:{unused.getsockname()[1]}/dev"  # nothing listens: the test fails after signing in
        options = ("--user-pool-id", pool_id, "--client-id", client_id, "--role-arn", role_arn)
        result = subprocess.run(
            [sys.executable, "-m", "smoke", url, *options],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            env={
                **runtime_environment(),
                "AWS_ENDPOINT_URL": endpoint,
                "AWS_ACCESS_KEY_ID": "local",
                "AWS_SECRET_ACCESS_KEY": "local",
            },
        )

    assert result.returncode == 1, result.stderr
    (signed_in,) = [line for line in result.stdout.splitlines() if "signed in as the throwaway user" in line]
    assert signed_in.startswith("smoke: signed in as the throwaway user smoke-")
    assert result.stderr.startswith(f"smoke: FAIL: cannot connect to {url}")
    assert server.client().list_users(UserPoolId=pool_id)["Users"] == []


def test_a_user_pool_needs_its_app_client():
    result = run_smoke("ws://127.0.0.1:1/dev", "--user-pool-id", f"{REGION}_Pool")

    assert result.returncode == 2
    assert "--user-pool-id and --client-id go together" in result.stderr


def test_passes_against_the_local_sign_in_stage_as_a_throwaway_user_it_deletes(signed_in_runtime):
    """The pipeline's run against a stage with sign-in, on the local runtime: moto's Cognito in its Step Functions
    process takes the administrator calls (boto3's AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER), its authorizer
    verifies the token."""
    state = read_state(state_file(signed_in_runtime.state_dir, signed_in_runtime.stage))
    pool_id, client_id = state.cognito["user_pool_id"], state.cognito["client_id"]
    result = subprocess.run(
        [sys.executable, "-m", "smoke", signed_in_runtime.ws_url, "--user-pool-id", pool_id, "--client-id", client_id],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=90,
        env={
            **runtime_environment(),
            "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER": state.stepfunctions_url,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
        },
    )

    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    user = lines[0].removeprefix("smoke: signed in as the throwaway user ")
    assert user.startswith("smoke-")
    assert f"smoke: a message to user {user} reached both of their connections" in lines
    assert lines[-1] == f"smoke: deleted the throwaway user {user}"
    listed = signed_in_runtime.local_cli("users", "list")
    assert listed.returncode == 0 and user not in listed.stdout


def test_without_a_token_the_sign_in_stage_refuses_the_smoke_test_at_connect(signed_in_runtime):
    result = run_smoke(signed_in_runtime.ws_url, "--deadline", "10")

    assert result.returncode == 1
    assert result.stderr.startswith(f"smoke: FAIL: cannot connect to {signed_in_runtime.ws_url}: ")
    assert "401" in result.stderr
