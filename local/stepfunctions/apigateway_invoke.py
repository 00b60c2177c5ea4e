"""Repairs moto 5.2.5's ``arn:aws:states:::apigateway:invoke`` task, which message_fanout posts with.

moto vendors LocalStack's interpreter, and in 5.2.5 this one integration lags the code around it:

- it lists only ApiEndpoint and Method as supported parameters, and the engine drops every parameter
  not listed, so Stage, Path, RequestBody, Headers, QueryParameters and AuthType never arrive: every
  request goes to ``{ApiEndpoint}/_user_request_/`` with no body;
- the engine calls ``_eval_service_task(..., state_credentials=...)`` but the integration's parameter is
  named ``task_credentials``, so every invoke fails with a TypeError (States.Runtime);
- its ``_from_error`` builds a ``FailureEvent`` without the ``env`` argument, so every non-200 answer
  fails the execution instead of failing the task with ``ApiGateway.<status>``, the error name AWS
  documents for the integration ("Call API Gateway with Step Functions", Error handling).

Both are fixed here, with the integration's own behaviour otherwise unchanged. ``apply()`` refuses to
run on another moto version or when a target moved, rather than silently running the broken code.
"""

from typing import Any

import moto

from local.stepfunctions.tuning import MOTO_VERSION, TuningError


def apply() -> None:
    if moto.__version__ != MOTO_VERSION:
        raise TuningError(
            f"{__name__} repairs moto {MOTO_VERSION}'s apigateway:invoke, found moto {moto.__version__}: "
            "check whether the repair is still needed, then update or delete it"
        )
    from moto.stepfunctions.parser.api import HistoryEventType, TaskFailedEventDetails
    from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import CustomErrorName
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEvent
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_api_gateway as integration,
    )
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails

    task = integration.StateTaskServiceApiGateway
    if getattr(task, "_repaired", False):
        return
    invoke = integration.SupportedApiCalls.invoke
    if task._SUPPORTED_API_PARAM_BINDINGS.get(invoke) != {"ApiEndpoint", "Method"}:
        raise TuningError(f"{__name__}: moto's apigateway:invoke parameters changed; review the repair")
    # The request parameters the Step Functions developer guide documents for apigateway:invoke.
    task._SUPPORTED_API_PARAM_BINDINGS = {
        **task._SUPPORTED_API_PARAM_BINDINGS,
        invoke: {"ApiEndpoint", "Method", "Headers", "Stage", "Path", "QueryParameters", "RequestBody", "AuthType"},
    }
    original_eval = task._eval_service_task

    def _eval_service_task(self, env, resource_runtime_part, normalised_parameters, state_credentials) -> None:
        original_eval(self, env, resource_runtime_part, normalised_parameters, state_credentials)

    def _from_error(self, env, ex: Exception) -> Any:
        if isinstance(ex, integration.SfnGatewayException):
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

    task._eval_service_task = _eval_service_task
    task._from_error = _from_error
    task._repaired = True
