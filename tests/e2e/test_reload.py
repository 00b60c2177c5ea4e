"""Edits while `python -m local serve` runs: the next invocation uses the new code, open connections stay."""

import asyncio
import json
import re
import time
from pathlib import Path

import pytest
import websockets

from tests.e2e.conftest import RunningRuntime, running_local_runtime

RELOAD_DEADLINE_SECONDS = 180  # a synthesis on a loaded machine
RELOADED = re.compile(r"reloaded .* in \d+\.\d s")


async def receive(client, seconds: float = 30) -> dict:
    return json.loads(await asyncio.wait_for(client.recv(), seconds))


async def connect(runtime: RunningRuntime):
    client = await websockets.connect(runtime.ws_url)
    return client, (await receive(client))["connection_id"]


async def wait_for_log(runtime: RunningRuntime, pattern: re.Pattern, *, after: int = 0) -> str:
    deadline = time.monotonic() + RELOAD_DEADLINE_SECONDS
    while not (found := pattern.search(runtime.log(), after)):
        assert time.monotonic() < deadline, f"never logged {pattern.pattern!r}:\n{runtime.log()[-3000:]}"
        await asyncio.sleep(0.2)
    return found.group(0)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


@pytest.fixture
def served_copy(project_copy, tmp_path):
    with running_local_runtime(tmp_path, "--quiet-history", project_root=project_copy) as runtime:
        yield runtime


def test_handler_edit_reaches_the_next_invocation_on_an_open_connection(served_copy):
    runtime = served_copy

    async def scenario() -> tuple[dict, dict, str]:
        client, _ = await connect(runtime)
        await client.send(json.dumps({"action": "nope"}))
        before = await receive(client)
        mark = len(runtime.log())
        edit(runtime.project_root / "lambdas" / "on_default.py", "valid actions: {valid}", "try one of: {valid}")
        reload_line = await wait_for_log(runtime, RELOADED, after=mark)
        await client.send(json.dumps({"action": "nope"}))
        after = await receive(client)
        await client.close()
        return before, after, reload_line

    before, after, reload_line = asyncio.run(scenario())
    assert "valid actions:" in before["message"]
    assert "try one of:" in after["message"]  # the same connection, opened before the edit
    assert "lambdas/on_default.py" in reload_line
    assert len(RELOADED.findall(runtime.log())) == 1


def test_asl_edit_recreates_the_state_machine(served_copy):
    runtime = served_copy
    asl = runtime.project_root / "statemachines" / "connection_handshake.asl.json"
    definition = json.loads(asl.read_text(encoding="utf-8"))
    definition["States"]["Reloaded"] = {"Type": "Pass", "Next": definition["StartAt"]}
    definition["StartAt"] = "Reloaded"

    async def scenario() -> None:
        mark = len(runtime.log())
        asl.write_text(json.dumps(definition, indent=2), encoding="utf-8")
        await wait_for_log(runtime, RELOADED, after=mark)
        client, _ = await connect(runtime)
        await client.close()

    asyncio.run(scenario())
    listed = runtime.local_cli("executions")  # sorted by start: the last handshake is the new client's
    newest = [line.split()[1] for line in listed.stdout.splitlines() if line.startswith("ConnectionHandshake")]
    assert newest, listed.stdout
    history = runtime.local_cli("executions", newest[-1])
    assert "Reloaded" in history.stdout, history.stdout


def test_edit_that_breaks_the_synth_keeps_the_old_version_serving(served_copy):
    runtime = served_copy
    stage_config = runtime.project_root / "cdk" / "stage_config.py"
    original = stage_config.read_text(encoding="utf-8")

    async def scenario() -> tuple[str, str]:
        client, _ = await connect(runtime)
        mark = len(runtime.log())
        stage_config.write_text(original + '\nraise RuntimeError("broken on purpose")\n', encoding="utf-8")
        failure = await wait_for_log(runtime, re.compile(r".*broken on purpose.*"), after=mark)
        await wait_for_log(runtime, re.compile(r"still serving the previous version"), after=mark)
        await client.send(json.dumps({"action": "nope"}))
        reply = await receive(client)  # the old version answers on the open connection
        other, _ = await connect(runtime)  # and new connections are served
        mark = len(runtime.log())
        stage_config.write_text(original, encoding="utf-8")
        await wait_for_log(runtime, RELOADED, after=mark)
        await asyncio.gather(client.close(), other.close())
        return failure, reply["code"]

    failure, code = asyncio.run(scenario())
    assert code == "unknown_action"
    assert "stage_config.py" in failure


def test_api_change_closes_open_connections_and_serves_the_new_routes(served_copy):
    runtime = served_copy
    functions = runtime.project_root / "cdk" / "functions.py"

    async def scenario() -> tuple[int | None, str, dict]:
        old_client, _ = await connect(runtime)
        mark = len(runtime.log())
        edit(functions, '{"sendMessage": self.send_message}', '{"postMessage": self.send_message}')
        reload_line = await wait_for_log(runtime, RELOADED, after=mark)
        with pytest.raises(websockets.ConnectionClosed):
            await asyncio.wait_for(old_client.recv(), 30)
        client, client_id = await connect(runtime)
        await client.send(json.dumps({"action": "sendMessage", "message": "hi", "recipient_id": client_id}))
        reply = await receive(client)  # the route is gone: $default answers
        await client.close()
        return old_client.close_code, reload_line, reply

    code, reload_line, reply = asyncio.run(scenario())
    assert code == 1001
    assert "WebSocket API changed" in runtime.log().split(reload_line, 1)[1].splitlines()[0]
    assert reply["type"] == "error" and reply["code"] == "unknown_action"
