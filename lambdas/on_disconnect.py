"""$disconnect: record why a connection closed, and start the workflow that removes it from the registry.

API Gateway delivers $disconnect on a best-effort basis, so the registry does not rely on it alone: a post that
answers 410 removes the connection too (message_fanout), and its item expires (DynamoDB TTL).
"""

import json

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser.models import APIGatewayWebSocketDisconnectEventModel
from chat.clients import stepfunctions_client
from chat.execution_names import execution_name
from chat.observability import execution_trace_header, handles, logger, metrics, tracer
from chat.settings import require_env

CLEANUP_STATE_MACHINE_ARN = require_env("CLEANUP_STATE_MACHINE_ARN")
stepfunctions = stepfunctions_client()


@handles(APIGatewayWebSocketDisconnectEventModel)
def handler(event: APIGatewayWebSocketDisconnectEventModel) -> dict:
    request = event.request_context
    logger.info(
        "connection closed",
        extra={"status_code": request.disconnect_status_code, "reason": request.disconnect_reason},
    )
    metrics.add_metric(name="Disconnections", unit=MetricUnit.Count, value=1)
    start_cleanup(connection_id=request.connection_id, request_id=request.request_id)
    return {"statusCode": 200}


@tracer.capture_method
def start_cleanup(*, connection_id: str, request_id: str) -> str:
    execution = stepfunctions.start_execution(
        stateMachineArn=CLEANUP_STATE_MACHINE_ARN,
        name=execution_name(connection_id, request_id),
        # Closed: gone whenever it was registered (the fan-out's 410 path names a time instead).
        input=json.dumps({"connection_id": connection_id, "registered_before": None}),
        **execution_trace_header(),
    )
    logger.info("cleanup started", extra={"execution_arn": execution["executionArn"]})
    return execution["executionArn"]
