"""Execution history as text: streamed to the terminal while the runtime serves, or printed by `executions`."""

import json
import threading
from datetime import datetime

from local.console import Console

_EXECUTION_ENDED = {"ExecutionSucceeded", "ExecutionFailed", "ExecutionTimedOut", "ExecutionAborted"}


class HistoryPrinter(threading.Thread):
    """Streams each execution's history events to the terminal, prefixed by the state machine."""

    def __init__(self, client, names: dict[str, str], console: Console, interval: float = 0.2):
        super().__init__(name="execution-history", daemon=True)
        self._client = client
        self._names = names
        self._console = console
        self._interval = interval
        self._printed: dict[str, int] = {}
        self._unfinished: dict[str, dict[str, str]] = {}  # per state machine: execution ARN -> name
        self._finished: set[str] = set()
        self._stopping = threading.Event()

    def stop(self) -> None:
        self._stopping.set()
        self.join(timeout=5)

    def run(self) -> None:
        while not self._stopping.wait(self._interval):
            for arn, name in self._names.items():
                try:
                    self._print_new_events(arn, name)
                except Exception as error:  # the printer must never stop the runtime
                    self._console.line(name, f"(history unavailable: {error})")

    def _print_new_events(self, state_machine_arn: str, name: str) -> None:
        # The newest page finds new executions; unfinished ones are followed until they end, even
        # when a burst pushes them off that page.
        unfinished = self._unfinished.setdefault(state_machine_arn, {})
        newest = self._client.list_executions(stateMachineArn=state_machine_arn, maxResults=100)["executions"]
        for execution in reversed(newest):
            if execution["executionArn"] not in self._finished:
                unfinished.setdefault(execution["executionArn"], execution["name"])
        for arn, execution_name in list(unfinished.items()):
            events = self._client.get_execution_history(executionArn=arn, maxResults=1000)["events"]
            for event in events[self._printed.get(arn, 0) :]:
                # The whole name: a fan-out is named after its message, so grepping the terminal for a
                # message id finds its execution's lines beside the functions' (correlation_id).
                self._console.line(name, f"{execution_name} {describe_event(event)}")
            self._printed[arn] = len(events)
            if events and events[-1]["type"] in _EXECUTION_ENDED:
                self._finished.add(arn)
                self._printed.pop(arn, None)
                del unfinished[arn]


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
