"""One Logger, Tracer and Metrics for the whole code asset, configured by POWERTOOLS_* variables."""

import os

from aws_lambda_powertools import Logger, Metrics, Tracer

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
