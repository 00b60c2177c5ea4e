"""Edits while `python -m local serve` runs: the next invocation uses the new code, open connections stay.

An edit under lambdas/ only is served from the sources without a synthesis; edits under cdk/,
statemachines/ or cdk.json synthesize the stage again.
"""

import asyncio
import json
import re
import time
from pathlib import Path

import pytest
import websockets

from cdk.names import stack_name_for
from tests.e2e.conftest import RunningRuntime, running_local_runtime

RELOAD_DEADLINE_SECONDS = 180  # a synthesis on a loaded machine
RELOADED = re.compile(r"reloaded .* in \d+\.\d s.*")  # the whole line
CODE_RELOADED = re.compile(r"reloaded \(lambdas/[^)]*\) in \d+\.\d s without synthesis")
SYNTHESIZING = "synthesizing"


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


def template_written_at(runtime: RunningRuntime) -> int:
    return (runtime.project_root / "cdk.out" / f"{stack_name_for(runtime.stage)}.template.json").stat().st_mtime_ns


async def unknown_action_reply(client, action: str = "nope") -> dict:
    await client.send(json.dumps({"action": action}))
    return await receive(client)


@pytest.fixture
def served_copy(project_copy, tmp_path):
    with running_local_runtime(tmp_path, "--quiet-history", project_root=project_copy) as runtime:
        yield runtime


def test_handler_edit_reaches_the_next_invocation_on_an_open_connection_without_a_synthesis(served_copy):
    runtime = served_copy
    synthesized_at = template_written_at(runtime)

    async def scenario() -> tuple[dict, dict, str, str]:
        client, _ = await connect(runtime)
        before = await unknown_action_reply(client)
        mark = len(runtime.log())
        edit(runtime.project_root / "lambdas" / "on_default.py", "valid actions: {valid}", "try one of: {valid}")
        reload_line = await wait_for_log(runtime, RELOADED, after=mark)
        after = await unknown_action_reply(client)
        await client.close()
        return before, after, reload_line, runtime.log()[mark:]

    before, after, reload_line, since_edit = asyncio.run(scenario())
    assert "valid actions:" in before["message"]
    assert "try one of:" in after["message"]  # the same connection, opened before the edit
    assert "lambdas/on_default.py" in reload_line
    assert CODE_RELOADED.search(reload_line), reload_line
    assert SYNTHESIZING not in since_edit
    assert template_written_at(runtime) == synthesized_at  # cdk.out was not written
    assert len(RELOADED.findall(runtime.log())) == 1


def test_handler_edit_that_breaks_its_import_is_reported_in_one_line_then_the_fix_is_served(served_copy):
    runtime = served_copy
    handler = runtime.project_root / "lambdas" / "on_default.py"
    original = handler.read_text(encoding="utf-8")
    broken_line = len(original.splitlines()) + 1

    async def scenario() -> tuple[dict, dict, str]:
        client, _ = await connect(runtime)
        mark = len(runtime.log())
        handler.write_text(original + "def broken(:\n", encoding="utf-8")
        await wait_for_log(runtime, RELOADED, after=mark)
        broken = await unknown_action_reply(client)
        since_break = runtime.log()[mark:]
        mark = len(runtime.log())
        handler.write_text(original, encoding="utf-8")
        await wait_for_log(runtime, RELOADED, after=mark)
        fixed = await unknown_action_reply(client)
        await client.close()
        return broken, fixed, since_break

    broken, fixed, since_break = asyncio.run(scenario())
    assert broken["message"] == "Internal server error"  # Lambda's init error, as API Gateway words it
    assert fixed["code"] == "unknown_action"
    reports = [line for line in since_break.splitlines() if "cannot load" in line]
    assert len(reports) == 1, since_break
    assert reports[0].startswith("[OnDefault] error: OnDefault (on_default.handler) cannot load at ")
    assert f"lambdas/on_default.py, line {broken_line}: Runtime.UserCodeSyntaxError" in reports[0]
    assert "Traceback" not in since_break
    assert SYNTHESIZING not in runtime.log()


def test_new_module_under_lambdas_is_served_without_a_synthesis(served_copy):
    runtime = served_copy
    lambdas = runtime.project_root / "lambdas"

    async def scenario() -> tuple[dict, str]:
        client, _ = await connect(runtime)
        mark = len(runtime.log())
        (lambdas / "chat" / "wording.py").write_text('HINT = "choose from"\n', encoding="utf-8")
        edit(
            lambdas / "on_default.py",
            "from chat.settings import require_names\n",
            "from chat.settings import require_names\nfrom chat.wording import HINT\n",
        )
        edit(
            lambdas / "on_default.py",
            '"unknown action {quoted(action)}; valid actions: {valid}"',
            '"unknown action {quoted(action)}; {HINT}: {valid}"',
        )
        reload_line = await wait_for_log(runtime, RELOADED, after=mark)
        reply = await unknown_action_reply(client)
        await client.close()
        return reply, reload_line

    reply, reload_line = asyncio.run(scenario())
    assert "choose from:" in reply["message"]
    assert CODE_RELOADED.search(reload_line), reload_line
    assert SYNTHESIZING not in runtime.log()


def test_invocation_running_during_a_handler_reload_finishes_on_the_code_it_started_with(served_copy):
    runtime = served_copy
    handler = runtime.project_root / "lambdas" / "on_default.py"
    signature = "def handler(event: APIGatewayWebSocketMessageEventModel) -> dict:\n"
    edit(handler, signature, signature + '    if "slow" in (event.body or ""):\n        __import__("time").sleep(8)\n')

    async def scenario() -> tuple[bool, dict, dict]:
        await wait_for_log(runtime, RELOADED)
        client, _ = await connect(runtime)
        other, _ = await connect(runtime)
        await client.send(json.dumps({"action": "slow"}))
        in_flight = asyncio.ensure_future(receive(client))
        await asyncio.sleep(0.5)
        mark = len(runtime.log())
        edit(handler, "valid actions: {valid}", "try one of: {valid}")
        await wait_for_log(runtime, RELOADED, after=mark)
        running_across_the_reload = not in_flight.done()
        after = await unknown_action_reply(other)
        reply = await in_flight
        await asyncio.gather(client.close(), other.close())
        return running_across_the_reload, reply, after

    running_across_the_reload, reply, after = asyncio.run(scenario())
    assert running_across_the_reload
    assert "valid actions:" in reply["message"]  # the version it started on
    assert "try one of:" in after["message"]
    assert SYNTHESIZING not in runtime.log()


def test_asl_edit_recreates_the_state_machine(served_copy):
    runtime = served_copy
    asl = runtime.project_root / "statemachines" / "connection_handshake.asl.json"
    definition = json.loads(asl.read_text(encoding="utf-8"))
    definition["States"]["Reloaded"] = {"Type": "Pass", "Next": definition["StartAt"]}
    definition["StartAt"] = "Reloaded"

    async def scenario() -> None:
        mark = len(runtime.log())
        asl.write_text(json.dumps(definition, indent=2), encoding="utf-8")
        reload_line = await wait_for_log(runtime, RELOADED, after=mark)
        client, _ = await connect(runtime)
        await client.close()
        return reload_line, runtime.log()[mark:]

    reload_line, since_edit = asyncio.run(scenario())
    assert "statemachines/connection_handshake.asl.json changed: synthesizing" in since_edit
    assert not CODE_RELOADED.search(reload_line)
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
        edit(functions, '"sendMessage": self.send_message,', '"postMessage": self.send_message,')
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
    assert "WebSocket API changed" in reload_line
    assert reply["type"] == "error" and reply["code"] == "unknown_action"


def test_cdk_json_edit_synthesizes_again(served_copy):
    runtime = served_copy
    cdk_json = runtime.project_root / "cdk.json"
    synthesized_at = template_written_at(runtime)

    async def scenario() -> tuple[str, str]:
        mark = len(runtime.log())
        edit(cdk_json, '"log_level": "DEBUG"', '"log_level": "INFO"')
        reload_line = await wait_for_log(runtime, RELOADED, after=mark)
        return reload_line, runtime.log()[mark:]

    reload_line, since_edit = asyncio.run(scenario())
    assert "cdk.json changed: synthesizing" in since_edit
    assert not CODE_RELOADED.search(reload_line)
    assert template_written_at(runtime) > synthesized_at
