"""One Logger, Tracer and Metrics for the whole code asset, configured by POWERTOOLS_* variables, and the
preamble every handler shares (``handles``)."""

import functools
import os
from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from chat.settings import require_env

logger = Logger()
tracer = Tracer()
metrics = Metrics()
# Stages that share an account share the metrics namespace: the stage dimension keeps their alarms apart.
metrics.set_default_dimensions(stage=require_env("STAGE"))

# StartExecution's traceHeader: at most 256 ASCII characters (Step Functions API reference).
MAX_TRACE_HEADER_LENGTH = 256


def execution_trace_header() -> dict[str, str]:
    """StartExecution's ``traceHeader`` argument, so the execution continues this invocation's X-Ray trace.

    Lambda sets _X_AMZN_TRACE_ID for each invocation; outside Lambda (tests, the local runtime) there is none.
    AWS asks functions that start executions with an SDK to pass it ("AWS X-Ray and Step Functions",
    https://docs.aws.amazon.com/step-functions/latest/dg/concepts-xray-tracing.html).
    """
    header = os.environ.get("_X_AMZN_TRACE_ID", "")
    if not header or len(header) > MAX_TRACE_HEADER_LENGTH or not header.isascii():
        return {}
    return {"traceHeader": header}


Event = TypeVar("Event", bound=BaseModel)


def websocket_connection_id(event: Any) -> str:
    """The connection of an API Gateway WebSocket event (connect, disconnect or message)."""
    return event.request_context.connection_id


def handles(
    model: type[Event],
    *,
    connection_id: Callable[[Event], str] = websocket_connection_id,
    publishes_metrics: bool = True,
) -> Callable[[Callable[[Event], dict]], Callable[[dict, LambdaContext], dict]]:
    """Makes ``work(event)`` a Lambda handler: Lambda's context in every log line, the invocation traced,
    metrics published when it returns (unless ``publishes_metrics`` is False), the event parsed with
    ``model`` (a malformed event fails the invocation), and its connection id as the correlation id and
    the ``connection_id`` key of every line. Both are set on every call: a warm function keeps keys
    between calls."""

    def decorate(work: Callable[[Event], dict]) -> Callable[[dict, LambdaContext], dict]:
        @functools.wraps(work)
        def handler(event: dict, context: LambdaContext) -> dict:
            parsed = parse(event=event, model=model)
            connection = connection_id(parsed)
            logger.set_correlation_id(connection)
            logger.append_keys(connection_id=connection)
            return work(parsed)

        with_metrics = metrics.log_metrics(handler) if publishes_metrics else handler
        return logger.inject_lambda_context(log_event=False)(tracer.capture_lambda_handler(with_metrics))

    return decorate
