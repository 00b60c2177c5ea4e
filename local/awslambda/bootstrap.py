"""One warm Lambda execution environment: imports a handler once, then runs invocations one at a time.

Started by the Lambda service as ``python bootstrap.py MODULE.FUNCTION`` with the function's
environment, in its code asset (LAMBDA_TASK_ROOT), which comes first on sys.path as in Lambda.
Requests arrive as JSON lines on stdin; answers go as JSON lines on the original stdout, which is
then pointed at stderr so that everything the handler prints or logs reaches the terminal and can
never corrupt the protocol.
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


def main(handler_path: str) -> None:
    protocol = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8", buffering=1)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())

    def answer(message: dict[str, Any]) -> None:
        protocol.write(json.dumps(message, default=str) + "\n")

    module_name, _, function_name = handler_path.rpartition(".")
    try:
        handler = getattr(importlib.import_module(module_name), function_name)
    except Exception as error:  # any import failure is the function's init error
        traceback.print_exc()
        answer({"ready": False, "error": error_payload(error, "Runtime.ImportModuleError")})
        return
    answer({"ready": True})

    for line in sys.stdin:
        request = json.loads(line)
        try:
            result = handler(request["event"], LambdaContext(request))
            answer({"ok": True, "result": result})
        except Exception as error:  # a handler error goes back to the caller, as in Lambda
            traceback.print_exc()
            answer({"ok": False, "error": error_payload(error)})
        sys.stdout.flush()


if __name__ == "__main__":
    sys.path[0] = os.environ["LAMBDA_TASK_ROOT"]
    main(sys.argv[1])
