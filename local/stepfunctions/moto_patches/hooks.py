"""What the runtime needs of moto's interpreter besides running state machines, tuned or not: to hear
when each execution starts and ends (local.stepfunctions.feed) and read its history then, and to keep only
the most recent ended executions of each state machine (moto keeps every one, with its whole history, for as
long as it runs).

Tuned (``compact_ended``), an ended execution is also kept compact: moto keeps its whole evaluation
environment (every state's input and output copies, the context object, frames, the history's event
objects), about 65 KB an execution measured with tracemalloc after a burst, for nothing but the history
GetExecutionHistory reads from it. Once the feed has read the history, the execution's worker is replaced by
``EndedWorker``: the history pickled and compressed, read back as moto's own copy of it would be (equal
events, each reader its own), and the environment's callback and Map run pools, which moto's task-token and
Map run APIs look through on every execution, ended ones included. DescribeExecution and ListExecutions read
the execution itself, which is untouched.
"""

import functools
import operator
import pickle
import threading
import zlib
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
# What moto reads of an execution's worker once it has ended: EndedWorker answers each of these.
_WORKER_ENV_POOLS = "exec_worker.env's callback_pool_manager or map_run_record_pool_manager, nothing else of it"


def _reads_only_the_pools(method) -> bool:
    names = set(method.__code__.co_names)
    return {"exec_worker", "env"} <= names and not names & {"event_manager", "states", "program_state", "stop"}


_POOL_READERS = tuple(
    Target(
        "moto.stepfunctions.parser.models",
        f"StepFunctionsParserBackend.{method}",
        expect=(_WORKER_ENV_POOLS, _reads_only_the_pools),
    )
    for method in (
        "send_task_heartbeat",
        "send_task_success",
        "send_task_failure",
        "describe_map_run",
        "list_map_runs",
        "update_map_run",
    )
)
_EXECUTION_STOP = Target(
    _EXECUTION,
    "Execution.stop",
    signature="(self, stop_date, error, cause)",
    expect=("exec_worker.stop", lambda method: {"exec_worker", "stop"} <= set(method.__code__.co_names)),
)
_WORKER_STOP = Target(
    "moto.stepfunctions.parser.backend.execution_worker",
    "ExecutionWorker.stop",
    signature="(self, stop_date, error, cause)",
    expect=("env.set_stop", lambda method: {"env", "set_stop"} <= set(method.__code__.co_names)),
)
_SET_STOP = Target(
    "moto.stepfunctions.parser.asl.eval.environment",
    "Environment.set_stop",
    signature="(self, stop_date, cause, error)",
    expect=(
        "a stop of a running program only",
        lambda method: {"_program_state", "ProgramRunning"} <= set(method.__code__.co_names),
    ),
)


def patches(
    *,
    started: Callable[[Any], None],
    ended: Callable[[Any], None],
    keep_executions: int,
    compact_ended: bool = False,
) -> list[Patch]:
    """``started(execution)`` and ``ended(execution)`` are called as each execution starts and ends;
    ``keep_executions`` ended executions of each state machine are kept (running ones always are), each in
    the compact form of EndedWorker with ``compact_ended``."""
    compact_reads = (*_POOL_READERS, _EXECUTION_STOP, _WORKER_STOP, _SET_STOP) if compact_ended else ()
    return [
        Patch(
            "the runtime hears of each execution's start and end, and only recent ended executions are kept"
            + (", compact" if compact_ended else ""),
            replaces=(_EXECUTION_START, _TERMINATED, _START_EXECUTION),
            reads=(_EVENT_HISTORY, _HISTORY_OUTPUT, *compact_reads),
            install=functools.partial(_observe_executions, started, ended, keep_executions, compact_ended),
        )
    ]


def _observe_executions(started: Callable, ended: Callable, keep_executions: int, compact_ended: bool) -> None:
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
        if compact_ended:
            compact(execution)

    _START_EXECUTION.replace(start_execution)
    _EXECUTION_START.replace(start)
    _TERMINATED.replace(terminated)


def history_of_ended(execution) -> list[dict]:
    """An ended execution's history events as GetExecutionHistory lists them, not copied: nothing adds to them
    any more, and the reader only reads. (moto copies the whole list for every reader: for the feed, that copy
    took a tenth of the Step Functions process's CPU in 1 -> 50 fan-outs.)"""
    env = execution.exec_worker.env
    return [] if env is None else _events_of(env)  # None: it never started


def _events_of(env) -> list[dict]:
    manager = env.event_manager
    with manager._mutex:
        return list(manager._history_event_list)


class _EndedHistory:
    """An ended execution's event manager, as far as GetExecutionHistory reads it: its events, pickled and
    compressed."""

    def __init__(self, events: list[dict]):
        self._events = zlib.compress(pickle.dumps(events, protocol=pickle.HIGHEST_PROTOCOL), 1)

    def get_event_history(self) -> list[dict]:
        """A new copy for each reader, equal to the events, as moto's deep copy is."""
        return pickle.loads(zlib.decompress(self._events))


class _EndedEnvironment:
    def __init__(self, env):
        self.event_manager = _EndedHistory(_events_of(env))
        self.callback_pool_manager = env.callback_pool_manager
        self.map_run_record_pool_manager = env.map_run_record_pool_manager


class EndedWorker:
    """What an ended execution keeps of its worker: what moto reads of it once the execution has ended."""

    def __init__(self, worker):
        self.env = None if worker.env is None else _EndedEnvironment(worker.env)

    def stop(self, stop_date, error, cause) -> None:
        """Stopping an ended execution changes nothing (moto's Environment.set_stop stops a running program only)."""


def compact(execution) -> None:
    """``execution``, ended, keeps only what EndedWorker keeps of its worker."""
    if execution.exec_worker is not None and not isinstance(execution.exec_worker, EndedWorker):
        execution.exec_worker = EndedWorker(execution.exec_worker)


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
