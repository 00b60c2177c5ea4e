"""A handler's error is one terminal line naming where in the project it was raised; the same error again
within a few seconds (a state machine's retries of one task) is the error already shown."""

from local.awslambda.errors import REPEAT_WINDOW_SECONDS, ErrorLines
from tests.unit.local.test_gateway_throttle_and_turns import Clock

TASK_ROOT = "/tmp/cdk.out/asset.1234"


def project_path(file: str) -> str | None:
    return "lambdas/" + file.removeprefix(TASK_ROOT + "/") if file.startswith(TASK_ROOT + "/") else None


def gone(connection_id: str = "abc=") -> dict:
    return {
        "errorType": "ConnectionGone",
        "errorMessage": f"connection {connection_id} is gone",
        "stackTrace": [
            '  File "/repo/local/awslambda/bootstrap.py", line 93, in main\n    result = handler(...)\n',
            '  File "/venv/site-packages/aws_lambda_powertools/logging/logger.py", line 554, in decorate\n',
            f'  File "{TASK_ROOT}/send_connection_id.py", line 22, in handler\n    posts = post(...)\n',
            f'  File "{TASK_ROOT}/chat/connections.py", line 30, in post_frame\n    raise ConnectionGone(...)\n',
        ],
    }


def test_one_line_with_the_frames_of_the_functions_code_only():
    line = ErrorLines(project_path).line(gone())
    assert line == (
        "[ERROR] ConnectionGone: connection abc= is gone "
        "(at lambdas/send_connection_id.py:22 > lambdas/chat/connections.py:30)"
    )


def test_the_same_error_within_the_window_is_shown_once_then_again_after_it():
    clock = Clock()
    lines = ErrorLines(project_path, clock=clock)
    shown = [lines.line(gone())]
    for _ in range(2):  # the handshake's backstop retries, 1 s and 2 s later
        clock.now += 2
        shown.append(lines.line(gone()))
    shown.append(lines.line(gone("other=")))  # another connection's: another error
    clock.now += REPEAT_WINDOW_SECONDS
    shown.append(lines.line(gone()))
    assert [line is not None for line in shown] == [True, False, False, True, True]


def test_a_multiline_message_stays_on_one_line_and_a_trace_outside_the_code_has_no_location():
    payload = {
        "errorType": "ValidationError",
        "errorMessage": "1 validation error\nbody\n  Field required",
        "stackTrace": [],
    }
    assert ErrorLines(project_path).line(payload) == "[ERROR] ValidationError: 1 validation error body Field required"
