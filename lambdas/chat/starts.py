"""Starting the workflow that does a request's work: an execution named for it, carrying the trace header; when it
cannot start (an error answer, or none in time), the caller is told at once (``not_sent``, 503: the integration
failed, not the client)."""

import json
import uuid

from botocore.exceptions import BotoCoreError, ClientError

from chat.frames import error_frame, route_response
from chat.observability import execution_trace_header, logger


def start_or_refuse(stepfunctions, *, state_machine_arn: str, execution_input: dict, what: str) -> dict | None:
    """Starts ``state_machine_arn`` with ``execution_input``; None when it started, else the route response saying
    that ``what`` (e.g. "the history") could not be read."""
    try:
        stepfunctions.start_execution(
            stateMachineArn=state_machine_arn,
            name=str(uuid.uuid4()),
            input=json.dumps(execution_input),
            **execution_trace_header(),
        )
    except (ClientError, BotoCoreError):
        logger.exception(f"could not start the workflow reading {what}")
        return route_response(error_frame("not_sent", f"{what} could not be read; please try again"), status_code=503)
    return None
