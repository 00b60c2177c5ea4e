"""The functions' AWS clients give up before the function's own timeout would, and a function whose
timeout is too short for them refuses to start instead of cutting calls off."""

import importlib.util

import on_connect
import pytest
import send_connection_id
import send_message
from chat.clients import require_within_function_timeout, worst_case_seconds
from chat.connections import OPENING_BUDGET_SECONDS
from chat.settings import ConfigurationError

from cdk.paths import LAMBDAS_DIR


def cold_start(module: str):
    """A fresh copy of lambdas/<module>.py, imported as Lambda's cold start does."""
    spec = importlib.util.spec_from_file_location(f"cold_start_{module}", LAMBDAS_DIR / f"{module}.py")
    fresh = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fresh)
    return fresh


@pytest.mark.parametrize("module", [send_message, on_connect], ids=lambda module: module.__name__)
def test_a_step_functions_call_gives_up_in_retry_budget(module):
    config = module.stepfunctions.meta.config

    assert config.retries["mode"] == "standard"
    # Two attempts of at most 1 s connect + 3 s read, and under 1 s of backoff between them.
    assert worst_case_seconds(config) == 2 * (1 + 3) + 1


def test_the_connections_client_tries_once():
    config = send_connection_id.connections.meta.config

    assert config.retries["total_max_attempts"] == 1  # the task and its state machine own the retries
    assert worst_case_seconds(config) == 1 + 3


@pytest.mark.parametrize(
    ("module", "timeout", "what"),
    [
        ("send_message", "9", "a Step Functions call can take 9 s"),
        ("on_connect", "5", "a Step Functions call can take 9 s"),
        ("send_connection_id", str(OPENING_BUDGET_SECONDS + 4), "posting to @connections can take 5.5 s"),
    ],
)
def test_a_timeout_too_short_for_the_clients_fails_at_cold_start(monkeypatch, module, timeout, what):
    monkeypatch.setenv("FUNCTION_TIMEOUT_SECONDS", timeout)

    with pytest.raises(ConfigurationError, match=f"{what}, not less than the function's timeout") as raised:
        cold_start(module)

    assert f"FUNCTION_TIMEOUT_SECONDS={timeout}" in str(raised.value)


@pytest.mark.parametrize("module", ["send_message", "on_connect", "send_connection_id"])
def test_a_timeout_with_room_for_the_clients_starts(monkeypatch, module):
    monkeypatch.setenv("FUNCTION_TIMEOUT_SECONDS", "9.5" if module != "send_connection_id" else "6")

    assert cold_start(module).handler


@pytest.mark.parametrize("value", ["", "ten", "0", "-3"])
def test_a_missing_or_malformed_timeout_is_named(monkeypatch, value):
    monkeypatch.setenv("FUNCTION_TIMEOUT_SECONDS", value)

    with pytest.raises(ConfigurationError, match="FUNCTION_TIMEOUT_SECONDS must be"):
        require_within_function_timeout(1, "a call")
