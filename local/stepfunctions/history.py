"""Execution history as text: streamed to the terminal while the runtime serves, or printed by `executions`."""

import json
from datetime import datetime

from local.console import Console

_END_EVENTS = {
    "SUCCEEDED": "ExecutionSucceeded",
    "FAILED": "ExecutionFailed",
    "TIMED_OUT": "ExecutionTimedOut",
    "ABORTED": "ExecutionAborted",
}


class HistoryPrinter:
    """Prints each execution's history events when it ends, prefixed by its state machine.

    Every execution's end reaches the terminal: when the terminal falls behind (a burst), an
    execution gets its end line only, which names the command that shows the rest.
    """

    def __init__(self, names: dict[str, str], console: Console, *, summarise_beyond: int = 1000):
        self._names = names
        self._console = console
        self._summarise_beyond = summarise_beyond

    def print_execution(self, record: dict) -> None:
        source = self._names.get(record["state_machine"], "stepfunctions")
        # The whole name: a fan-out is named after its message, so grepping the terminal for a
        # message id finds its execution's lines beside the functions' (correlation_id).
        label = record["name"]
        lines = record["lines"]
        end = _END_EVENTS.get(record["status"], record["status"])
        if not lines or not lines[-1].startswith(end):
            lines = [*lines, end]  # moto records no event when an execution times out
        if len(lines) > 1 and self._console.backlog > self._summarise_beyond:
            hidden = len(lines) - 1
            note = f"({hidden} earlier events: python -m local executions {record['name']})"
            self._console.line(source, f"{label} {lines[-1]} {note}")
            return
        self._console.lines(source, [f"{label} {line}" for line in lines])


def describe_event(event: dict) -> str:
    """One line for a history event: type, state or error, and output when the execution ends."""
    text = event["type"]
    for key, value in event.items():
        if not key.endswith("EventDetails") or not isinstance(value, dict):
            continue
        if "name" in value:
            text += f" {value['name']}"
        if "error" in value:
            text += f" error={value['error']}"
        if event["type"] == "ExecutionSucceeded" and "output" in value:
            text += f" output={_shorten(value['output'])}"
    return text


def _shorten(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def format_time(value: datetime | None) -> str:
    return value.astimezone().strftime("%H:%M:%S.%f")[:-3] if value else "-"


def describe_history(events: list[dict]) -> list[str]:
    """The console's execution history as text lines: id, time, type, details."""
    lines = []
    for event in events:
        details = {key: value for key, value in event.items() if key.endswith("EventDetails")}
        detail_text = json.dumps(details, default=str) if details else ""
        lines.append(f"{event['id']:>4}  {format_time(event.get('timestamp'))}  {event['type']:<28} {detail_text}")
    return lines
