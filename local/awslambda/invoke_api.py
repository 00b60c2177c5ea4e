"""Lambda's Invoke HTTP API (what boto3's lambda client calls): Step Functions' Lambda tasks arrive here."""

import json
from collections.abc import Callable

from aiohttp import web

from local.apigateway.limits import INTEGRATION_TIMEOUT_SECONDS
from local.aws_errors import aws_error
from local.awslambda.invocation import Throttled
from local.awslambda.service import LambdaService
from local.template import FunctionSpec

# Lambda's payload limits (API reference, Invoke): 6 MB for synchronous invocations, 1 MB for
# asynchronous (Event) ones.
MAX_INVOKE_PAYLOAD_BYTES = 6 * 1024 * 1024
MAX_EVENT_PAYLOAD_BYTES = 1024 * 1024


class InvokeApi:
    def __init__(self, lambdas: LambdaService, *, find_function: Callable[[str], FunctionSpec | None]):
        self._lambdas = lambdas
        self._find_function = find_function

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post("/2015-03-31/functions/{function}/invocations", self._invoke_function)

    async def _invoke_function(self, request: web.Request) -> web.Response:
        function = self._find_function(request.match_info["function"])
        if function is None:
            message = f"Function not found: {request.match_info['function']}"
            return aws_error(404, "ResourceNotFoundException", message)
        try:
            payload = await request.read()
            event = json.loads(payload) if payload.strip() else {}
        except (ValueError, RecursionError):  # RecursionError: JSON nested deeper than the parser goes
            return aws_error(400, "InvalidRequestContentException", "Could not parse request body into json")
        invocation_type = request.headers.get("X-Amz-Invocation-Type", "RequestResponse")
        if invocation_type == "DryRun":
            return web.Response(status=204)
        if invocation_type == "Event":
            if len(payload) > MAX_EVENT_PAYLOAD_BYTES:
                message = f"{len(payload)} bytes exceed the {MAX_EVENT_PAYLOAD_BYTES} byte limit of an Event invocation"
                return aws_error(413, "RequestEntityTooLargeException", message)
            if not self._lambdas.invoke_async(function, event):
                message = f"the asynchronous invocation queue of {function.name} is full"
                return aws_error(429, "TooManyRequestsException", message)
            return web.Response(status=202)
        try:
            outcome = await self._lambdas.invoke(function, event, queue_timeout=INTEGRATION_TIMEOUT_SECONDS)
        except Throttled as error:
            return aws_error(429, "TooManyRequestsException", str(error))
        headers = {"X-Amz-Executed-Version": "$LATEST", "Content-Type": "application/json"}
        if outcome.function_error:
            headers["X-Amz-Function-Error"] = outcome.function_error
        return web.Response(status=200, body=outcome.payload_bytes, headers=headers)
