"""The terminal: every function's and state machine's lines, prefixed by its name.

Lines go through a bounded queue to a writer thread, so a slow or stalled terminal (or a pipe
nobody reads) can never block the gateway's event loop; when the queue is full, lines are dropped
and counted. Lines that go together (an execution's history) go as one block: one hand-over to the
writer, not one per line (under a burst, handing lines over one by one took a sixth of the gateway's CPU).
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
        self._pending: queue.SimpleQueue = queue.SimpleQueue()  # blocks of lines
        self._pending_lines = 0
        self._counting = threading.Lock()
        self._dropped = 0
        self._writer = threading.Thread(target=self._write_lines, name="console", daemon=True)
        self._writer.start()

    def line(self, source: str, text: str) -> None:
        self.lines(source, [text])

    def lines(self, source: str, texts: list[str]) -> None:
        """Each text a line prefixed by ``source``, written together."""
        prefix = f"[{source}]"
        if self._use_colour:
            colour = self._colour_of.setdefault(source, _COLOURS[len(self._colour_of) % len(_COLOURS)])
            prefix = f"\033[{colour}m{prefix}\033[0m"
        with self._counting:
            if self._pending_lines + len(texts) > _MAX_PENDING_LINES:
                self._dropped += len(texts)
                return
            self._pending_lines += len(texts)
        self._pending.put(("".join(f"{prefix} {text.rstrip()}\n" for text in texts), len(texts)))

    @property
    def backlog(self) -> int:
        """Lines waiting for the terminal."""
        return self._pending_lines

    def info(self, text: str) -> None:
        self.line("local", text)

    def close(self, timeout: float = 5) -> None:
        """Write what is queued (for at most ``timeout`` seconds), then stop the writer."""
        self._pending.put(_STOP)
        self._writer.join(timeout)

    def _write_lines(self) -> None:
        while (item := self._pending.get()) is not _STOP:
            block, count = item
            with self._counting:
                self._pending_lines -= count
                dropped, self._dropped = self._dropped, 0
            if dropped:
                self._stream.write(f"[local] {dropped} log lines dropped: the terminal did not keep up\n")
            self._stream.write(block)
            if self._pending.empty():
                self._stream.flush()
        self._stream.flush()
