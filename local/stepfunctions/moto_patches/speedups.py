"""Speed-ups of moto's Step Functions interpreter under bursts of executions; optional, behaviour unchanged.

The workflow tests run every state machine both with and without them (LOCAL_MOTO_TUNING=off), so
"behaviour unchanged" is a tested claim. Measured here (py-spy, bench/local_runtime.py), an execution's
CPU time went to work that does not depend on the execution, each now done once or avoided:

- parsing: the definition (a parsed program keeps no per-execution state: that lives in the
  Environment, which is why concurrent Map iterations can already share one), every JSONPath and
  every ResultPath (immutable once parsed) are memoized;
- threads: a Task or Map state without TimeoutSeconds, and a program without TimeoutSeconds, ran in a
  new thread that its caller waited on for 99999999 s (no timeout): they run in the caller's thread;
  executions and Map iterations run on reused threads;
- copies: every JSONPath a state reads, and a state's input, result and error output, are copied with
  copy.deepcopy (9 % of the CPU, then 9 % more once deliveries were kept alive): JSON is copied as JSON;
  so are the history's events (the feed's copy of a 1 -> 20 fan-out's history took 9 % of the CPU), and
  a dict or list is copied by marshal (copying took a third of the CPU of a 1 -> 50 fan-out, item by item);
  the program state copied with every state and every frame is rebuilt as deepcopy rebuilds a plain object
  (a tenth of a 1 -> 20 fan-out's CPU went through deepcopy's generic path, yappi);
- JSONPaths: a path of field names only ($.a.b, $$.Map.Item.Value: nearly every path of the workflows) is
  looked up field after field, as jsonpath_ng's Fields looks it up, without building its match contexts;
- HTTP: boto3's Lambda client (building, signing, parsing) took a third of the CPU: Lambda tasks call
  the local Invoke API over plain kept-alive HTTP; each delivery (apigateway:invoke) opened and closed
  a TCP connection through a new requests Session, another third: ``api_gateway_transport`` keeps
  one connection per thread (the apigateway:invoke repair sends through it), each request written whole
  and its answer read without http.client (kept_alive.KeptAliveHttp);
- routing: moto's server listed its package directory on every request; it is listed once;
- dispatching: StartExecution is answered by the backend without moto's request dispatcher
  (local.stepfunctions.start_execution, which this turns on).

Two more live in the server around moto, also on only with the speed-ups: the process's own tasks (DynamoDB,
AWS SDK) are answered by its application in the process, without a socket (local.stepfunctions.in_process), and
moto's service applications read request bodies without Flask's debug-mode helper (local.stepfunctions.backend_apps).
"""

import copy
import copyreg
import functools
import inspect
import marshal
import os
import threading
from collections.abc import Callable, Mapping
from types import CodeType, SimpleNamespace
from typing import Any

from local.stepfunctions.moto_patches.guard import MotoPatchError, Patch, Target
from local.stepfunctions.moto_patches.kept_alive import KeptAliveTransport, LocalLambdaInvoke
from local.stepfunctions.moto_patches.repairs import Transport
from local.stepfunctions.moto_patches.reused_threads import ReusedThreads
from local.stepfunctions.start_execution import PATCH as START_EXECUTION_WITHOUT_DISPATCHER

# Set to "off" to run moto's interpreter without the speed-ups: `LOCAL_MOTO_TUNING=off make dev` or
# `LOCAL_MOTO_TUNING=off .venv/bin/python -m pytest tests/workflows`.
TUNING_SWITCH = "LOCAL_MOTO_TUNING"


def tuning_enabled(environment: Mapping[str, str] = os.environ) -> bool:
    value = environment.get(TUNING_SWITCH, "on")
    if value not in ("on", "off"):
        raise MotoPatchError(f"{TUNING_SWITCH}={value!r}: expected 'on' (the default) or 'off'")
    return value == "on"


def api_gateway_transport() -> Transport:
    return KeptAliveTransport().send


_PARSER = "moto.stepfunctions.parser"
_COMPONENT = f"{_PARSER}.asl.component"
_EXECUTE_STATE = f"{_COMPONENT}.state.exec.execute_state"
_INLINE_ITERATION = f"{_COMPONENT}.state.exec.state_map.iteration.inline_iteration_component"
_LAMBDA_TASK = f"{_COMPONENT}.state.exec.state_task.lambda_eval_utils"
_WORKER = f"{_PARSER}.backend.execution_worker"

# --- parsing, memoized ---------------------------------------------------------------------------

_PARSE_DEFINITION = Target(
    f"{_PARSER}.asl.parse.asl_parser", "AmazonStateLanguageParser.parse", signature="(definition)", kind=staticmethod
)
_PARSE_JSON_PATH = Target(f"{_PARSER}.asl.utils.json_path", "parse", signature="(path, debug=None)")
_PARSE_RESULT_PATH = Target(f"{_COMPONENT}.common.path.result_path", "parse", same_as="jsonpath_ng:parse")


def _memoize_parsing() -> None:
    _PARSE_DEFINITION.replace(staticmethod(functools.lru_cache(maxsize=64)(_PARSE_DEFINITION.get())))
    _PARSE_JSON_PATH.replace(functools.lru_cache(maxsize=4096)(_PARSE_JSON_PATH.get()))
    _PARSE_RESULT_PATH.replace(functools.lru_cache(maxsize=1024)(_PARSE_RESULT_PATH.get()))


# --- JSONPaths of fields only, looked up directly ----------------------------------------------

_JSON_PATH = f"{_PARSER}.asl.utils.json_path"
_EXTRACT_JSON = Target(_JSON_PATH, "extract_json", signature="(path, data)")
_NO_SUCH_JSON_PATH = Target(_JSON_PATH, "NoSuchJsonPathError", signature="(json_path, data)")
_JSONPATH_NG = "jsonpath_ng.jsonpath"
_ROOT, _CHILD, _FIELDS = (Target(_JSONPATH_NG, name) for name in ("Root", "Child", "Fields"))
_AUTO_ID_FIELD = Target(
    _JSONPATH_NG, "auto_id_field", expect=("None (jsonpath_ng's default)", lambda value: value is None)
)
# Every module that calls extract_json by the name it imported.
_EXTRACT_JSON_CALLERS = tuple(
    Target(module, "extract_json", same_as=f"{_JSON_PATH}:extract_json")
    for module in (
        f"{_COMPONENT}.common.string.string_expression",
        f"{_COMPONENT}.intrinsic.argument.argument",
        f"{_PARSER}.asl.eval.states",
        *(
            f"{_COMPONENT}.state.choice.comparison.operator.implementations.{name}"
            for name in ("timestamp_operators", "boolean_equals", "numeric", "string_operators")
        ),
    )
)
_MISSING = object()


@functools.lru_cache(maxsize=4096)
def field_chain(path: str) -> tuple[str, ...] | None:
    """The field names of a JSONPath that names fields only (``$``, ``$.a.b``, ``$['a']``), as jsonpath_ng parses
    it; None for any other path (an index, a slice, a wildcard, a filter, descendants, or one it cannot parse)."""
    try:
        node = _PARSE_JSON_PATH.get()(path)
    except Exception:  # moto's extract_json raises it again, as before
        return None
    names = []
    while type(node) is _CHILD.get():
        fields = node.right
        if type(fields) is not _FIELDS.get() or len(fields.fields) != 1 or fields._deprecated_wildcard_use:
            return None
        names.append(fields.fields[0])
        node = node.left
    return tuple(reversed(names)) if type(node) is _ROOT.get() else None


def _look_fields_up() -> None:
    """moto's extract_json finds a path's matches with jsonpath_ng, then works out whether to answer a match or
    a list of them (indices, slices, wildcards). A path of field names has one match or none, and jsonpath_ng
    finds it by ``value.get(name)`` from the root, field after field (Fields.get_field_datum), treating a value
    without ``get`` as having no fields: the same lookups here, without jsonpath_ng's contexts and copies. Any
    other path goes to moto's extract_json. It took a sixth of the process's CPU under a 1 -> 20 fan-out (yappi)."""
    original = _EXTRACT_JSON.get()
    no_such_path = _NO_SUCH_JSON_PATH.get()

    @functools.wraps(original)
    def extract_json(path: str, data: Any) -> Any:
        names = field_chain(path)
        if names is None:
            return original(path, data)
        value = data
        for name in names:
            try:
                value = value.get(name, _MISSING)
            except (TypeError, AttributeError):
                value = _MISSING
            if value is _MISSING:
                raise no_such_path(json_path=path, data=data)
        return value

    for caller in (_EXTRACT_JSON, *_EXTRACT_JSON_CALLERS):
        caller.replace(extract_json)


# --- untimed states and programs, in the caller's thread -----------------------------------------

# ExecutionState._evaluate_with_timeout starts Thread(target=_exec_and_notify, daemon=True), where
# _exec_and_notify is a closure over the state being evaluated (``self``): the thread's target itself
# says whether that state has a timeout of its own.
_STATE_THREAD = Target(_EXECUTE_STATE, "Thread", same_as="threading:Thread")
_STATE_EVALUATION = "_exec_and_notify"


def _nested_code(function: Callable, name: str) -> CodeType | None:
    return next(
        (const for const in function.__code__.co_consts if inspect.iscode(const) and const.co_name == name), None
    )


def _evaluates_in_a_closure_over_its_state(evaluate_with_timeout: Callable) -> bool:
    nested = _nested_code(evaluate_with_timeout, _STATE_EVALUATION)
    return nested is not None and "self" in nested.co_freevars


_EVALUATE_WITH_TIMEOUT = Target(
    _EXECUTE_STATE,
    "ExecutionState._evaluate_with_timeout",
    signature="(self, env)",
    expect=(f"a thread started on {_STATE_EVALUATION}, a closure over self", _evaluates_in_a_closure_over_its_state),
)
_IS_DEFAULT_TIMEOUT = Target(f"{_COMPONENT}.common.timeouts.timeout", "Timeout.is_default_value", signature="(self)")


class _Inline:
    """A thread's stand-in that runs its target in the thread that starts it."""

    def __init__(self, target: Callable[[], object]):
        self._target = target

    def start(self) -> None:
        self._target()

    def is_alive(self) -> bool:
        return False


def state_evaluated_by(target: Callable) -> Any | None:
    """The state whose evaluation ``target`` is, when it is moto's _exec_and_notify; else None."""
    code = getattr(target, "__code__", None)
    if code is None or code.co_name != _STATE_EVALUATION or "self" not in code.co_freevars:
        return None
    return target.__closure__[code.co_freevars.index("self")].cell_contents


def thread_unless_untimed(*, target: Callable[[], object], daemon: bool) -> Any:
    """execute_state's Thread: a state without a timeout of its own (the default is 99999999 s) is
    evaluated in the thread that reaches it, with the same frames and events; any other target gets
    its thread."""
    state = state_evaluated_by(target)
    if state is not None and state.timeout.is_default_value():
        return _Inline(target)
    return threading.Thread(target=target, daemon=daemon)


_PROGRAM_EVAL = Target(f"{_COMPONENT}.program.program", "Program.eval", signature="(self, env)")
_COMPONENT_EVAL = Target(f"{_COMPONENT}.eval_component", "EvalComponent.eval", signature="(self, env)")


def _evaluate_untimed_programs_inline() -> None:
    """A program (a state machine, a Map iteration's processor) without TimeoutSeconds ran in a new
    thread joined with no timeout: it runs in the thread that evaluates it."""
    original = _PROGRAM_EVAL.get()
    evaluate_body = _COMPONENT_EVAL.get()

    @functools.wraps(original)
    def evaluate(self, env) -> None:
        if self.timeout_seconds:
            return original(self, env)
        env.next_state_name = self.start_at.start_at_name
        evaluate_body(self, env)

    _PROGRAM_EVAL.replace(evaluate)


# --- executions and Map iterations, on reused threads --------------------------------------------

_START_WORKER = Target(_WORKER, "ExecutionWorker.start", signature="(self)")
_EXECUTION_LOGIC = Target(_WORKER, "ExecutionWorker._execution_logic", signature="(self)")
_SYNC_WORKER_START = Target(
    _WORKER,
    "SyncExecutionWorker.start",
    signature="(self)",
    expect=("its own start, in its caller's thread", lambda start: start.__qualname__ == "SyncExecutionWorker.start"),
)
_LAUNCH_ITERATION = Target(
    _INLINE_ITERATION, "InlineIterationComponent._launch_worker", signature="(self, env, eval_input, job_pool)"
)
_CREATE_ITERATION = Target(
    _INLINE_ITERATION, "InlineIterationComponent._create_worker", signature="(self, env, eval_input, job_pool)"
)


def _reuse_interpreter_threads() -> None:
    threads = ReusedThreads()

    def start_execution(self) -> None:
        threads.run(self._execution_logic)

    def launch_iteration(self, env, eval_input, job_pool):
        worker = self._create_worker(env=env, eval_input=eval_input, job_pool=job_pool)
        threads.run(worker.eval)
        return worker

    _START_WORKER.replace(start_execution)
    _LAUNCH_ITERATION.replace(launch_iteration)


# --- JSON copied as JSON -------------------------------------------------------------------------

_COPY_MODULES = tuple(
    Target(module, "copy", same_as="copy")
    for module in (
        f"{_COMPONENT}.common.string.string_expression",
        _EXECUTE_STATE,
        f"{_PARSER}.asl.eval.states",
        # the history's events (each state's, and the whole list again for the feed and GetExecutionHistory),
        # a ResultPath's result, a task's parameters, a Map's stack, the context object's State
        f"{_PARSER}.asl.eval.event.event_manager",
        f"{_COMPONENT}.common.path.result_path",
        f"{_COMPONENT}.state.exec.state_task.service.state_task_service",
        f"{_COMPONENT}.state.exec.state_map.state_map",
        f"{_PARSER}.asl.eval.environment",
    )
)


def copy_json(value: Any) -> Any:
    """copy.deepcopy for the JSON values a JSONPath extracts, several times faster: a dict or list is copied
    by marshal (C code; it keeps every type as it is and refuses any it does not know, subclasses included),
    or item by item when it holds something marshal refuses; a program state as deepcopy rebuilds a plain
    object (below); anything else goes to copy.deepcopy."""
    if type(value) in (dict, list):
        try:
            return marshal.loads(marshal.dumps(value))
        except ValueError:  # an object marshal does not know, at any depth
            pass
    return _copy_items(value)


def _copy_items(value: Any) -> Any:
    kind = type(value)
    if kind is dict:
        return {key: _copy_items(item) for key, item in value.items()}
    if kind is list:
        return [_copy_items(item) for item in value]
    if kind in (str, int, float, bool) or value is None:
        return value
    if kind in _PLAIN_PROGRAM_STATES:
        return _copy_plain_object(value)
    return copy.deepcopy(value)


def _copy_plain_object(value: Any) -> Any:
    """What copy.deepcopy makes of an object whose class leaves copying to ``object`` (no __deepcopy__,
    __reduce__, __reduce_ex__, __getstate__ or __setstate__ of its own, no slots): a new instance,
    made without __init__, given a deep copy of the attributes."""
    copied = object.__new__(type(value))
    if value.__dict__:
        copied.__dict__.update(copy_json(value.__dict__))
    return copied


# The interpreter's program states (running, ended, error...): copied with every state evaluated and every
# frame opened (Environment.program_state, Environment.as_inner_frame_of), which took a tenth of the process's
# CPU under a 1 -> 20 fan-out (yappi) through copy.deepcopy's generic path.
_PLAIN_PROGRAM_STATES: set[type] = set()
_COPY_PROTOCOL = ("__deepcopy__", "__reduce__", "__reduce_ex__", "__getstate__", "__setstate__", "__copy__")


def _copied_as_a_plain_object(kind: type) -> bool:
    """Whether copy.deepcopy copies instances of ``kind`` as _copy_plain_object does."""
    return (
        kind.__new__ is object.__new__
        and all(getattr(kind, name, None) is getattr(object, name, None) for name in _COPY_PROTOCOL)
        and kind.__dictoffset__ != 0
        and not any(vars(base).get("__slots__") for base in kind.__mro__)  # abc.ABC's are empty
        and kind not in copyreg.dispatch_table
    )


def _every_program_state_is_plain(base: type) -> bool:
    return all(_copied_as_a_plain_object(kind) for kind in (base, *_subclasses(base)))


def _subclasses(base: type) -> list[type]:
    found = []
    for kind in base.__subclasses__():
        found += [kind, *_subclasses(kind)]
    return found


_PROGRAM_STATE = Target(
    f"{_PARSER}.asl.eval.program_state",
    "ProgramState",
    expect=("classes that leave copying to object", _every_program_state_is_plain),
)


def _copy_program_states_as_plain_objects() -> None:
    base = _PROGRAM_STATE.get()
    _PLAIN_PROGRAM_STATES.update((base, *_subclasses(base)))


def _copy_json_as_json() -> None:
    """These modules use copy for nothing but deepcopy."""
    _copy_program_states_as_plain_objects()
    json_copy = SimpleNamespace(deepcopy=copy_json)
    for target in _COPY_MODULES:
        target.replace(json_copy)


# --- Lambda tasks over plain HTTP ----------------------------------------------------------------

_INVOKE_LAMBDA = Target(_LAMBDA_TASK, "_invoke_lambda_function", signature="(parameters, region, state_credentials)")
_READ_PAYLOAD = Target(_LAMBDA_TASK, "_from_payload", signature="(payload_streaming_body)")
_MOTO_SERVER_PORT = Target("moto.settings", "moto_server_port", signature="()")


def _invoke_lambda_over_plain_http() -> None:
    """moto's own code still turns the answer into the task's result or error."""
    read_payload = _READ_PAYLOAD.get()
    client = LocalLambdaInvoke("localhost", int(_MOTO_SERVER_PORT.get()()))

    def invoke_lambda_function(parameters: dict, region: str, state_credentials=None) -> dict:
        response = client.invoke(parameters)
        response["Payload"] = read_payload(response["Payload"])
        return response

    _INVOKE_LAMBDA.replace(invoke_lambda_function)


# --- moto's server routing -----------------------------------------------------------------------

_LIST_MOTO_MODULES = Target("moto.backends", "list_of_moto_modules", signature="()")


def _list_moto_modules_once() -> None:
    """A listdir and an isdir per service on every request, to route it: moto's files do not change."""
    original = _LIST_MOTO_MODULES.get()
    modules = tuple(original())

    @functools.wraps(original)
    def list_of_moto_modules():
        return iter(modules)

    _LIST_MOTO_MODULES.replace(list_of_moto_modules)


PATCHES = [
    Patch(
        "definitions, JSONPaths and ResultPaths are parsed once",
        replaces=(_PARSE_DEFINITION, _PARSE_JSON_PATH, _PARSE_RESULT_PATH),
        install=_memoize_parsing,
    ),
    Patch(
        "JSONPaths of field names are looked up directly",
        replaces=(_EXTRACT_JSON, *_EXTRACT_JSON_CALLERS),
        reads=(_NO_SUCH_JSON_PATH, _ROOT, _CHILD, _FIELDS, _AUTO_ID_FIELD, _PARSE_JSON_PATH),
        install=_look_fields_up,
    ),
    Patch(
        "states without a timeout run in their caller's thread",
        replaces=(_STATE_THREAD,),
        reads=(_EVALUATE_WITH_TIMEOUT, _IS_DEFAULT_TIMEOUT),
        install=lambda: _STATE_THREAD.replace(thread_unless_untimed),
    ),
    Patch(
        "programs without a timeout run in their caller's thread",
        replaces=(_PROGRAM_EVAL,),
        reads=(_COMPONENT_EVAL,),
        install=_evaluate_untimed_programs_inline,
    ),
    Patch(
        "executions and Map iterations run on reused threads",
        replaces=(_START_WORKER, _LAUNCH_ITERATION),
        reads=(_EXECUTION_LOGIC, _SYNC_WORKER_START, _CREATE_ITERATION),
        install=_reuse_interpreter_threads,
    ),
    Patch(
        "JSON is copied as JSON",
        replaces=_COPY_MODULES,
        reads=(_PROGRAM_STATE,),
        install=_copy_json_as_json,
    ),
    Patch(
        "Lambda tasks call the local Invoke API over kept-alive HTTP",
        replaces=(_INVOKE_LAMBDA,),
        reads=(_READ_PAYLOAD, _MOTO_SERVER_PORT),
        install=_invoke_lambda_over_plain_http,
    ),
    Patch("moto's server lists its modules once", replaces=(_LIST_MOTO_MODULES,), install=_list_moto_modules_once),
    START_EXECUTION_WITHOUT_DISPATCHER,
]
