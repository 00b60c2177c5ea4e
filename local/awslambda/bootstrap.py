"""One warm Lambda execution environment: imports a handler once, then runs invocations one at a time.

Started by the Lambda service as ``python bootstrap.py MODULE.FUNCTION`` with the function's
environment, in its code asset (LAMBDA_TASK_ROOT), which comes first on sys.path as in Lambda.
Requests arrive as JSON lines on stdin; answers go as JSON lines on the original stdout, which is
then pointed at stderr so that everything the handler prints or logs reaches the terminal and can
never corrupt the protocol.

A handler that cannot be loaded answers ``{"ready": false}`` with the init error as Lambda's Python
runtime (awslambdaric's bootstrap) words it, and where in the user's code it happened. A handler's
error goes back in its answer, stack trace included; the runtime prints it.
"""

import importlib
import json
import os
import sys
import time
import traceback
from typing import Any


class LambdaContext:
    def __init__(self, request: dict[str, Any]):
        self.function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = "$LATEST"
        self.invoked_function_arn = request["function_arn"]
        self.memory_limit_in_mb = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"))
        self.aws_request_id = request["request_id"]
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = "local"
        self.identity = None
        self.client_context = None
        self._deadline = request["deadline"]

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.time()) * 1000))


def error_payload(error: BaseException, error_type: str | None = None) -> dict[str, Any]:
    return {
        "errorMessage": str(error),
        "errorType": error_type or type(error).__name__,
        "requestId": "",
        "stackTrace": traceback.format_exception(error)[1:],
    }


def init_error(error: BaseException, module_name: str) -> dict[str, Any]:
    """Lambda's errorType and errorMessage for a handler that failed to load (awslambdaric's wording)."""
    if isinstance(error, SyntaxError):
        return error_payload(error, "Runtime.UserCodeSyntaxError") | {
            "errorMessage": f"Syntax error in module '{module_name}': {error}"
        }
    if isinstance(error, ImportError):
        return error_payload(error, "Runtime.ImportModuleError") | {
            "errorMessage": f"Unable to import module '{module_name}': {error}"
        }
    return error_payload(error)  # an exception raised by the module's own code: Lambda reports its type


def error_location(error: BaseException) -> tuple[str, int] | None:
    """The file and line in the function's code where loading it failed (None when outside it)."""
    if isinstance(error, SyntaxError) and error.filename and error.lineno:
        return error.filename, error.lineno
    task_root = os.environ["LAMBDA_TASK_ROOT"]
    frames = [frame for frame in traceback.extract_tb(error.__traceback__) if frame.filename.startswith(task_root)]
    return (frames[-1].filename, frames[-1].lineno or 0) if frames else None


def main(handler_path: str) -> None:
    protocol = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8", buffering=1)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())

    def answer(message: dict[str, Any]) -> None:
        protocol.write(json.dumps(message, default=str) + "\n")

    module_name, _, function_name = handler_path.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except Exception as error:  # any failure to import the handler's module is the function's init error
        answer({"ready": False, "error": init_error(error, module_name), "at": error_location(error)})
        return
    handler = getattr(module, function_name, None)
    if not callable(handler):
        message = f"Handler '{function_name}' missing on module '{module_name}'"
        answer({"ready": False, "error": {"errorMessage": message, "errorType": "Runtime.HandlerNotFound"}})
        return
    answer({"ready": True})

    for line in sys.stdin:
        request = json.loads(line)
        try:
            result = handler(request["event"], LambdaContext(request))
            answer({"ok": True, "result": result})
        except Exception as error:  # a handler error goes back to the caller, as in Lambda
            answer({"ok": False, "error": error_payload(error)})  # the runtime prints it (local.awslambda.errors)
        sys.stdout.flush()


if __name__ == "__main__":
    sys.path[0] = os.environ["LAMBDA_TASK_ROOT"]
    main(sys.argv[1])
