"""Lambda, locally: the stack's functions, each a pool of warm workers, invoked by name or ARN."""

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

from local.awslambda.invocation import Invocation, Throttled
from local.awslambda.pool import FunctionPool
from local.console import Console
from local.template import FunctionSpec

# Lambda keeps each function's asynchronous (Event) invocations in a queue of its own before running
# them; locally the queue is bounded so that a flood of events cannot take the machine's memory.
DEFAULT_ASYNC_QUEUE_SIZE = 100
# After a reload, the previous code's workers get this long to finish the invocations they already
# have, then stop (one still running ends with Runtime.ExitError): longer than API Gateway's 29 s
# integration timeout, past which no route waits for an answer anyway.
RETIRE_GRACE_SECONDS = 30


class LambdaService:
    """The functions of one stack, invoked by name or ARN."""

    def __init__(
        self,
        console: Console,
        *,
        max_workers_per_function: int = 4,
        async_queue_size: int = DEFAULT_ASYNC_QUEUE_SIZE,
        source_dirs: tuple[Path, ...] = (),
    ):
        self._console = console
        self._max_workers = max_workers_per_function
        self._async_queue_size = async_queue_size
        self._source_dirs = source_dirs
        self._pools: dict[str, FunctionPool] = {}
        self._retiring: set[FunctionPool] = set()
        self._background: set[asyncio.Task] = set()
        self._queued_events: Counter[str] = Counter()  # function name -> Event invocations not yet done

    def add(self, spec: FunctionSpec, environment: dict[str, str]) -> None:
        self._pools[spec.name] = self._pool(spec, environment)

    def _pool(self, spec: FunctionSpec, environment: dict[str, str]) -> FunctionPool:
        return FunctionPool(
            spec, environment, self._console, max_workers=self._max_workers, source_dirs=self._source_dirs
        )

    async def prewarm(self) -> None:
        await asyncio.gather(*(pool.prewarm() for pool in self._pools.values()))

    async def replace(self, functions: list[tuple[FunctionSpec, dict[str, str]]]) -> None:
        """Serve new code (a reload): new pools are warmed first, then take every new invocation; the
        old ones finish what they are running and stop in the background."""
        pools = {spec.name: self._pool(spec, environment) for spec, environment in functions}
        try:
            await asyncio.gather(*(pool.prewarm() for pool in pools.values()))
        except BaseException:  # cancelled (Ctrl-C during a reload): the new workers stop too
            await asyncio.shield(asyncio.gather(*(pool.close() for pool in pools.values())))
            raise
        old, self._pools = self._pools, pools
        for pool in old.values():
            self._retiring.add(pool)
            self._spawn(self._retire(pool))

    async def _retire(self, pool: FunctionPool) -> None:
        await pool.retire(RETIRE_GRACE_SECONDS)
        self._retiring.discard(pool)

    async def invoke(self, spec: FunctionSpec, event: Any, *, queue_timeout: float | None = None) -> Invocation:
        return await self._pools[spec.name].invoke(event, queue_timeout=queue_timeout)

    def invoke_async(self, spec: FunctionSpec, event: Any) -> bool:
        """InvocationType Event: queue it, run it, report failures to the terminal, answer nobody.
        False when the function's queue is full (the caller is told to slow down)."""
        if self._queued_events[spec.name] >= self._async_queue_size:
            return False
        self._queued_events[spec.name] += 1
        self._spawn(self._run_event(spec, event))
        return True

    async def _run_event(self, spec: FunctionSpec, event: Any) -> None:
        try:
            outcome = await self.invoke(spec, event)
        except Throttled as error:
            self._console.line(spec.display_name, f"async invocation dropped: {error}")
            return
        finally:
            self._queued_events[spec.name] -= 1
        if outcome.function_error:
            self._console.line(spec.display_name, f"async invocation failed: {outcome.payload.get('errorMessage')}")

    def _spawn(self, coroutine) -> None:
        task = asyncio.create_task(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def close(self) -> None:
        """Stop at once: queued events are dropped, running invocations end with the workers."""
        for task in self._background:
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        await asyncio.gather(*(pool.close() for pool in [*self._pools.values(), *self._retiring]))
