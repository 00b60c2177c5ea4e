"""One warm Lambda execution environment, seen from the runtime: a worker process running bootstrap.py."""

import asyncio
import contextlib
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local.awslambda.invocation import Invocation
from local.console import Console
from local.template import FunctionSpec

BOOTSTRAP_SCRIPT = Path(__file__).with_name("bootstrap.py")
INIT_TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class InitError:
    """A worker that could not load its handler: what Lambda answers its invocations with."""

    invocation: Invocation
    # The handler's own code failed to load (syntax error, import error, exception at import): it
    # fails the same way on every start until the code changes; a crash or timeout may not.
    in_code: bool = False
    location: tuple[str, int] | None = None  # file and line where it failed


class Worker:
    def __init__(self, spec: FunctionSpec, environment: dict[str, str], console: Console):
        self._spec = spec
        self._environment = environment
        self._console = console
        self._process: asyncio.subprocess.Process | None = None
        self._log_task: asyncio.Task | None = None

    @property
    def alive(self) -> bool:
        """Running and able to answer: a worker killed while idle has closed its end of the pipe even
        before the child watcher has reaped it."""
        return self._process is not None and self._process.returncode is None and not self._process.stdout.at_eof()

    @property
    def exit_status(self) -> int | None:
        return self._process.returncode if self._process else None

    async def start(self) -> InitError | None:
        """Start and import the handler; the init error if that fails."""
        try:
            return await self._start()
        except BaseException:  # cancelled (Ctrl-C during start-up): leave no process behind
            await asyncio.shield(self.stop())
            raise

    async def _start(self) -> InitError | None:
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
            # Out of the terminal's process group: Ctrl-C is the runtime's to handle (it stops its
            # workers), not a KeyboardInterrupt traceback from each. A worker whose runtime is gone
            # sees its stdin close and exits.
            start_new_session=True,
        )
        self._log_task = asyncio.create_task(self._forward_logs())
        try:
            line = await asyncio.wait_for(self._process.stdout.readline(), INIT_TIMEOUT_SECONDS)
        except TimeoutError:
            await self.stop()
            message = f"init did not finish within {INIT_TIMEOUT_SECONDS} s"
            return InitError(Invocation({"errorType": "Runtime.InitTimeout", "errorMessage": message}, "Unhandled"))
        if not line:
            await self._reap()
            return InitError(Invocation(self._exit_error("init"), "Unhandled"))
        hello = json.loads(line)
        if not hello["ready"]:
            await self._reap()
            location = tuple(hello["at"]) if hello.get("at") else None
            return InitError(Invocation(hello["error"], "Unhandled"), in_code=True, location=location)
        return None

    async def invoke(self, event: Any, request_id: str) -> Invocation:
        timeout = self._spec.timeout_seconds
        request = {"event": event, "request_id": request_id, "function_arn": self._spec.arn}
        request["deadline"] = time.time() + timeout
        self._process.stdin.write(json.dumps(request).encode("utf-8") + b"\n")
        try:
            await self._process.stdin.drain()
            line = await asyncio.wait_for(self._process.stdout.readline(), timeout)
        except asyncio.CancelledError:
            # The caller went away mid-request: this worker's answer would reach the next caller.
            self._process.kill()
            raise
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
        if self._process is not None and self._process.returncode is None:
            self._process.kill()
        if self._process is not None:
            await self._process.wait()
        if self._log_task is not None:
            await asyncio.gather(self._log_task, return_exceptions=True)
