"""$connect: start the handshake workflow that tells the client its connection id.

The id cannot be posted from here: API Gateway opens the connection only after this returns.
"""

import json

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import APIGatewayWebSocketConnectEventModel
from aws_lambda_powertools.utilities.typing import LambdaContext
from chat.clients import stepfunctions_client
from chat.execution_names import execution_name
from chat.observability import execution_trace_header, logger, metrics, tracer
from chat.settings import require_env

HANDSHAKE_STATE_MACHINE_ARN = require_env("HANDSHAKE_STATE_MACHINE_ARN")
stepfunctions = stepfunctions_client()


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    request = parse(event=event, model=APIGatewayWebSocketConnectEventModel).request_context
    logger.set_correlation_id(request.connection_id)
    start_handshake(connection_id=request.connection_id, request_id=request.request_id)
    metrics.add_metric(name="Connections", unit=MetricUnit.Count, value=1)
    return {"statusCode": 200}


@tracer.capture_method
def start_handshake(*, connection_id: str, request_id: str) -> str:
    execution = stepfunctions.start_execution(
        stateMachineArn=HANDSHAKE_STATE_MACHINE_ARN,
        name=execution_name(connection_id, request_id),
        input=json.dumps({"connection_id": connection_id}),
        **execution_trace_header(),
    )
    logger.info("handshake started", extra={"execution_arn": execution["executionArn"]})
    return execution["executionArn"]
