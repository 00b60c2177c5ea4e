"""One function's bounded pool of warm workers.

Workers are started ahead of the first call, reused while alive, replaced when they crash or time
out; a worker found dead when it is handed out (killed while idle) is replaced first, so the
invocation goes to a live one. When every worker of a function is busy and the pool is full,
callers wait (back-pressure) up to the function's timeout and are then throttled, as Lambda
throttles beyond its concurrency.

A handler whose code fails to load is reported once; its invocations then get that init error, as
Lambda answers them, without starting a worker again: the code cannot change until the runtime
reloads it, which builds a new pool.
"""

import asyncio
import uuid
from pathlib import Path
from typing import Any

from local.awslambda.errors import ErrorLines
from local.awslambda.invocation import Invocation, Throttled
from local.awslambda.worker import InitError, Worker
from local.console import Console
from local.template import FunctionSpec


class FunctionPool:
    def __init__(
        self,
        spec: FunctionSpec,
        environment: dict[str, str],
        console: Console,
        *,
        max_workers: int,
        source_dirs: tuple[Path, ...] = (),
    ):
        self.spec = spec
        self._environment = environment
        self._console = console
        self._max_workers = max_workers
        self._source_dirs = source_dirs
        self._idle: asyncio.Queue[Worker] = asyncio.Queue()
        self._workers: set[Worker] = set()
        self._warming: set[asyncio.Task] = set()
        self._reaping: set[asyncio.Task] = set()
        self._init_error: InitError | None = None
        self._error_lines = ErrorLines(self._project_path)
        self._in_flight = 0
        self._closed = False

    @property
    def _started(self) -> int:
        return len(self._workers)

    async def prewarm(self, count: int = 1) -> None:
        """Start workers until ``count`` exist; stops at the first that fails to start."""
        while self._started < min(count, self._max_workers) and self._init_error is None and not self._closed:
            worker, init_error = await self._start_worker()
            if init_error is not None:
                return
            self._idle.put_nowait(worker)

    async def invoke(self, event: Any, *, queue_timeout: float | None = None) -> Invocation:
        """Run one invocation; wait up to ``queue_timeout`` (default: the function's timeout) for a
        free worker when all are busy, then raise Throttled."""
        request_id = str(uuid.uuid4())
        self._in_flight += 1
        try:
            worker, init_error = await self._acquire(queue_timeout or self.spec.timeout_seconds)
            if init_error is not None:
                return init_error.invocation
            try:
                outcome = await worker.invoke(event, request_id)
            finally:
                self._release(worker)
        finally:
            self._in_flight -= 1
        self._print_handler_error(outcome)
        return outcome

    def _print_handler_error(self, outcome: Invocation) -> None:
        """An error the handler raised (its payload has a stack trace) gets a line in the terminal."""
        if not outcome.function_error or not isinstance(outcome.payload, dict) or "stackTrace" not in outcome.payload:
            return
        line = self._error_lines.line(outcome.payload)
        if line is not None:
            self._console.line(self.spec.display_name, line)

    async def _acquire(self, queue_timeout: float) -> tuple[Worker | None, InitError | None]:
        deadline = asyncio.get_running_loop().time() + queue_timeout
        while True:
            if self._closed:
                raise Throttled(f"{self.spec.name} is shutting down")
            if self._init_error is not None:
                return None, self._init_error
            if not self._idle.empty():
                worker = self._idle.get_nowait()
                if not self._check_alive(worker):
                    continue
                if self._idle.empty() and self._started < self._max_workers:
                    self._warm_ahead()
                return worker, None
            if self._started < self._max_workers:
                return await self._start_worker()
            remaining = deadline - asyncio.get_running_loop().time()
            try:
                worker = await asyncio.wait_for(self._idle.get(), max(remaining, 0))
            except TimeoutError:
                raise Throttled(f"all {self._max_workers} workers of {self.spec.name} stayed busy") from None
            if self._check_alive(worker):
                return worker, None

    def _check_alive(self, worker: Worker) -> bool:
        """A worker that died while idle is dropped, said once, and its place freed for a new one."""
        if worker.alive:
            return True
        self._workers.discard(worker)
        status = "" if worker.exit_status is None else f" (exit status {worker.exit_status})"
        self._console.line(self.spec.display_name, f"a worker exited while idle{status}; replacing it")
        self._reaping.add(task := asyncio.ensure_future(worker.stop()))
        task.add_done_callback(self._reaping.discard)
        return False

    async def _start_worker(self) -> tuple[Worker | None, InitError | None]:
        worker = Worker(self.spec, self._environment, self._console)
        self._workers.add(worker)
        init_error = await worker.start()
        if init_error is None:
            return worker, None
        self._workers.discard(worker)
        if init_error.in_code and self._init_error is None:
            self._init_error = init_error
            self._console.line(self.spec.display_name, self._describe(init_error))
        return None, init_error

    def _describe(self, init_error: InitError) -> str:
        payload = init_error.invocation.payload
        where = ""
        if init_error.location is not None:
            path, line = init_error.location
            where = f" at {self._source_path(Path(path))}, line {line}"
        return (
            f"error: {self.spec.display_name} ({self.spec.handler}) cannot load{where}: "
            f"{payload['errorType']}: {payload['errorMessage']}; its invocations get this error until the code changes"
        )

    def _source_path(self, asset_file: Path) -> str:
        """The project file an asset file was copied from (lambdas/x.py for cdk.out/asset.<hash>/x.py)."""
        return self._project_path(str(asset_file)) or str(asset_file)

    def _project_path(self, file: str) -> str | None:
        """lambdas/x.py for the function's x.py (its asset's name for a file no source has); None for a file
        outside the function's code (a library's, the runtime's)."""
        try:
            relative = Path(file).relative_to(self.spec.code_dir)
        except ValueError:
            return None
        for source_dir in self._source_dirs:
            if (source_dir / relative).is_file():
                return str(Path(source_dir.name) / relative)
        return file

    def _warm_ahead(self) -> None:
        """The last idle worker was just taken: start the next one now, not on the next call."""
        if self._closed:
            return
        task = asyncio.create_task(self.prewarm(self._started + 1))
        self._warming.add(task)
        task.add_done_callback(self._warming.discard)

    def _release(self, worker: Worker) -> None:
        if self._closed:
            return
        if worker.alive:
            self._idle.put_nowait(worker)
        else:
            self._workers.discard(worker)
            self._warm_ahead()  # replace a crashed or timed-out worker; a waiting caller gets it

    async def retire(self, grace_seconds: float) -> None:
        """After a reload: the invocations already here finish (up to ``grace_seconds``), then the workers stop."""
        deadline = asyncio.get_running_loop().time() + grace_seconds
        while self._in_flight and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.1)
        await self.close()

    async def close(self) -> None:
        """Stop every worker, busy ones too: an invocation still running ends with Runtime.ExitError."""
        self._closed = True
        for task in self._warming:
            task.cancel()
        await asyncio.gather(*self._warming, return_exceptions=True)
        await asyncio.gather(*(worker.stop() for worker in list(self._workers)), *self._reaping)
        self._workers.clear()
