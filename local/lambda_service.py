"""Lambda, locally: each function's real handler in warm worker processes, a bounded pool per function.

Workers are started ahead of the first call, reused while alive, replaced when they crash or time
out. When every worker of a function is busy and the pool is full, callers wait (back-pressure) up
to the function's timeout and are then throttled, as Lambda throttles beyond its concurrency.
"""

import asyncio
import contextlib
import json
import os
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local.console import Console
from local.template import FunctionSpec

WORKER_SCRIPT = Path(__file__).with_name("worker.py")
INIT_TIMEOUT_SECONDS = 30
_PASSED_THROUGH = ("PATH", "LANG", "LC_ALL", "TZ", "SYSTEMROOT")


@dataclass(frozen=True)
class Invocation:
    """What Lambda's Invoke API answers: a JSON payload, and FunctionError when the function failed."""

    payload: Any
    function_error: str | None = None

    @property
    def payload_bytes(self) -> bytes:
        return json.dumps(self.payload).encode("utf-8")


class Throttled(Exception):
    """No worker of the function became free in time (Lambda's TooManyRequestsException)."""


class _Worker:
    def __init__(self, spec: FunctionSpec, environment: dict[str, str], console: Console):
        self._spec = spec
        self._environment = environment
        self._console = console
        self._process: asyncio.subprocess.Process | None = None
        self._log_task: asyncio.Task | None = None

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.returncode is None

    async def start(self) -> Invocation | None:
        """Start and import the handler; an Invocation carrying the init error if that fails."""
        self._process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(WORKER_SCRIPT),
            self._spec.handler,
            cwd=str(self._spec.code_dir),
            env=self._environment,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            limit=16 * 1024 * 1024,
        )
        self._log_task = asyncio.create_task(self._forward_logs())
        try:
            line = await asyncio.wait_for(self._process.stdout.readline(), INIT_TIMEOUT_SECONDS)
        except TimeoutError:
            await self.stop()
            return Invocation({"errorType": "Runtime.InitTimeout", "errorMessage": "init timed out"}, "Unhandled")
        if not line:
            await self._reap()
            return Invocation(self._exit_error("init"), "Unhandled")
        hello = json.loads(line)
        if not hello["ready"]:
            await self._reap()
            return Invocation(hello["error"], "Unhandled")
        return None

    async def invoke(self, event: Any, request_id: str) -> Invocation:
        timeout = self._spec.timeout_seconds
        request = {"event": event, "request_id": request_id, "function_arn": self._spec.arn}
        request["deadline"] = time.time() + timeout
        self._process.stdin.write(json.dumps(request).encode("utf-8") + b"\n")
        try:
            await self._process.stdin.drain()
            line = await asyncio.wait_for(self._process.stdout.readline(), timeout)
        except TimeoutError:
            await self.stop()
            message = f"{request_id} Task timed out after {timeout:.2f} seconds"
            return Invocation({"errorType": "Sandbox.Timedout", "errorMessage": message}, "Unhandled")
        except ConnectionError:
            line = b""
        if not line:
            await self._reap()
            return Invocation(self._exit_error(request_id), "Unhandled")
        answer = json.loads(line)
        if answer["ok"]:
            return Invocation(answer["result"])
        return Invocation({**answer["error"], "requestId": request_id}, "Unhandled")

    def _exit_error(self, request_id: str) -> dict[str, str]:
        status = self._process.returncode if self._process else None
        return {
            "errorType": "Runtime.ExitError",
            "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: exit status {status}",
        }

    async def _forward_logs(self) -> None:
        async for line in self._process.stderr:
            self._console.line(self._spec.display_name, line.decode("utf-8", "replace"))

    async def _reap(self) -> None:
        """Wait for a worker that is exiting by itself. Killing it instead could race the child
        watcher (Popen.send_signal reaps a zombie first) and lose its exit status."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._process.wait(), INIT_TIMEOUT_SECONDS)
        await self.stop()

    async def stop(self) -> None:
        if self.alive:
            self._process.kill()
        if self._process is not None:
            await self._process.wait()
        if self._log_task is not None:
            await asyncio.gather(self._log_task, return_exceptions=True)


class FunctionPool:
    def __init__(self, spec: FunctionSpec, environment: dict[str, str], console: Console, *, max_workers: int):
        self.spec = spec
        self._environment = environment
        self._console = console
        self._max_workers = max_workers
        self._idle: asyncio.Queue[_Worker] = asyncio.Queue()
        self._started = 0
        self._warming: set[asyncio.Task] = set()

    async def prewarm(self, count: int = 1) -> None:
        while self._started < min(count, self._max_workers):
            self._started += 1
            worker = _Worker(self.spec, self._environment, self._console)
            if await worker.start() is None:
                self._idle.put_nowait(worker)
            else:
                self._started -= 1

    async def invoke(self, event: Any, *, queue_timeout: float | None = None) -> Invocation:
        """Run one invocation; wait up to ``queue_timeout`` (default: the function's timeout) for a
        free worker when all are busy, then raise Throttled."""
        request_id = str(uuid.uuid4())
        worker, init_error = await self._acquire(queue_timeout or self.spec.timeout_seconds)
        if init_error is not None:
            return init_error
        try:
            return await worker.invoke(event, request_id)
        finally:
            self._release(worker)

    async def _acquire(self, queue_timeout: float) -> tuple[_Worker | None, Invocation | None]:
        if not self._idle.empty():
            worker = self._idle.get_nowait()
            if self._idle.empty() and self._started < self._max_workers:
                self._warm_ahead()
            return worker, None
        if self._started < self._max_workers:
            self._started += 1
            worker = _Worker(self.spec, self._environment, self._console)
            init_error = await worker.start()
            if init_error is not None:
                self._started -= 1
            return worker, init_error
        try:
            return await asyncio.wait_for(self._idle.get(), queue_timeout), None
        except TimeoutError:
            raise Throttled(f"all {self._max_workers} workers of {self.spec.name} stayed busy") from None

    def _warm_ahead(self) -> None:
        """The last idle worker was just taken: start the next one now, not on the next call."""
        task = asyncio.create_task(self.prewarm(self._started + 1))
        self._warming.add(task)
        task.add_done_callback(self._warming.discard)

    def _release(self, worker: _Worker) -> None:
        if worker.alive:
            self._idle.put_nowait(worker)
        else:
            self._started -= 1
            self._warm_ahead()  # replace a crashed or timed-out worker; a waiting caller gets it

    async def close(self) -> None:
        await asyncio.gather(*self._warming, return_exceptions=True)
        workers = []
        while not self._idle.empty():
            workers.append(self._idle.get_nowait())
        await asyncio.gather(*(worker.stop() for worker in workers))


class LambdaService:
    """The functions of one stack, invoked by name or ARN."""

    def __init__(self, console: Console, *, max_workers_per_function: int = 4):
        self._console = console
        self._max_workers = max_workers_per_function
        self._pools: dict[str, FunctionPool] = {}
        self._background: set[asyncio.Task] = set()

    def add(self, spec: FunctionSpec, environment: dict[str, str]) -> None:
        self._pools[spec.name] = FunctionPool(spec, environment, self._console, max_workers=self._max_workers)

    async def prewarm(self) -> None:
        await asyncio.gather(*(pool.prewarm() for pool in self._pools.values()))

    async def invoke(self, spec: FunctionSpec, event: Any, *, queue_timeout: float | None = None) -> Invocation:
        return await self._pools[spec.name].invoke(event, queue_timeout=queue_timeout)

    def invoke_async(self, spec: FunctionSpec, event: Any) -> None:
        """InvocationType Event: run it, report failures to the terminal, answer nobody."""
        task = asyncio.create_task(self._run_event(spec, event))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _run_event(self, spec: FunctionSpec, event: Any) -> None:
        try:
            outcome = await self.invoke(spec, event)
        except Throttled as error:
            self._console.line(spec.display_name, f"async invocation dropped: {error}")
            return
        if outcome.function_error:
            self._console.line(spec.display_name, f"async invocation failed: {outcome.payload.get('errorMessage')}")

    async def close(self) -> None:
        await asyncio.gather(*self._background, return_exceptions=True)
        await asyncio.gather(*(pool.close() for pool in self._pools.values()))


def worker_environment(
    spec: FunctionSpec, *, region: str, aws_endpoint_url: str, rewrite: dict[str, str]
) -> dict[str, str]:
    """The function's environment from the template, plus what Lambda sets and the local endpoints.

    ``rewrite`` maps AWS origins (the stack's execute-api URL) to the local ones serving them.
    """
    environment = {name: os.environ[name] for name in _PASSED_THROUGH if name in os.environ}
    environment.update(
        {
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_ENDPOINT_URL": aws_endpoint_url,
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
            "LAMBDA_TASK_ROOT": str(spec.code_dir),
            "_HANDLER": spec.handler,
            # No X-Ray daemon on a laptop: tracing stays off locally, on in AWS.
            "POWERTOOLS_TRACE_DISABLED": "true",
            "PYTHONUNBUFFERED": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    for name, value in spec.environment.items():
        for aws_origin, local_origin in rewrite.items():
            value = value.replace(aws_origin, local_origin)
        environment[name] = value
    return environment
