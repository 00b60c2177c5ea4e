"""Speed-ups for moto's Step Functions interpreter under bursts of executions; behaviour unchanged.

Measured here, most of an execution's CPU time went to work that does not depend on the execution:
re-parsing the state machine's definition, re-parsing every JSONPath, and building a new boto3
client for every Lambda task. Each is memoized:

- parsed definitions: a parsed program keeps no per-execution state (that lives in the evaluation
  Environment), which is why concurrent Map iterations of one execution can already share it;
- parsed JSONPath expressions are immutable;
- boto3 clients are thread-safe, and every task of the runtime talks to the same local endpoint
  (Lambda tasks no longer build one at all: they call the Invoke API over plain HTTP, below; the
  shared client remains for any other AWS SDK task a definition may use).

Further patches, below, came from profiling bursts: threads reused or avoided, ResultPaths memoized,
JSON copied as JSON, Lambda tasks calling the local Invoke API over plain HTTP, apigateway:invoke
tasks posting over kept-alive connections, moto's server routing without listing its files. Two more are not
speed-ups and apply untuned too (``report_execution_ends``, ``keep_recent_executions``).

The patches rebind private functions of one moto release. ``apply`` refuses to run on another
release, or when a target is gone, so that the engine never silently runs untuned (or half-tuned):
`make dev` and the workflow tests then stop with a TuningError saying what to re-check.
"""

import copy
import functools
import http.client
import importlib
import importlib.metadata
import io
import json
import os
import queue
import sys
import threading
import traceback
import urllib.parse
from collections.abc import Callable, Mapping
from types import ModuleType, SimpleNamespace
from typing import Any

from botocore.exceptions import ClientError, EndpointConnectionError

# The release whose internals the patches below were read from (pinned in pyproject.toml).
MOTO_VERSION = "5.2.5"
# Set to "off" to run moto's interpreter as released: `LOCAL_MOTO_TUNING=off make dev` or
# `LOCAL_MOTO_TUNING=off .venv/bin/python -m pytest tests/workflows`.
TUNING_SWITCH = "LOCAL_MOTO_TUNING"

# Imports the whole interpreter, so that every module importing boto_client_for by name is loaded.
_EXECUTION_MODULE = "moto.stepfunctions.parser.backend.execution"
_PARSER_MODULE = "moto.stepfunctions.parser.asl.parse.asl_parser"
_JSON_PATH_MODULE = "moto.stepfunctions.parser.asl.utils.json_path"
_BOTO_CLIENT_MODULE = "moto.stepfunctions.parser.asl.utils.boto_client"
# Where Lambda tasks build their client: it imports boto_client_for by name, so it needs its own rebinding.
_LAMBDA_TASK_MODULE = "moto.stepfunctions.parser.asl.component.state.exec.state_task.lambda_eval_utils"


class TuningError(RuntimeError):
    """The installed moto is not the one the patches were written for, or a patch target moved."""


def tuning_enabled(environment: Mapping[str, str] = os.environ) -> bool:
    value = environment.get(TUNING_SWITCH, "on")
    if value not in ("on", "off"):
        raise TuningError(f"{TUNING_SWITCH}={value!r}: expected 'on' (the default) or 'off'")
    return value == "on"


def apply() -> None:
    """Patch moto's interpreter in this process, or raise TuningError without patching anything."""
    installed = importlib.metadata.version("moto")
    if installed != MOTO_VERSION:
        raise TuningError(
            f"moto {installed} is installed, but {__name__} patches the internals of moto {MOTO_VERSION}: "
            f"re-check each patch against moto {installed} and update MOTO_VERSION, "
            f"or run untuned with {TUNING_SWITCH}=off"
        )
    parser_class = _target(_PARSER_MODULE, "AmazonStateLanguageParser")
    if not isinstance(parser_class.__dict__.get("parse"), staticmethod):
        raise TuningError(f"{_PARSER_MODULE}.AmazonStateLanguageParser.parse is no longer a static method")
    json_path = _module(_JSON_PATH_MODULE)
    _target(_JSON_PATH_MODULE, "parse")
    _module(_EXECUTION_MODULE)
    boto_client = _module(_BOTO_CLIENT_MODULE)
    original_client_for = _target(_BOTO_CLIENT_MODULE, "boto_client_for")
    if _target(_LAMBDA_TASK_MODULE, "boto_client_for") is not original_client_for:
        raise TuningError(f"{_LAMBDA_TASK_MODULE}.boto_client_for is not {_BOTO_CLIENT_MODULE}.boto_client_for")

    parser_class.parse = staticmethod(functools.lru_cache(maxsize=64)(parser_class.parse))
    json_path.parse = functools.lru_cache(maxsize=4096)(json_path.parse)
    shared_client_for = _shared_clients(original_client_for)
    # Every module that imported the function by name (the Lambda task's among them) gets the shared one.
    for module in list(sys.modules.values()):
        if getattr(module, "boto_client_for", None) is original_client_for:
            module.boto_client_for = shared_client_for
    boto_client.boto_client_for = shared_client_for
    _memoize_result_paths()
    _evaluate_untimed_states_inline()
    _evaluate_untimed_programs_inline()
    _reuse_interpreter_threads()
    _copy_extracted_json_quickly()
    _invoke_lambda_over_plain_http()
    _invoke_api_gateway_over_kept_alive_http()
    _list_moto_modules_once()


def _module(name: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except ImportError as error:
        raise TuningError(f"moto has no module {name} any more ({error})") from error


def _target(module_name: str, attribute: str) -> Any:
    return _require(_module(module_name), attribute)


def _shared_clients(original):
    clients = {}
    lock = threading.Lock()

    @functools.wraps(original)
    def shared_client_for(region: str, service: str, state_credentials=None):
        with lock:
            if (region, service) not in clients:
                clients[(region, service)] = original(region, service, state_credentials)
            return clients[(region, service)]

    return shared_client_for


# Profiled under bursts (py-spy, bench/local_runtime.py), the interpreter then spent its time starting
# threads (one per execution, per program, per Map iteration and per state evaluated under a timeout)
# and parsing ResultPaths, which the JSONPath memo above does not reach. States without a timeout of
# their own and programs without TimeoutSeconds now run in the thread that reaches them (a thread
# there only waited for them, forever); executions and Map iterations run on reused threads;
# ResultPaths are memoized. Each patch checks that its target still looks as it did when written
# (moto 5.2.5), and stops the runtime with an error naming it otherwise.


def _require(owner: Any, name: str, *, is_value: Any = None) -> Any:
    value = getattr(owner, name, None)
    where = getattr(owner, "__name__", owner)
    if value is None:
        raise TuningError(f"moto's {where} has no {name} any more")
    if is_value is not None and value is not is_value:
        raise TuningError(f"moto changed: {where}.{name} is not what local/stepfunctions/tuning.py patches")
    return value


def _memoize_result_paths() -> None:
    from jsonpath_ng import parse
    from moto.stepfunctions.parser.asl.component.common.path import result_path

    _require(result_path, "parse", is_value=parse)
    result_path.parse = functools.lru_cache(maxsize=1024)(parse)


class _Inline:
    """A thread's stand-in that runs its target in the thread that starts it."""

    def __init__(self, target: Callable[[], object]):
        self._target = target

    def start(self) -> None:
        self._target()

    def is_alive(self) -> bool:
        return False


_inline = threading.local()


def _evaluate_untimed_states_inline() -> None:
    """A Task or Map without TimeoutSeconds (the default is 99999999 s) ran in a new thread that its
    caller waited on for 99999999 s: it now runs in the caller's thread, with the same frames and
    events. A state with a timeout of its own keeps its thread."""
    from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import Timeout
    from moto.stepfunctions.parser.asl.component.state.exec import execute_state

    _require(Timeout, "is_default_value")
    original = _require(execute_state.ExecutionState, "_evaluate_with_timeout")
    thread_class = _require(execute_state, "Thread", is_value=threading.Thread)

    def thread_or_inline(*, target, daemon):
        if getattr(_inline, "next_state", False):
            _inline.next_state = False
            return _Inline(target)
        return thread_class(target=target, daemon=daemon)

    @functools.wraps(original)
    def evaluate_with_timeout(self, env) -> None:
        _inline.next_state = self.timeout.is_default_value()
        return original(self, env)

    execute_state.Thread = thread_or_inline
    execute_state.ExecutionState._evaluate_with_timeout = evaluate_with_timeout


def _evaluate_untimed_programs_inline() -> None:
    """A program (a state machine, a Map iteration's processor) without TimeoutSeconds ran in a new
    thread joined with no timeout: it now runs in the thread that evaluates it."""
    from moto.stepfunctions.parser.asl.component.program.program import Program

    original = _require(Program, "eval")

    @functools.wraps(original)
    def evaluate(self, env) -> None:
        if self.timeout_seconds:
            return original(self, env)
        env.next_state_name = self.start_at.start_at_name
        super(Program, self).eval(env)

    Program.eval = evaluate


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


def _reuse_interpreter_threads() -> None:
    """Executions and Map iterations run on reused threads instead of a new thread each."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.inline_iteration_component import (
        InlineIterationComponent,
    )
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker, SyncExecutionWorker

    threads = ReusedThreads()
    _require(ExecutionWorker, "_execution_logic")
    _require(InlineIterationComponent, "_create_worker")
    _require(InlineIterationComponent, "_launch_worker")
    if SyncExecutionWorker.start is ExecutionWorker.start:
        raise TuningError("moto changed: SyncExecutionWorker no longer runs in its caller's thread")

    def start_execution(self) -> None:
        threads.run(self._execution_logic)

    def launch_iteration(self, env, eval_input, job_pool):
        worker = self._create_worker(env=env, eval_input=eval_input, job_pool=job_pool)
        threads.run(worker.eval)
        return worker

    ExecutionWorker.start = start_execution
    InlineIterationComponent._launch_worker = launch_iteration


def _copy_json(value: Any) -> Any:
    """copy.deepcopy for the JSON values a JSONPath extracts, several times faster; anything else
    goes to copy.deepcopy."""
    kind = type(value)
    if kind is dict:
        return {key: _copy_json(item) for key, item in value.items()}
    if kind is list:
        return [_copy_json(item) for item in value]
    if kind in (str, int, float, bool) or value is None:
        return value
    return copy.deepcopy(value)


def _copy_extracted_json_quickly() -> None:
    """Every JSONPath a state reads copies what it extracts (9% of the interpreter's CPU under a
    burst, in copy.deepcopy): the copy stays, made for JSON. So do the copies of a state's input,
    result and error output (states) and of the stack a state's frame starts with (execute_state),
    another 9% once deliveries were kept alive. These modules use copy for nothing else."""
    from moto.stepfunctions.parser.asl.component.common.string import string_expression
    from moto.stepfunctions.parser.asl.component.state.exec import execute_state
    from moto.stepfunctions.parser.asl.eval import states

    json_copy = SimpleNamespace(deepcopy=_copy_json)
    for module in (string_expression, execute_state, states):
        _require(module, "copy", is_value=copy)
    for module in (string_expression, execute_state, states):
        module.copy = json_copy


class KeptAliveHttp:
    """Plain HTTP/1.1 requests to one local server, one kept-alive connection per thread (a thread
    waits on one answer at a time). A connection the server had closed gets one fresh try; an
    unreachable server raises ``unreachable(url)``."""

    def __init__(self, host: str, port: int, unreachable: Callable[[str], Exception]):
        self._host = host
        self._port = port
        self._unreachable = unreachable
        self._connections = threading.local()

    def request(self, method: str, path: str, body: bytes, headers: dict) -> tuple[int, str, list, bytes]:
        """(status, reason, headers as sent, body)"""
        for attempt in (1, 2):
            connection = getattr(self._connections, "current", None)
            if connection is None:
                connection = self._connections.current = http.client.HTTPConnection(self._host, self._port)
            try:
                connection.request(method, path, body=body, headers=headers)
                answer = connection.getresponse()
                return answer.status, answer.reason, answer.getheaders(), answer.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as error:
                connection.close()  # a kept-alive connection the server had closed: one fresh try
                self._connections.current = None
                if attempt == 2:
                    raise self._unreachable(f"http://{self._host}:{self._port}") from error
            except OSError as error:
                connection.close()
                self._connections.current = None
                raise self._unreachable(f"http://{self._host}:{self._port}") from error
        raise AssertionError("unreachable")


class LocalLambdaInvoke:
    """Lambda's Invoke API over plain HTTP to the runtime's Lambda service, one kept-alive connection
    per thread. Answers as boto3's ``invoke`` does, for what the interpreter reads: StatusCode,
    FunctionError, ExecutedVersion, LogResult and Payload; an error status raises botocore's
    ClientError with the service's error code, and an unreachable endpoint EndpointConnectionError."""

    def __init__(self, host: str, port: int):
        self._http = KeptAliveHttp(host, port, lambda url: EndpointConnectionError(endpoint_url=url))

    def invoke(self, parameters: dict) -> dict:
        path = f"/2015-03-31/functions/{urllib.parse.quote(parameters['FunctionName'], safe='')}/invocations"
        if parameters.get("Qualifier"):
            path += f"?Qualifier={urllib.parse.quote(parameters['Qualifier'], safe='')}"
        headers = {"Content-Type": "application/octet-stream"}
        for parameter, header in _INVOKE_HEADERS.items():
            if parameters.get(parameter):
                headers[header] = parameters[parameter]
        status, _, header_list, body = self._http.request("POST", path, parameters.get("Payload") or b"", headers)
        answer_headers = {name.lower(): value for name, value in header_list}
        if status >= 300:
            raise self._client_error(status, answer_headers, body)
        response = {"StatusCode": status, "Payload": io.BytesIO(body)}
        for header, key in _INVOKE_ANSWER_HEADERS.items():
            if header in answer_headers:
                response[key] = answer_headers[header]
        return response

    @staticmethod
    def _client_error(status: int, headers: dict, body: bytes) -> ClientError:
        try:
            message = json.loads(body).get("message") or ""
        except (ValueError, AttributeError):
            message = body.decode("utf-8", "replace")
        code = headers.get("x-amzn-errortype", "").split(":")[0] or str(status)
        metadata = {"HTTPStatusCode": status, "HTTPHeaders": headers, "RequestId": headers.get("x-amzn-requestid", "")}
        return ClientError({"Error": {"Code": code, "Message": message}, "ResponseMetadata": metadata}, "Invoke")


_INVOKE_HEADERS = {
    "InvocationType": "X-Amz-Invocation-Type",
    "LogType": "X-Amz-Log-Type",
    "ClientContext": "X-Amz-Client-Context",
}
_INVOKE_ANSWER_HEADERS = {
    "x-amz-function-error": "FunctionError",
    "x-amz-executed-version": "ExecutedVersion",
    "x-amz-log-result": "LogResult",
}


def _invoke_lambda_over_plain_http() -> None:
    """boto3's Lambda client (building, signing and parsing each request) took a third of the
    interpreter's CPU under a burst; Lambda tasks now call the local Invoke API directly. moto's
    own code still turns the answer into the task's result or error."""
    from moto.settings import moto_server_port
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils

    _require(lambda_eval_utils, "_invoke_lambda_function")
    read_payload = _require(lambda_eval_utils, "_from_payload")
    client = LocalLambdaInvoke("localhost", int(moto_server_port()))

    def invoke_lambda_function(parameters: dict, region: str, state_credentials=None) -> dict:
        response = client.invoke(parameters)
        response["Payload"] = read_payload(response["Payload"])
        return response

    lambda_eval_utils._invoke_lambda_function = invoke_lambda_function


class KeptAliveRequests:
    """What moto's apigateway:invoke task calls on the ``requests`` module (``requests.post(url,
    headers=..., json=...)`` and the other methods), over kept-alive plain HTTP for http:// URLs: the
    same request (JSON body as requests encodes it) and a ``requests.Response`` with the status,
    headers, body and encoding moto reads; an unreachable server raises requests' ConnectionError.
    Other URLs go to ``requests`` itself."""

    def __init__(self):
        self._servers: dict[tuple[str, int], KeptAliveHttp] = {}
        self._lock = threading.Lock()

    def __getattr__(self, method: str) -> Callable[..., Any]:
        if method not in ("get", "post", "put", "delete", "patch", "head", "options"):
            raise AttributeError(method)
        return functools.partial(self.request, method.upper())

    def request(self, method: str, url: str, *, headers: dict | None = None, json: Any = None):
        import requests

        parts = urllib.parse.urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            return requests.request(method, url, headers=headers, json=json)
        body = b"" if json is None else _json_dumps(json, allow_nan=False).encode("utf-8")
        sent = {"Accept-Encoding": "identity", "Accept": "*/*", **(headers or {})}
        if json is not None:
            sent.setdefault("Content-Type", "application/json")
        path = urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, ""))
        status, reason, header_list, content = self._server(parts.hostname, parts.port or 80).request(
            method, path, body, sent
        )
        response = requests.Response()
        response.status_code, response.reason, response.url, response._content = status, reason, url, content
        for name, value in header_list:
            known = response.headers.get(name)
            response.headers[name] = value if known is None else f"{known}, {value}"
        response.encoding = requests.utils.get_encoding_from_headers(response.headers)
        return response

    def _server(self, host: str, port: int) -> KeptAliveHttp:
        with self._lock:
            if (host, port) not in self._servers:
                self._servers[(host, port)] = KeptAliveHttp(host, port, _requests_connection_error)
            return self._servers[(host, port)]


_json_dumps = json.dumps  # KeptAliveRequests.request has a parameter named json, as requests' has


def _requests_connection_error(url: str) -> Exception:
    import requests

    return requests.ConnectionError(f"could not reach {url}")


def _invoke_api_gateway_over_kept_alive_http() -> None:
    """message_fanout's deliveries (apigateway:invoke) each built a requests Session, opened a TCP
    connection to the gateway and closed it: a third of the interpreter's CPU under a burst. They
    now reuse one connection per thread."""
    import requests
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_api_gateway as integration,
    )

    _require(integration, "requests", is_value=requests)
    integration.requests = KeptAliveRequests()


def _list_moto_modules_once() -> None:
    """moto's server lists its package directory (a listdir and an isdir per service) on every
    request, to route it: the list is made once, as moto's installed files do not change."""
    from moto import backends

    original = _require(backends, "list_of_moto_modules")
    modules = tuple(original())

    @functools.wraps(original)
    def list_of_moto_modules():
        return iter(modules)

    backends.list_of_moto_modules = list_of_moto_modules


def report_execution_ends(started: Callable[[Any], None], ended: Callable[[Any], None]) -> None:
    """Calls ``started(execution)`` when an execution starts and ``ended(execution)`` when it ends."""
    from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication, Execution

    original_start = _require(Execution, "start")
    original_terminated = _require(BaseExecutionWorkerCommunication, "terminated")

    @functools.wraps(original_start)
    def start(self) -> None:
        started(self)
        original_start(self)

    @functools.wraps(original_terminated)
    def terminated(self) -> None:
        original_terminated(self)
        ended(self.execution)

    Execution.start = start
    BaseExecutionWorkerCommunication.terminated = terminated


def keep_recent_executions(limit: int) -> None:
    """moto keeps every execution, with its whole history, for as long as it runs: keep the ``limit``
    most recent ended executions of each state machine (running ones are never dropped)."""
    from moto.stepfunctions.parser import utils
    from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    original_start = _require(StepFunctionsParserBackend, "start_execution")
    original_terminated = _require(BaseExecutionWorkerCommunication, "terminated")
    started_threads = _require(utils, "TMP_THREADS")
    executions_lock = threading.Lock()  # start_execution appends to the same lists

    @functools.wraps(original_start)
    def start_execution(self, *args, **kwargs):
        with executions_lock:
            return original_start(self, *args, **kwargs)

    @functools.wraps(original_terminated)
    def terminated(self) -> None:
        original_terminated(self)
        execution = self.execution
        state_machine = execution.state_machine.backend.describe_state_machine(execution.state_machine_arn)
        with executions_lock:
            state_machine.executions[:] = _without_oldest_ended(state_machine.executions, limit)
            # moto remembers every thread it starts, and nothing reads the list.
            started_threads[:] = [thread for thread in started_threads if thread.is_alive()]

    StepFunctionsParserBackend.start_execution = start_execution
    BaseExecutionWorkerCommunication.terminated = terminated


def _without_oldest_ended(executions: list, limit: int) -> list:
    if len(executions) <= limit:
        return executions
    excess = sum(1 for execution in executions if execution.stop_date is not None) - limit
    if excess <= 0:
        return executions
    kept = []
    for execution in executions:  # oldest first
        if excess > 0 and execution.stop_date is not None:
            excess -= 1
            continue
        kept.append(execution)
    return kept
