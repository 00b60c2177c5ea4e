"""A client's frame refused: logged with its code and reason, counted as RejectedInputs, and answered with the error
frame (status 200: a client's error is no integration error). One path for every route that refuses frames."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from chat.frames import error_frame, route_response
from chat.observability import logger, metrics
from chat.requests import InvalidRequest


def rejected(error: InvalidRequest, *, what: str, **details: Any) -> dict:
    """The route response refusing ``error``; ``what`` names the refused thing in the log line ("rejected <what>"),
    ``details`` are the error frame's fields beside the error's own."""
    logger.info(f"rejected {what}", extra={"code": error.code, "reason": str(error)})
    metrics.add_metric(name="RejectedInputs", unit=MetricUnit.Count, value=1)
    return route_response(error_frame(error.code, str(error), **error.details, **details))
