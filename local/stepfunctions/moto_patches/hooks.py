"""What the runtime needs of moto's interpreter besides running state machines, tuned or not: to hear
when each execution starts and ends (local.stepfunctions.feed) and read its history then, and to keep only
the most recent ended executions of each state machine (moto keeps every one, with its whole history, for as
long as it runs)."""

import functools
import operator
import threading
from collections.abc import Callable
from typing import Any

from local.stepfunctions.moto_patches.guard import Patch, Target

_EXECUTION = "moto.stepfunctions.parser.backend.execution"
_STOP_DATE = operator.attrgetter("stop_date")
_EXECUTION_START = Target(_EXECUTION, "Execution.start", signature="(self)")
_TERMINATED = Target(_EXECUTION, "BaseExecutionWorkerCommunication.terminated", signature="(self)")
_EVENT_HISTORY = Target(
    "moto.stepfunctions.parser.asl.eval.event.event_manager",
    "EventManager.get_event_history",
    signature="(self)",
    expect=(
        "a copy of _history_event_list taken under _mutex",
        lambda method: {"_history_event_list", "_mutex"} <= set(method.__code__.co_names),
    ),
)
_HISTORY_OUTPUT = Target(
    _EXECUTION,
    "Execution.to_history_output",
    signature="(self)",
    expect=(
        "the events of exec_worker.env's event_manager",
        lambda method: {"exec_worker", "env", "event_manager"} <= set(method.__code__.co_names),
    ),
)
_START_EXECUTION = Target(
    "moto.stepfunctions.parser.models",
    "StepFunctionsParserBackend.start_execution",
    signature="(self, state_machine_arn, name=None, execution_input=None, trace_header=None)",
)


def patches(*, started: Callable[[Any], None], ended: Callable[[Any], None], keep_executions: int) -> list[Patch]:
    """``started(execution)`` and ``ended(execution)`` are called as each execution starts and ends;
    ``keep_executions`` ended executions of each state machine are kept (running ones always are)."""
    return [
        Patch(
            "the runtime hears of each execution's start and end, and only recent ended executions are kept",
            replaces=(_EXECUTION_START, _TERMINATED, _START_EXECUTION),
            reads=(_EVENT_HISTORY, _HISTORY_OUTPUT),
            install=functools.partial(_observe_executions, started, ended, keep_executions),
        )
    ]


def _observe_executions(started: Callable, ended: Callable, keep_executions: int) -> None:
    original_start, original_terminated = _EXECUTION_START.get(), _TERMINATED.get()
    original_start_execution = _START_EXECUTION.get()
    executions_lock = threading.Lock()  # start_execution appends to the lists terminated trims

    @functools.wraps(original_start_execution)
    def start_execution(self, *args, **kwargs):
        with executions_lock:
            return original_start_execution(self, *args, **kwargs)

    @functools.wraps(original_start)
    def start(self) -> None:
        started(self)
        original_start(self)

    @functools.wraps(original_terminated)
    def terminated(self) -> None:
        original_terminated(self)
        execution = self.execution
        state_machine = execution.state_machine.backend.describe_state_machine(execution.state_machine_arn)
        with executions_lock:
            state_machine.executions[:] = without_oldest_ended(state_machine.executions, keep_executions)
        ended(execution)

    _START_EXECUTION.replace(start_execution)
    _EXECUTION_START.replace(start)
    _TERMINATED.replace(terminated)


def history_of_ended(execution) -> list[dict]:
    """An ended execution's history events as GetExecutionHistory lists them, not copied: nothing adds to them
    any more, and the reader only reads. (moto copies the whole list for every reader: for the feed, that copy
    took a tenth of the Step Functions process's CPU in 1 -> 50 fan-outs.)"""
    env = execution.exec_worker.env
    if env is None:  # it never started
        return []
    manager = env.event_manager
    with manager._mutex:
        return list(manager._history_event_list)


def without_oldest_ended(executions: list, limit: int) -> list:
    """``executions`` (oldest first) without the oldest ended ones beyond ``limit`` ended ones.

    Called as each execution ends, on lists of about ``limit``: the ended ones are counted by C loops,
    and only the list's head, up to the last one dropped (usually the first), is walked in Python."""
    if len(executions) <= limit:
        return executions
    stop_dates = list(map(_STOP_DATE, executions))
    excess = len(stop_dates) - stop_dates.count(None) - limit
    if excess <= 0:
        return executions
    dropped = []
    for index, stop_date in enumerate(stop_dates):
        if stop_date is not None:
            dropped.append(index)
            if len(dropped) == excess:
                break
    end, dropped = dropped[-1] + 1, set(dropped)
    return [execution for index, execution in enumerate(executions[:end]) if index not in dropped] + executions[end:]
