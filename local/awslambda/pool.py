"""One function's bounded pool of warm workers.

Workers are started ahead of the first call, reused while alive, replaced when they crash or time
out. When every worker of a function is busy and the pool is full, callers wait (back-pressure) up
to the function's timeout and are then throttled, as Lambda throttles beyond its concurrency.
"""

import asyncio
import uuid
from typing import Any

from local.awslambda.invocation import Invocation, Throttled
from local.awslambda.worker import Worker
from local.console import Console
from local.template import FunctionSpec


class FunctionPool:
    def __init__(self, spec: FunctionSpec, environment: dict[str, str], console: Console, *, max_workers: int):
        self.spec = spec
        self._environment = environment
        self._console = console
        self._max_workers = max_workers
        self._idle: asyncio.Queue[Worker] = asyncio.Queue()
        self._started = 0
        self._warming: set[asyncio.Task] = set()

    async def prewarm(self, count: int = 1) -> None:
        while self._started < min(count, self._max_workers):
            self._started += 1
            worker = Worker(self.spec, self._environment, self._console)
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

    async def _acquire(self, queue_timeout: float) -> tuple[Worker | None, Invocation | None]:
        if not self._idle.empty():
            worker = self._idle.get_nowait()
            if self._idle.empty() and self._started < self._max_workers:
                self._warm_ahead()
            return worker, None
        if self._started < self._max_workers:
            self._started += 1
            worker = Worker(self.spec, self._environment, self._console)
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

    def _release(self, worker: Worker) -> None:
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
