"""$connect: start the handshake workflow, which registers the connection and tells the client its id.

The id cannot be posted from here: API Gateway opens the connection only after this returns. On a stage with
sign-in, the user the authorizer verified travels in the workflow's input (registry item, connection frame).
"""

import json

from aws_lambda_powertools.metrics import MetricUnit
from chat.clients import stepfunctions_client
from chat.connections import REGISTRATION_SECONDS
from chat.events import ConnectEvent
from chat.execution_names import execution_name
from chat.observability import execution_trace_header, handles, logger, metrics, tracer
from chat.settings import require_env
from chat.users import User, signed_in

HANDSHAKE_STATE_MACHINE_ARN = require_env("HANDSHAKE_STATE_MACHINE_ARN")
stepfunctions = stepfunctions_client()


@handles(ConnectEvent)
def handler(event: ConnectEvent) -> dict:
    request = event.request_context
    identity = signed_in(request.authorizer)
    start_handshake(
        connection_id=request.connection_id,
        request_id=request.request_id,
        connected_at=int(request.connected_at.timestamp()),
        user=identity.user if identity else None,
    )
    metrics.add_metric(name="Connections", unit=MetricUnit.Count, value=1)
    return {"statusCode": 200}


def handshake_input(*, connection_id: str, connected_at: int, user: User | None) -> dict:
    """What connection_handshake registers and tells the client. ``connected_at`` is API Gateway's (the same in
    every retry of this invocation), so the registry item a repeated execution writes is the same item."""
    return {
        "connection_id": connection_id,
        "connected_at": connected_at,
        "expires_at": connected_at + REGISTRATION_SECONDS,
        # null on a stage without sign-in (ASL tests a null; a missing field would be an error to it)
        "user": user.as_frame() if user else None,
        "username_key": user.key if user else None,
    }


@tracer.capture_method
def start_handshake(*, connection_id: str, request_id: str, connected_at: int, user: User | None) -> str:
    execution = stepfunctions.start_execution(
        stateMachineArn=HANDSHAKE_STATE_MACHINE_ARN,
        name=execution_name(connection_id, request_id),
        input=json.dumps(handshake_input(connection_id=connection_id, connected_at=connected_at, user=user)),
        **execution_trace_header(),
    )
    logger.info(
        "handshake started",
        extra={"execution_arn": execution["executionArn"], **({"username": user.name} if user else {})},
    )
    return execution["executionArn"]
