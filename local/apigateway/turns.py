"""Fair turns at a function's workers: connections take turns, so one client's flood waits behind
its own frames, not in front of everyone else's.

Locally a function has a handful of warm workers where Lambda would scale out; frames waiting for a
worker are served round robin across connections instead of first come, first served.
"""

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator


class FairTurns:
    def __init__(self, slots: int):
        self._free = slots
        self._waiting: dict[str, deque[asyncio.Future]] = {}  # in order of arrival
        self._turns_given = 0
        self._last_turn: dict[str, int] = {}  # key -> when it last got a turn, while it has frames waiting

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
        """A turn ended: give it to the waiting connection whose last turn is longest ago (one that
        has not had one yet first, in order of arrival), or free the slot."""
        while self._waiting:
            key = min(self._waiting, key=lambda waiting: self._last_turn.get(waiting, -1))
            line = self._waiting[key]
            granted = line.popleft()
            if not line:
                del self._waiting[key]
                self._last_turn.pop(key, None)
            if not granted.cancelled():
                self._turns_given += 1
                if key in self._waiting:
                    self._last_turn[key] = self._turns_given
                granted.set_result(None)
                return
        self._free += 1

    def _forget(self, key: str, granted: asyncio.Future) -> None:
        line = self._waiting.get(key)
        if line is not None and granted in line:
            line.remove(granted)
            if not line:
                del self._waiting[key]
                self._last_turn.pop(key, None)
