"""The functions' AWS clients give up before the function's own timeout would."""

import re
from pathlib import Path

import on_connect
import pytest
import send_connection_id
import send_message
from chat.clients import FUNCTION_TIMEOUT_SECONDS

PROJECT_ROOT = Path(__file__).resolve().parents[2]

# Standard mode waits under 1 s before the first retry (under 50 ms unless throttled).
FIRST_BACKOFF_BOUND_SECONDS = 1


def test_function_timeout_is_the_deployed_one():
    functions = (PROJECT_ROOT / "cdk" / "functions.py").read_text(encoding="utf-8")

    assert re.findall(r"timeout=Duration\.seconds\((\d+)\)", functions) == [str(FUNCTION_TIMEOUT_SECONDS)]


@pytest.mark.parametrize("module", [send_message, on_connect], ids=lambda module: module.__name__)
def test_step_functions_client_cannot_outlast_the_function(module):
    config = module.stepfunctions.meta.config

    assert config.retries == {"mode": "standard", "total_max_attempts": 2}
    attempts = config.retries["total_max_attempts"]
    worst_case = (
        attempts * (config.connect_timeout + config.read_timeout) + (attempts - 1) * FIRST_BACKOFF_BOUND_SECONDS
    )
    assert worst_case < FUNCTION_TIMEOUT_SECONDS


def test_connections_client_tries_once_within_the_function_timeout():
    config = send_connection_id.connections.meta.config

    assert config.retries["total_max_attempts"] == 1  # the task and its state machine own the retries
    assert config.connect_timeout + config.read_timeout < FUNCTION_TIMEOUT_SECONDS
