"""Fair turns at a function's workers: connections take turns, so one client's flood waits behind
its own frames, not in front of everyone else's.

Locally a function has a handful of warm workers where Lambda would scale out; frames waiting for a
worker are served round robin across connections instead of first come, first served.
"""

import asyncio
import contextlib
from collections import OrderedDict, deque
from collections.abc import AsyncIterator


class FairTurns:
    def __init__(self, slots: int):
        self._free = slots
        self._waiting: OrderedDict[str, deque[asyncio.Future]] = OrderedDict()

    @contextlib.asynccontextmanager
    async def turn(self, key: str) -> AsyncIterator[None]:
        """Wait for a turn of `key` (a connection id); at most `slots` turns run at once."""
        if self._free > 0 and not self._waiting:
            self._free -= 1
        else:
            granted = asyncio.get_running_loop().create_future()
            self._waiting.setdefault(key, deque()).append(granted)
            try:
                await granted
            except asyncio.CancelledError:
                if granted.done() and not granted.cancelled():
                    self._hand_on()  # the turn was given just as the waiter was cancelled: pass it on
                else:
                    self._forget(key, granted)
                raise
        try:
            yield
        finally:
            self._hand_on()

    def _hand_on(self) -> None:
        """A turn ended: give it to the next connection in line, or free the slot."""
        while self._waiting:
            key, line = next(iter(self._waiting.items()))
            granted = line.popleft()
            if line:
                self._waiting.move_to_end(key)  # its next frame waits for everyone else's turn
            else:
                del self._waiting[key]
            if not granted.cancelled():
                granted.set_result(None)
                return
        self._free += 1

    def _forget(self, key: str, granted: asyncio.Future) -> None:
        line = self._waiting.get(key)
        if line is not None and granted in line:
            line.remove(granted)
            if not line:
                del self._waiting[key]
