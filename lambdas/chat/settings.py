"""Configuration read from the environment once, at cold start, so a bad deployment fails loudly."""

import os


class ConfigurationError(RuntimeError):
    """A required environment variable is missing or malformed."""


def require_env(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise ConfigurationError(f"environment variable {name} must be set")
    return value


def require_http_url(name: str) -> str:
    value = require_env(name)
    if not value.startswith(("https://", "http://")):
        raise ConfigurationError(f"environment variable {name} must be an http(s) URL, got {value!r}")
    return value.rstrip("/")


def require_positive_number(name: str) -> float:
    value = require_env(name)
    try:
        number = float(value)
    except ValueError:
        number = 0
    if not number > 0:
        raise ConfigurationError(f"environment variable {name} must be a positive number, got {value!r}")
    return number


def require_names(name: str) -> tuple[str, ...]:
    """A comma-separated list of one or more names."""
    names = tuple(part.strip() for part in require_env(name).split(","))
    if not all(names):
        raise ConfigurationError(f"environment variable {name} must list names separated by commas, got {names!r}")
    return names
