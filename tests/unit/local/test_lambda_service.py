"""Functions run in warm worker processes: errors come back as FunctionError, dead workers are replaced."""

import asyncio
import sys
import textwrap
from pathlib import Path

import pytest

from local.awslambda.environment import worker_environment
from local.awslambda.invocation import Throttled
from local.awslambda.pool import FunctionPool
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

    environment = worker_environment(
        function,
        region="us-east-1",
        aws_endpoint_url="http://127.0.0.1:1",
        rewrite={"https://abc.execute-api.us-east-1.amazonaws.com": "http://127.0.0.1:3001"},
    )
    return FunctionPool(function, environment, Recorder(sys.stdout), max_workers=max_workers)


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
