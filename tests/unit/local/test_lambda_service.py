"""Functions run in warm worker processes: errors come back as FunctionError, dead workers are replaced."""

import asyncio
import os
import signal
import sys
import textwrap
import time
from pathlib import Path

import pytest

from local.awslambda.environment import worker_environment
from local.awslambda.invocation import Throttled
from local.awslambda.pool import FunctionPool
from local.awslambda.service import LambdaService
from local.console import Console
from local.template import FunctionSpec

HANDLERS = textwrap.dedent(
    """
    import os, sys, time

    COLD_STARTS = [os.getpid()]

    def echo(event, context):
        return {"event": event, "pid": os.getpid(), "function": context.function_name,
                "remaining_ms": context.get_remaining_time_in_millis(), "env": os.environ.get("GREETING")}

    def fail(event, context):
        print("about to fail")  # goes to the terminal, never into the answer
        raise ValueError("bad input: " + str(event.get("n")))

    def crash(event, context):
        os._exit(3)

    def slow(event, context):
        time.sleep(event.get("seconds", 5))
        return "done"
    """
)


def spec(code_dir: Path, handler: str, timeout: int = 5) -> FunctionSpec:
    return FunctionSpec(
        logical_id=handler,
        display_name=handler,
        name=f"fn-{handler}",
        arn=f"arn:aws:lambda:us-east-1:123456789012:function:fn-{handler}",
        handler=f"handlers.{handler}",
        runtime="python3.13",
        code_dir=code_dir,
        environment={"GREETING": "hello from https://abc.execute-api.us-east-1.amazonaws.com/dev"},
        timeout_seconds=timeout,
        memory_mb=128,
    )


@pytest.fixture
def code_dir(tmp_path) -> Path:
    (tmp_path / "handlers.py").write_text(HANDLERS)
    return tmp_path


def pool_for(function: FunctionSpec, lines: list, max_workers: int = 2) -> FunctionPool:
    class Recorder(Console):
        def line(self, source, text):
            lines.append((source, text.rstrip()))

    return FunctionPool(function, environment_for(function), Recorder(sys.stdout), max_workers=max_workers)


def environment_for(function: FunctionSpec) -> dict[str, str]:
    return worker_environment(
        function,
        region="us-east-1",
        aws_endpoint_url="http://127.0.0.1:1",
        rewrite={"https://abc.execute-api.us-east-1.amazonaws.com": "http://127.0.0.1:3001"},
    )


def run(coroutine):
    return asyncio.run(coroutine)


def test_result_environment_and_context_reach_the_handler_and_workers_stay_warm(code_dir):
    async def scenario():
        pool = pool_for(spec(code_dir, "echo"), [])
        first = await pool.invoke({"n": 1})
        second = await pool.invoke({"n": 2})
        await pool.close()
        return first, second

    first, second = run(scenario())
    assert first.function_error is None
    assert first.payload["event"] == {"n": 1} and first.payload["function"] == "fn-echo"
    assert first.payload["env"] == "hello from http://127.0.0.1:3001/dev"  # the callback URL served locally
    assert 0 < first.payload["remaining_ms"] <= 5000
    assert second.payload["pid"] == first.payload["pid"]  # imported once, reused


def test_handler_exception_is_a_function_error_with_lambda_payload_and_logs_go_to_the_terminal(code_dir):
    lines = []

    async def scenario():
        pool = pool_for(spec(code_dir, "fail"), lines)
        outcome = await pool.invoke({"n": 7})
        again = await pool.invoke({"n": 8})
        await pool.close()
        return outcome, again

    outcome, again = run(scenario())
    assert outcome.function_error == "Unhandled"
    assert outcome.payload["errorType"] == "ValueError"
    assert outcome.payload["errorMessage"] == "bad input: 7"
    assert outcome.payload["stackTrace"]
    assert again.payload["errorMessage"] == "bad input: 8"  # the worker survives its handler's errors
    assert ("fail", "about to fail") in lines


def test_crashed_worker_is_reported_and_replaced(code_dir):
    async def scenario():
        crash_pool = pool_for(spec(code_dir, "crash"), [])
        crashed = await crash_pool.invoke({})
        crashed_again = await crash_pool.invoke({})
        await crash_pool.close()
        return crashed, crashed_again

    crashed, crashed_again = run(scenario())
    assert crashed.function_error == "Unhandled"
    assert crashed.payload["errorType"] == "Runtime.ExitError"
    assert "exit status 3" in crashed.payload["errorMessage"]
    assert crashed_again.payload["errorType"] == "Runtime.ExitError"  # a new worker ran the second call


def test_timeout_kills_the_worker_and_the_next_call_gets_a_fresh_one(code_dir):
    async def scenario():
        pool = pool_for(spec(code_dir, "slow", timeout=1), [])
        timed_out = await pool.invoke({"seconds": 5})
        quick = await pool.invoke({"seconds": 0})
        await pool.close()
        return timed_out, quick

    timed_out, quick = run(scenario())
    assert timed_out.function_error == "Unhandled"
    assert "Task timed out after 1.00 seconds" in timed_out.payload["errorMessage"]
    assert quick.function_error is None and quick.payload == "done"


def test_import_error_is_reported_as_an_init_error(code_dir):
    broken = FunctionSpec(**{**spec(code_dir, "echo").__dict__, "handler": "missing_module.handler"})

    async def scenario():
        pool = pool_for(broken, [])
        outcome = await pool.invoke({})
        await pool.close()
        return outcome

    outcome = run(scenario())
    assert outcome.function_error == "Unhandled"
    assert outcome.payload["errorType"] == "Runtime.ImportModuleError"
    assert "missing_module" in outcome.payload["errorMessage"]


def test_concurrency_is_bounded_and_excess_calls_wait_then_throttle(code_dir):
    async def scenario():
        pool = pool_for(spec(code_dir, "slow", timeout=1), [], max_workers=1)
        first = asyncio.create_task(pool.invoke({"seconds": 0.8}))
        await asyncio.sleep(0.05)
        second = asyncio.create_task(pool.invoke({"seconds": 0.8}))  # waits for the only worker
        await asyncio.sleep(0.05)
        with pytest.raises(Throttled):
            await pool.invoke({"seconds": 0})  # still no free worker after the function's timeout
        results = await asyncio.gather(first, second)
        await pool.close()
        return results

    first, second = run(scenario())
    assert first.payload == "done" and second.payload == "done"


def test_worker_killed_while_idle_is_replaced_and_the_invocation_reaches_a_live_one(code_dir):
    lines = []

    async def scenario():
        pool = pool_for(spec(code_dir, "echo"), lines, max_workers=1)
        first = await pool.invoke({"n": 1})
        os.kill(first.payload["pid"], signal.SIGKILL)
        await asyncio.sleep(0.2)
        second = await pool.invoke({"n": 2})
        await pool.close()
        return first, second

    first, second = run(scenario())
    assert second.function_error is None and second.payload["event"] == {"n": 2}
    assert second.payload["pid"] != first.payload["pid"]
    assert [text for _, text in lines if "exited while idle" in text] == [
        "a worker exited while idle (exit status -9); replacing it"
    ]


BROKEN = {
    "syntax": ("def broken(:\n", "Runtime.UserCodeSyntaxError", "Syntax error in module 'broken'"),
    "import": ("import no_such_module\n", "Runtime.ImportModuleError", "Unable to import module 'broken'"),
    "raises": ("x = 1\nraise KeyError('SETTING')\n", "KeyError", "'SETTING'"),
}


@pytest.mark.parametrize("kind", BROKEN)
def test_handler_that_cannot_load_is_reported_once_and_answered_without_restarts(code_dir, kind):
    source, error_type, message = BROKEN[kind]
    (code_dir / "broken.py").write_text(source)
    broken = FunctionSpec(**{**spec(code_dir, "echo").__dict__, "handler": "broken.handler"})
    lines = []

    async def scenario():
        pool = pool_for(broken, lines, max_workers=2)
        await pool.prewarm(2)
        started = time.monotonic()
        outcomes = [await pool.invoke({}) for _ in range(5)]
        elapsed = time.monotonic() - started
        await pool.close()
        return outcomes, elapsed

    outcomes, elapsed = run(scenario())
    assert {outcome.function_error for outcome in outcomes} == {"Unhandled"}
    assert {outcome.payload["errorType"] for outcome in outcomes} == {error_type}
    assert message in outcomes[0].payload["errorMessage"]
    reports = [text for _, text in lines if "cannot load" in text]
    assert len(reports) == 1  # one report, no worker started again
    line = source.count("\n")
    assert f"broken.py, line {line}" in reports[0]
    assert elapsed < 0.5  # answered from the recorded init error, not by starting workers


def test_missing_handler_function_is_handler_not_found(code_dir):
    missing = FunctionSpec(**{**spec(code_dir, "echo").__dict__, "handler": "handlers.nowhere"})

    async def scenario():
        pool = pool_for(missing, [])
        outcome = await pool.invoke({})
        await pool.close()
        return outcome

    outcome = run(scenario())
    assert outcome.payload["errorType"] == "Runtime.HandlerNotFound"
    assert outcome.payload["errorMessage"] == "Handler 'nowhere' missing on module 'handlers'"


def test_closing_the_pool_stops_busy_workers_at_once(code_dir):
    async def scenario():
        pool = pool_for(spec(code_dir, "slow", timeout=30), [])
        running = asyncio.create_task(pool.invoke({"seconds": 20}))
        await asyncio.sleep(1)
        started = time.monotonic()
        await pool.close()
        outcome = await running
        return outcome, time.monotonic() - started

    outcome, elapsed = run(scenario())
    assert outcome.payload["errorType"] == "Runtime.ExitError"
    assert elapsed < 3


def test_async_invocations_beyond_the_queue_bound_are_refused(code_dir):
    async def scenario():
        service = LambdaService(Console(sys.stdout), max_workers_per_function=1, async_queue_size=3)
        function = spec(code_dir, "slow", timeout=5)
        service.add(function, environment_for(function))
        accepted = [service.invoke_async(function, {"seconds": 0.3}) for _ in range(5)]
        await asyncio.sleep(1.5)  # the three queued ones ran: room again
        again = service.invoke_async(function, {"seconds": 0})
        await service.close()
        return accepted, again

    accepted, again = run(scenario())
    assert accepted == [True, True, True, False, False]
    assert again is True


def test_a_handler_error_is_one_terminal_line_and_the_same_error_again_is_not_repeated(code_dir):
    lines = []

    async def scenario():
        pool = pool_for(spec(code_dir, "fail"), lines)
        for n in (7, 7, 7, 8):  # a task retried by its state machine, then another error
            await pool.invoke({"n": n})
        await pool.close()

    run(scenario())
    errors = [text for source, text in lines if source == "fail" and text.startswith("[ERROR]")]
    assert [text.split(" (at ")[0] for text in errors] == [
        "[ERROR] ValueError: bad input: 7",
        "[ERROR] ValueError: bad input: 8",
    ]
    raised_at = next(n for n, text in enumerate(HANDLERS.splitlines(), 1) if "raise ValueError" in text)
    assert errors[0].endswith(f"{code_dir / 'handlers.py'}:{raised_at})")  # the function's own code only
    assert not [text for _, text in lines if "Traceback" in text or "File " in text]
