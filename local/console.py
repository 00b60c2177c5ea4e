"""The terminal: every function's and state machine's lines, prefixed by its name.

Lines go through a bounded queue to a writer thread, so a slow or stalled terminal (or a pipe
nobody reads) can never block the gateway's event loop; when the queue is full, lines are dropped
and counted.
"""

import queue
import sys
import threading

_COLOURS = ("36", "35", "33", "32", "34", "31", "96", "95", "93", "92")
_MAX_PENDING_LINES = 10_000
_STOP = object()


class Console:
    def __init__(self, stream=None):
        self._stream = stream or sys.stdout
        self._colour_of: dict[str, str] = {}
        self._use_colour = hasattr(self._stream, "isatty") and self._stream.isatty()
        self._pending: queue.Queue = queue.Queue(maxsize=_MAX_PENDING_LINES)
        self._dropped = 0
        self._writer = threading.Thread(target=self._write_lines, name="console", daemon=True)
        self._writer.start()

    def line(self, source: str, text: str) -> None:
        prefix = f"[{source}]"
        if self._use_colour:
            colour = self._colour_of.setdefault(source, _COLOURS[len(self._colour_of) % len(_COLOURS)])
            prefix = f"\033[{colour}m{prefix}\033[0m"
        try:
            self._pending.put_nowait(f"{prefix} {text.rstrip()}\n")
        except queue.Full:
            self._dropped += 1

    @property
    def backlog(self) -> int:
        """Lines waiting for the terminal."""
        return self._pending.qsize()

    def info(self, text: str) -> None:
        self.line("local", text)

    def close(self, timeout: float = 5) -> None:
        """Write what is queued (for at most ``timeout`` seconds), then stop the writer."""
        try:
            self._pending.put(_STOP, timeout=timeout)
        except queue.Full:
            return
        self._writer.join(timeout)

    def _write_lines(self) -> None:
        while (item := self._pending.get()) is not _STOP:
            if self._dropped:
                dropped, self._dropped = self._dropped, 0
                self._stream.write(f"[local] {dropped} log lines dropped: the terminal did not keep up\n")
            self._stream.write(item)
            if self._pending.empty():
                self._stream.flush()
        self._stream.flush()
