"""Threads that run one job after another, for the interpreter's executions and Map iterations."""

import queue
import threading
import traceback
from collections.abc import Callable


class ReusedThreads:
    """Runs each job on an idle thread, or on a new one when none is idle; a thread idle for
    ``idle_seconds`` ends. Never bounded: a Map iteration may wait for others, so a job must never
    queue behind another."""

    def __init__(self, idle_seconds: float = 60):
        self._idle_seconds = idle_seconds
        self._idle: list[queue.SimpleQueue] = []  # one inbox per idle thread; the newest is reused first
        self._lock = threading.Lock()

    def run(self, job: Callable[[], object]) -> None:
        with self._lock:
            inbox = self._idle.pop() if self._idle else None
        if inbox is None:
            inbox = queue.SimpleQueue()
            threading.Thread(target=self._serve, args=(inbox,), name="interpreter", daemon=True).start()
        inbox.put(job)

    def _serve(self, inbox: queue.SimpleQueue) -> None:
        while True:
            try:
                job = inbox.get(timeout=self._idle_seconds)
            except queue.Empty:
                with self._lock:
                    if inbox in self._idle:
                        self._idle.remove(inbox)
                        return
                continue  # a job was handed over just as this thread timed out
            try:
                job()
            except Exception:
                traceback.print_exc()  # what an uncaught exception in a thread of its own prints
            del job
            with self._lock:
                self._idle.append(inbox)
