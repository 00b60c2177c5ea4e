"""Lambda, locally: the stack's functions, each a pool of warm workers, invoked by name or ARN."""

import asyncio
from typing import Any

from local.awslambda.invocation import Invocation, Throttled
from local.awslambda.pool import FunctionPool
from local.console import Console
from local.template import FunctionSpec


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
