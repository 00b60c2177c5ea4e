"""Repairs of moto 5.2.5's Step Functions interpreter: without them the workflows cannot run on it, so
they apply tuned or not. Each bug is written up for moto in docs/moto-patches.md.

- ``arn:aws:states:::apigateway:invoke`` (message_fanout's deliveries), vendored from LocalStack, lags
  the interpreter around it in three ways, each hiding the next (getmoto/moto#10163): it lists only
  ApiEndpoint and Method as supported parameters, and the engine drops every other one (Stage, Path,
  RequestBody, Headers, QueryParameters, AuthType); the engine passes ``state_credentials=`` to its
  ``_eval_service_task``, whose parameter is still named ``task_credentials`` (a TypeError on every
  invoke, States.Runtime); its ``_from_error`` builds a FailureEvent without the ``env`` it requires,
  so a non-200 answer fails the execution instead of failing the task with ``ApiGateway.<status>``,
  the error AWS documents ("Call API Gateway with Step Functions", Error handling).
- moto appends every thread it starts to a module-level list, ``TMP_THREADS``, that nothing reads:
  about 2 KB per thread, a dozen threads per execution, for as long as the process runs. Each
  module's ``TMP_THREADS`` now keeps nothing.

One more change here is the chat's choice, not a repair: moto sends a JSON RequestBody as ``requests``
encodes it, with spaces (``{"type": "message", ...}``). AWS documents RequestBody only as "a JSON
object or String" ("Call API Gateway with Step Functions", Request format), not the bytes it sends.
Every frame the handlers send is compact JSON (chat/frames.py), so the frames the state machines post
are too: one form on the wire.
"""

import functools
import json
import threading
from collections.abc import Callable
from typing import Any

import botocore.session
import requests

from local.stepfunctions.moto_patches.guard import Patch, Target

_TASKS = "moto.stepfunctions.parser.asl.component.state.exec.state_task"
_API_GATEWAY = f"{_TASKS}.service.state_task_service_api_gateway"
_API_GATEWAY_TASK = "StateTaskServiceApiGateway"

_SUPPORTED_PARAMETERS = Target(
    _API_GATEWAY, f"{_API_GATEWAY_TASK}._SUPPORTED_API_PARAM_BINDINGS", value={"invoke": {"ApiEndpoint", "Method"}}
)
_EVAL_SERVICE_TASK = Target(
    _API_GATEWAY,
    f"{_API_GATEWAY_TASK}._eval_service_task",
    signature="(self, env, resource_runtime_part, normalised_parameters, task_credentials)",
)
# How the engine calls it (StateTaskService._eval_execution passes every argument by keyword).
_ENGINE_EVAL_SERVICE_TASK = Target(
    f"{_TASKS}.service.state_task_service",
    "StateTaskService._eval_service_task",
    signature="(self, env, resource_runtime_part, normalised_parameters, state_credentials)",
)
_FROM_ERROR = Target(_API_GATEWAY, f"{_API_GATEWAY_TASK}._from_error", signature="(self, env, ex)")
_FAILURE_EVENT = Target(
    "moto.stepfunctions.parser.asl.component.common.error_name.failure_event",
    "FailureEvent.__init__",
    signature="(self, env, error_name, event_type, event_details=None)",
)
_GATEWAY_EXCEPTION = Target(_API_GATEWAY, "SfnGatewayException.__init__", signature="(self, parameters, response)")
_REQUESTS = Target(_API_GATEWAY, "requests", same_as="requests")

# The request parameters the Step Functions developer guide documents for apigateway:invoke.
DOCUMENTED_PARAMETERS = {
    "ApiEndpoint",
    "Method",
    "Headers",
    "Stage",
    "Path",
    "QueryParameters",
    "RequestBody",
    "AuthType",
}

_THREAD_LISTS = tuple(
    Target(module, "TMP_THREADS", same_as="moto.stepfunctions.parser.utils:TMP_THREADS")
    for module in (
        "moto.stepfunctions.parser.utils",
        "moto.stepfunctions.parser.backend.execution_worker",
        "moto.stepfunctions.parser.asl.component.program.program",
        "moto.stepfunctions.parser.asl.component.test_state.program.test_state_program",
        "moto.stepfunctions.parser.asl.component.state.exec.execute_state",
        "moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.inline_iteration_component",
        "moto.stepfunctions.parser.asl.component.state.exec.state_parallel.branch_worker",
        f"{_TASKS}.service.state_task_service_callback",
    )
)

# (method, url, headers, body) -> the answer, as requests gives it.
Transport = Callable[[str, str, dict[str, str], bytes], requests.Response]


def send_with_requests(method: str, url: str, headers: dict[str, str], body: bytes) -> requests.Response:
    return requests.request(method, url, headers=headers, data=body)


def compact_json(value: Any) -> bytes:
    """JSON as the handlers send every frame: no spaces (NaN and infinities refused, as requests does)."""
    return json.dumps(value, separators=(",", ":"), allow_nan=False).encode("utf-8")


class ApiGatewayRequests:
    """What moto's apigateway:invoke task calls as ``requests`` (``requests.post(url, headers=...,
    json=...)`` and the other methods): the same request, its JSON body compact, sent by ``transport``."""

    _METHODS = ("get", "post", "put", "delete", "patch", "head", "options")

    def __init__(self, transport: Transport = send_with_requests):
        self._transport = transport

    def __getattr__(self, method: str) -> Callable[..., requests.Response]:
        if method not in self._METHODS:
            raise AttributeError(method)
        return functools.partial(self.request, method.upper())

    def request(self, method: str, url: str, *, headers: dict | None = None, json: Any = None) -> requests.Response:
        sent = dict(headers or {})
        body = b""
        if json is not None:
            body = compact_json(json)
            if not any(name.lower() == "content-type" for name in sent):
                sent["Content-Type"] = "application/json"
        return self._transport(method, url, sent, body)


def _receive_documented_parameters() -> None:
    bindings = _SUPPORTED_PARAMETERS.get()
    _SUPPORTED_PARAMETERS.replace({**bindings, "invoke": DOCUMENTED_PARAMETERS})


def _take_state_credentials() -> None:
    original = _EVAL_SERVICE_TASK.get()

    def _eval_service_task(self, env, resource_runtime_part, normalised_parameters, state_credentials) -> None:
        original(self, env, resource_runtime_part, normalised_parameters, state_credentials)

    _EVAL_SERVICE_TASK.replace(_eval_service_task)


def _fail_the_task() -> None:
    from moto.stepfunctions.parser.api import HistoryEventType, TaskFailedEventDetails
    from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import CustomErrorName
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEvent
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_api_gateway import (
        SfnGatewayException,
    )
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails

    def _from_error(self, env, ex: Exception) -> FailureEvent:
        if isinstance(ex, SfnGatewayException):
            error, cause = f"ApiGateway.{ex.response.status_code}", ex.response.text
        else:
            error, cause = f"ApiGateway.{type(ex).__name__}", str(ex)
        return FailureEvent(
            env=env,
            error_name=CustomErrorName(error),
            event_type=HistoryEventType.TaskFailed,
            event_details=EventDetails(
                taskFailedEventDetails=TaskFailedEventDetails(
                    error=error,
                    cause=cause,
                    resource=self._get_sfn_resource(),
                    resourceType=self._get_sfn_resource_type(),
                )
            ),
        )

    _FROM_ERROR.replace(_from_error)


class _NoThreads:
    """Stands for moto's TMP_THREADS: takes every thread moto appends, keeps none (nothing reads them)."""

    def append(self, thread: Any) -> None:
        pass


def _forget_started_threads() -> None:
    no_threads = _NoThreads()
    for target in _THREAD_LISTS:
        target.replace(no_threads)


def patches(*, api_gateway_transport: Transport = send_with_requests) -> list[Patch]:
    """Every repair; apigateway:invoke's requests go through ``api_gateway_transport``."""
    return [
        Patch(
            "apigateway:invoke receives every documented parameter",
            replaces=(_SUPPORTED_PARAMETERS,),
            install=_receive_documented_parameters,
        ),
        Patch(
            "apigateway:invoke takes the credentials the engine passes",
            replaces=(_EVAL_SERVICE_TASK,),
            reads=(_ENGINE_EVAL_SERVICE_TASK,),
            install=_take_state_credentials,
        ),
        Patch(
            "apigateway:invoke fails the task with ApiGateway.<status>",
            replaces=(_FROM_ERROR,),
            reads=(_FAILURE_EVENT, _GATEWAY_EXCEPTION),
            install=_fail_the_task,
        ),
        Patch(
            "apigateway:invoke sends its JSON body compact, through the runtime's transport",
            replaces=(_REQUESTS,),
            install=lambda: _REQUESTS.replace(ApiGatewayRequests(api_gateway_transport)),
        ),
        Patch("moto keeps no list of the threads it started", replaces=_THREAD_LISTS, install=_forget_started_threads),
        Patch(
            "states:startExecution sends its parameters as the Step Functions API names them",
            replaces=(_SFN_NORMALISE,),
            reads=(_TO_BOTO_REQUEST,),
            install=_name_start_execution_parameters_as_the_api_does,
        ),
        Patch(
            "moto's DynamoDB applies each write request atomically",
            replaces=_DYNAMODB_WRITES,
            install=_write_items_one_at_a_time,
        ),
    ]


# --- DynamoDB: each write one atomic step, as on AWS -----------------------------------------------------

_DYNAMODB_HANDLER = "moto.dynamodb.responses"
# The request handlers that write items: each reads the item (a condition, ReturnValues) and then writes it.
_DYNAMODB_WRITES = tuple(
    Target(_DYNAMODB_HANDLER, f"DynamoHandler.{method}", signature="(self)")
    for method in ("put_item", "update_item", "delete_item", "batch_write_item", "transact_write_items")
)
_dynamodb_writes = threading.Lock()


def _write_items_one_at_a_time() -> None:
    """moto's DynamoDB evaluates a write's condition, applies it and reads its ReturnValues in separate steps with
    no lock, so two concurrent requests (the server answers each in a thread of its own) can both pass a condition
    only one of them should, or both read the same old value: presence's ADD/DELETE of live_connections would
    then announce a change twice or never. DynamoDB applies each write atomically (developer guide, "Condition
    expressions": a conditional write succeeds only if the condition holds at the time of the write). One lock
    around every write request restores that; reads are not held up."""
    for target in _DYNAMODB_WRITES:
        original = target.get()

        def locked(self, _original=original):
            with _dynamodb_writes:
                return _original(self)

        functools.update_wrapper(locked, original)
        target.replace(locked)


# --- states:startExecution: its parameters as the API names them --------------------------------------

_SFN_TASK = "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sfn"
_SFN_NORMALISE = Target(
    _SFN_TASK,
    "StateTaskServiceSfn._normalise_parameters",
    signature="(self, parameters, boto_service_name=None, service_action_name=None)",
)
_TO_BOTO_REQUEST = Target(
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service",
    "StateTaskService._to_boto_request",
    signature="(self, parameters, structure_shape)",
)


def _name_start_execution_parameters_as_the_api_does() -> None:
    """moto's ``arn:aws:states:::states:startExecution`` hands the task's parameters to boto3 as ASL names them
    (StateMachineArn, Name, Input), while the Step Functions API names them stateMachineArn, name, input: every
    such task fails with States.Runtime (a KeyError in boto3's serializer). LocalStack, whose interpreter moto
    vendors, renames them with the operation's input shape (``_to_boto_request``, present in moto but never
    called); the repair calls it."""
    original = _SFN_NORMALISE.get()
    shapes: dict[str, Any] = {}

    def _normalise_parameters(self, parameters, boto_service_name=None, service_action_name=None) -> None:
        original(self, parameters, boto_service_name, service_action_name)
        if service_action_name is not None:
            return
        action = self.resource.api_action
        if action not in shapes:
            model = botocore.session.get_session().get_service_model("stepfunctions")
            shapes[action] = model.operation_model(action[0].upper() + action[1:]).input_shape
        self._to_boto_request(parameters, shapes[action])

    _SFN_NORMALISE.replace(_normalise_parameters)
