"""$connect: start the handshake workflow that tells the client its connection id.

The id cannot be posted from here: API Gateway opens the connection only after this returns.
"""

import json

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser.models import APIGatewayWebSocketConnectEventModel
from chat.clients import stepfunctions_client
from chat.execution_names import execution_name
from chat.observability import execution_trace_header, handles, logger, metrics, tracer
from chat.settings import require_env

HANDSHAKE_STATE_MACHINE_ARN = require_env("HANDSHAKE_STATE_MACHINE_ARN")
stepfunctions = stepfunctions_client()


@handles(APIGatewayWebSocketConnectEventModel)
def handler(event: APIGatewayWebSocketConnectEventModel) -> dict:
    request = event.request_context
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
