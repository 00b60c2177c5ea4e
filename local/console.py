"""The terminal: every function's and state machine's lines, prefixed by its name."""

import sys
import threading

_COLOURS = ("36", "35", "33", "32", "34", "31", "96", "95", "93", "92")


class Console:
    def __init__(self, stream=None):
        self._stream = stream or sys.stdout
        self._lock = threading.Lock()
        self._colour_of: dict[str, str] = {}
        self._use_colour = hasattr(self._stream, "isatty") and self._stream.isatty()

    def line(self, source: str, text: str) -> None:
        prefix = f"[{source}]"
        if self._use_colour:
            colour = self._colour_of.setdefault(source, _COLOURS[len(self._colour_of) % len(_COLOURS)])
            prefix = f"\033[{colour}m{prefix}\033[0m"
        with self._lock:
            self._stream.write(f"{prefix} {text.rstrip()}\n")
            self._stream.flush()

    def info(self, text: str) -> None:
        self.line("local", text)
