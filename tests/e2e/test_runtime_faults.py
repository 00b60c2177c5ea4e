"""Faults inside the local runtime: broken handlers, dead workers, a second instance, a corrupt
cdk.out, Ctrl-C at any moment, and the async invoke queue's bound."""

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest
import websockets
from botocore.config import Config
from botocore.exceptions import ClientError

from cdk.names import stack_name_for
from local.template import load_stack
from tests.e2e.conftest import (
    OPEN_STAGE,
    RunningRuntime,
    running_local_runtime,
    runtime_environment,
    start_local_runtime,
    wait_until_serving,
)

TEMPLATE = Path("cdk.out") / f"{stack_name_for(OPEN_STAGE)}.template.json"


async def receive(client, seconds: float = 30) -> dict:
    return json.loads(await asyncio.wait_for(client.recv(), seconds))


async def connect(runtime: RunningRuntime):
    client = await websockets.connect(runtime.ws_url, open_timeout=60)  # a burst of connects on a busy machine
    return client, (await receive(client))["connection_id"]


async def receive_until(client, frame_type: str) -> dict:
    while (frame := await receive(client))["type"] != frame_type:
        pass
    return frame


async def chat_works(runtime: RunningRuntime) -> bool:
    """Two clients connect and one sends to the other: both get the message frame."""
    (sender, sender_id), (recipient, recipient_id) = await asyncio.gather(connect(runtime), connect(runtime))
    await sender.send(json.dumps({"action": "sendMessage", "message": "still here", "recipient_id": recipient_id}))
    frames = await asyncio.gather(receive_until(sender, "message"), receive_until(recipient, "message"))
    await asyncio.gather(sender.close(), recipient.close())
    return all(frame["message"] == "still here" and frame["sender_id"] == sender_id for frame in frames)


def lambda_client(runtime: RunningRuntime):
    return runtime.aws_client("lambda", runtime.http_url, config=Config(retries={"max_attempts": 0}, read_timeout=60))


def function_name(project: Path, handler: str) -> str:
    """The local name of the function whose handler is ``handler``, as the runtime serving ``project`` names it."""
    model = load_stack(project / TEMPLATE.parent, stack_name_for(OPEN_STAGE))
    return next(function.name for function in model.functions.values() if function.handler == handler)


def descendants(pid: int) -> dict[int, str]:
    """Every process below ``pid``, with its command line (from /proc)."""
    children: dict[int, list[int]] = {}
    commands: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            commands[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(entry.name))
    found, pending = {}, [pid]
    while pending:
        for child in children.get(pending.pop(), []):
            found[child] = commands.get(child, "")
            pending.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"


def wait_for_log(runtime: RunningRuntime, text: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while text not in runtime.log():
        assert time.monotonic() < deadline, f"never logged {text!r}:\n{runtime.log()[-3000:]}"
        time.sleep(0.1)


def ctrl_c(process: subprocess.Popen, seconds: float) -> float:
    """SIGINT to the runtime's whole process group, as a terminal's Ctrl-C; how long it took to exit."""
    started = time.monotonic()
    if process.poll() is not None:
        return 0.0
    os.killpg(process.pid, signal.SIGINT)
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        pytest.fail(f"still running {seconds} s after Ctrl-C")
    elapsed = time.monotonic() - started
    print(f"stopped {elapsed:.2f} s after Ctrl-C")  # the figure for the record (pytest -rP)
    return elapsed


@pytest.fixture
def launch():
    """start_local_runtime; whatever the test does, every runtime it started is gone at its end."""
    started: list[subprocess.Popen] = []

    def _launch(*args, **kwargs) -> tuple[RunningRuntime, subprocess.Popen]:
        runtime, process = start_local_runtime(*args, **kwargs)
        started.append(process)
        return runtime, process

    yield _launch
    for process in started:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL) if os.getpgid(process.pid) == process.pid else process.kill()
            process.wait()


def break_handler(project: Path, module: str, code: str) -> int:
    """Append ``code`` to lambdas/<module>.py; the line number where it starts."""
    path = project / "lambdas" / f"{module}.py"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([*lines, code]) + "\n", encoding="utf-8")
    return len(lines) + 1


# --- a handler that fails at import -----------------------------------------------------------------


def test_handler_that_fails_to_import_is_reported_once_and_the_others_keep_serving(project_copy, tmp_path, launch):
    line = break_handler(project_copy, "on_default", "def broken(:")
    runtime, process = launch(tmp_path, "--quiet-history", project_root=project_copy, new_session=True)
    try:
        runtime = wait_until_serving(runtime, process, seconds=90)
        assert asyncio.run(chat_works(runtime))

        async def unknown_action() -> dict:
            client, _ = await connect(runtime)
            await client.send(json.dumps({"action": "nope"}))
            reply = await receive(client)
            await client.close()
            return reply

        assert asyncio.run(unknown_action())["message"] == "Internal server error"  # API Gateway's words
        invoked = lambda_client(runtime).invoke(
            FunctionName=function_name(project_copy, "on_default.handler"), Payload=b"{}"
        )
        error = json.loads(invoked["Payload"].read())
    finally:
        elapsed = ctrl_c(process, 30)

    assert invoked["FunctionError"] == "Unhandled"
    assert error["errorType"] == "Runtime.UserCodeSyntaxError"
    assert "on_default" in error["errorMessage"] and f"line {line}" in error["errorMessage"]
    log = runtime.log()
    reports = [text for text in log.splitlines() if "OnDefault" in text and f"on_default.py, line {line}" in text]
    assert len(reports) == 1, log[-3000:]
    assert "lambdas/on_default.py" in reports[0]
    assert log.count("Traceback") <= 1, f"a restart storm: {log.count('Traceback')} tracebacks"
    assert elapsed < 10


def test_ctrl_c_while_a_handler_import_hangs_stops_start_up(project_copy, tmp_path, launch):
    hang = 'import os, time\nprint("importing slowly", os.getpid())\ntime.sleep(300)'
    break_handler(project_copy, "on_connect", hang)
    runtime, process = launch(tmp_path, "--quiet-history", project_root=project_copy, new_session=True)
    wait_for_log(runtime, "importing slowly")
    slow_worker = int(runtime.log().split("importing slowly")[1].split()[0])
    elapsed = ctrl_c(process, 20)
    assert elapsed < 10
    assert "Traceback" not in runtime.log(), runtime.log()[-3000:]
    assert not alive(slow_worker)


def test_ctrl_c_during_synthesis_stops_quietly(project_copy, tmp_path, launch):
    runtime, process = launch(tmp_path, "--quiet-history", "--resynth", project_root=project_copy, new_session=True)
    wait_for_log(runtime, "synthesizing")
    time.sleep(1)
    elapsed = ctrl_c(process, 20)
    assert elapsed < 10
    assert "Traceback" not in runtime.log(), runtime.log()[-3000:]
    assert process.returncode in (130, -signal.SIGINT)


# --- dead workers -------------------------------------------------------------------------------


def test_workers_killed_while_idle_do_not_lose_the_next_message(tmp_path):
    with running_local_runtime(tmp_path, "--quiet-history") as runtime:
        assert asyncio.run(chat_works(runtime))  # every worker on the path has run once
        victims = [
            pid
            for pid, command in descendants(runtime.pid).items()
            if "deliver_message.handler" in command or "send_message.handler" in command
        ]
        assert victims
        for pid in victims:
            os.kill(pid, signal.SIGKILL)
        time.sleep(0.5)
        assert asyncio.run(chat_works(runtime)), runtime.log()[-3000:]


# --- a second instance ------------------------------------------------------------------------------


def test_second_instance_on_the_same_port_refuses_in_one_line_and_leaves_the_first_alone(tmp_path):
    with running_local_runtime(tmp_path, "--quiet-history") as first:
        state_files = sorted(first.state_dir.iterdir())
        started = time.monotonic()
        second = subprocess.run(
            [sys.executable, "-m", "local", "serve", "--port", str(first.port), "--state-dir", str(first.state_dir)],
            cwd=first.project_root,
            capture_output=True,
            text=True,
            timeout=120,
            env=runtime_environment(),
        )
        took = time.monotonic() - started
        output = (second.stdout + second.stderr).strip().splitlines()
        assert second.returncode != 0
        assert len(output) == 1 and output[0].startswith("error:") and str(first.port) in output[0], output
        assert took < 10  # nothing was synthesized or started first
        assert sorted(first.state_dir.iterdir()) == state_files
        listed = first.local_cli("executions")
        assert listed.returncode == 0, listed.stderr
        assert asyncio.run(chat_works(first))


# --- a corrupt cdk.out ------------------------------------------------------------------------------


def _truncate(text: str) -> str:
    return text[: len(text) // 2]


def _invalid_asl(text: str) -> str:
    template = json.loads(text)
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::StepFunctions::StateMachine":
            resource["Properties"]["DefinitionString"] = json.dumps({"StartAt": "Missing", "States": {}})
    return json.dumps(template)


@pytest.mark.parametrize(
    "corrupt",
    [_truncate, lambda text: "", lambda text: "[]", _invalid_asl],
    ids=["truncated", "empty", "json-array", "invalid-asl"],
)
def test_corrupt_template_is_named_once_and_synthesized_again(project_copy, tmp_path, corrupt):
    template = project_copy / TEMPLATE
    modified = template.stat().st_mtime
    template.write_text(corrupt(template.read_text(encoding="utf-8")), encoding="utf-8")
    os.utime(template, (modified + 60, modified + 60))  # newer than every source, as a reused one would be
    with running_local_runtime(tmp_path, "--quiet-history", project_root=project_copy) as runtime:
        log = runtime.log()
        assert asyncio.run(chat_works(runtime))
    errors = [line for line in log.splitlines() if "error:" in line]
    assert len(errors) == 1 and TEMPLATE.name in errors[0], log[-3000:]
    assert "synthesizing" in log
    assert "Traceback" not in log


def test_corrupt_manifest_is_named_once_and_synthesized_again(project_copy, tmp_path):
    (project_copy / "cdk.out" / "manifest.json").write_text('{"artifacts": ', encoding="utf-8")
    with running_local_runtime(tmp_path, "--quiet-history", project_root=project_copy) as runtime:
        log = runtime.log()
    errors = [line for line in log.splitlines() if "error:" in line]
    assert len(errors) == 1 and "manifest.json" in errors[0], log[-3000:]
    assert "Traceback" not in log


def test_invalid_asl_in_the_sources_stops_with_one_error_naming_the_state_machine(project_copy, tmp_path, launch):
    asl = project_copy / "statemachines" / "message_fanout.asl.json"
    definition = json.loads(asl.read_text(encoding="utf-8"))
    definition["StartAt"] = "NoSuchState"
    asl.write_text(json.dumps(definition, indent=2), encoding="utf-8")
    runtime, process = launch(tmp_path, "--quiet-history", project_root=project_copy)
    process.wait(timeout=120)
    log = runtime.log()
    assert process.returncode == 2
    # The synthesis refuses it (CloudFormation validation, @aws-cdk/core:validateAgainstDefaultRules), one line
    # per finding below the error's own; the runtime's ASL check names a state machine of an edited cdk.out.
    assert log.count("error:") == 1, log[-3000:]
    error = log[log.index("error:") :]
    assert "MessageFanout" in error and "NoSuchState" in error, log[-3000:]
    assert "Traceback" not in log


# --- shutdown ---------------------------------------------------------------------------------------


def test_ctrl_c_during_a_burst_stops_within_seconds_quietly_and_closes_clients_with_1001(tmp_path, launch):
    # --no-throttle: the dev stage's throttle would answer most of this burst with Too Many Requests.
    runtime, process = launch(tmp_path, "--quiet-history", "--no-throttle", new_session=True)
    runtime = wait_until_serving(runtime, process)

    async def burst_then_ctrl_c() -> tuple[float, list]:
        clients = await asyncio.gather(*(connect(runtime) for _ in range(20)))
        for index, (client, _) in enumerate(clients):
            peer = clients[(index + 1) % len(clients)][1]
            for number in range(30):
                await client.send(json.dumps({"action": "sendMessage", "message": f"m{number}", "recipient_id": peer}))
        await receive_until(clients[0][0], "message")  # the burst is being delivered
        elapsed = await asyncio.to_thread(ctrl_c, process, 60)
        codes = []
        for client, _ in clients:
            try:
                while True:
                    await asyncio.wait_for(client.recv(), 5)
            except websockets.ConnectionClosed:
                codes.append(client.close_code)
            except TimeoutError:
                codes.append(None)
        return elapsed, codes

    elapsed, codes = asyncio.run(burst_then_ctrl_c())
    log = runtime.log()
    assert elapsed < 10, f"{elapsed:.1f} s to stop"
    assert "KeyboardInterrupt" not in log, log[-3000:]
    assert not [line for line in log.splitlines() if line.startswith("Traceback")]  # the runtime's own
    assert codes == [1001] * len(codes)


# --- the async invoke queue ---------------------------------------------------------------------------


def test_async_invokes_beyond_the_queue_bound_are_refused(synthesized_project, tmp_path):
    with running_local_runtime(
        tmp_path, "--quiet-history", "--async-queue-size", "5", project_root=synthesized_project
    ) as runtime:
        name = function_name(synthesized_project, "send_connection_id.handler")
        event = json.dumps({"connection_id": "nobody", "padding": "x" * 1000})

        async def flood() -> list[int]:
            # Lambda's Invoke API on the wire, 60 requests at once (boto3 in threads would pace them).
            url = f"{runtime.http_url}/2015-03-31/functions/{name}/invocations"
            async with aiohttp.ClientSession(headers={"X-Amz-Invocation-Type": "Event"}) as session:

                async def invoke() -> int:
                    async with session.post(url, data=event) as response:
                        if response.status == 429:
                            assert response.headers["x-amzn-ErrorType"] == "TooManyRequestsException"
                        return response.status

                return await asyncio.gather(*(invoke() for _ in range(60)))

        statuses = asyncio.run(flood())
        too_large = lambda_client(runtime)
        with pytest.raises(ClientError) as refused:
            too_large.invoke(FunctionName=name, InvocationType="Event", Payload=b'"' + b"x" * (1024 * 1024 + 1) + b'"')
    assert set(statuses) <= {202, 429}
    assert statuses.count(429) > 0 and statuses.count(202) >= 5
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413
