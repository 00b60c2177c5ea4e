"""Configuration comes from the environment and fails loudly, naming the variable, when it is wrong."""

import importlib.util

import pytest
from chat.settings import ConfigurationError, require_env, require_http_url, require_names

from cdk.paths import LAMBDAS_DIR


def test_require_env_returns_the_value_trimmed(monkeypatch):
    monkeypatch.setenv("CHAT_TEST_SETTING", "  value \n")

    assert require_env("CHAT_TEST_SETTING") == "value"


@pytest.mark.parametrize("value", [None, "", "   "])
def test_require_env_names_the_missing_variable(monkeypatch, value):
    if value is None:
        monkeypatch.delenv("CHAT_TEST_SETTING", raising=False)
    else:
        monkeypatch.setenv("CHAT_TEST_SETTING", value)

    with pytest.raises(ConfigurationError, match="CHAT_TEST_SETTING must be set"):
        require_env("CHAT_TEST_SETTING")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://abc.execute-api.us-east-1.amazonaws.com/dev", "https://abc.execute-api.us-east-1.amazonaws.com/dev"),
        ("https://abc.execute-api.us-east-1.amazonaws.com/dev/", "https://abc.execute-api.us-east-1.amazonaws.com/dev"),
        ("http://127.0.0.1:3001/local", "http://127.0.0.1:3001/local"),
    ],
)
def test_require_http_url_accepts_http_urls_without_trailing_slash(monkeypatch, value, expected):
    monkeypatch.setenv("CHAT_TEST_URL", value)

    assert require_http_url("CHAT_TEST_URL") == expected


@pytest.mark.parametrize("value", ["abc.execute-api.us-east-1.amazonaws.com/dev", "wss://abc/dev", "ftp://x"])
def test_require_http_url_rejects_other_values_and_shows_them(monkeypatch, value):
    monkeypatch.setenv("CHAT_TEST_URL", value)

    with pytest.raises(ConfigurationError, match="CHAT_TEST_URL must be an http") as raised:
        require_http_url("CHAT_TEST_URL")

    assert value in str(raised.value)


def test_require_http_url_reports_a_missing_variable(monkeypatch):
    monkeypatch.delenv("CHAT_TEST_URL", raising=False)

    with pytest.raises(ConfigurationError, match="CHAT_TEST_URL must be set"):
        require_http_url("CHAT_TEST_URL")


def test_require_names_splits_a_comma_separated_list(monkeypatch):
    monkeypatch.setenv("CHAT_TEST_NAMES", " sendMessage, setName ")

    assert require_names("CHAT_TEST_NAMES") == ("sendMessage", "setName")


@pytest.mark.parametrize("value", ["sendMessage,", ",", "a,,b"])
def test_require_names_rejects_empty_names(monkeypatch, value):
    monkeypatch.setenv("CHAT_TEST_NAMES", value)

    with pytest.raises(ConfigurationError, match="CHAT_TEST_NAMES must list names"):
        require_names("CHAT_TEST_NAMES")


@pytest.mark.parametrize(
    ("module", "variable"),
    [
        ("on_connect", "HANDSHAKE_STATE_MACHINE_ARN"),
        ("send_message", "FANOUT_STATE_MACHINE_ARN"),
        ("send_connection_id", "CALLBACK_URL"),
        ("send_connection_id", "FUNCTION_TIMEOUT_SECONDS"),
        ("on_default", "VALID_ACTIONS"),
    ],
)
def test_a_handler_without_its_configuration_fails_at_cold_start(monkeypatch, module, variable):
    """Loaded as a fresh copy, so the module the other tests use stays as it is."""
    monkeypatch.delenv(variable)
    spec = importlib.util.spec_from_file_location(f"cold_start_{module}", LAMBDAS_DIR / f"{module}.py")
    fresh = importlib.util.module_from_spec(spec)

    with pytest.raises(ConfigurationError, match=variable):
        spec.loader.exec_module(fresh)
