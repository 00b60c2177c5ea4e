"""One warm Lambda execution environment, seen from the runtime: a worker process running bootstrap.py."""

import asyncio
import contextlib
import json
import sys
import time
from pathlib import Path
from typing import Any

from local.awslambda.invocation import Invocation
from local.console import Console
from local.template import FunctionSpec

BOOTSTRAP_SCRIPT = Path(__file__).with_name("bootstrap.py")
INIT_TIMEOUT_SECONDS = 30


class Worker:
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
            str(BOOTSTRAP_SCRIPT),
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
