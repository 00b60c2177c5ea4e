"""The AWS clients of the functions, bounded so that a slow or unreachable service answers within the
function's timeout instead of timing the function out.

The timeout is the stack's (FUNCTION_TIMEOUT_SECONDS, set from cdk/functions.py); each client checks at
cold start that its worst case fits in it, so a shorter timeout fails loudly instead of cutting calls off.
Step Functions, worst case: every attempt waits the whole connect and read timeout, plus standard mode's
backoff before the retry (under 1 s): 2 x (1 + 3) + 1 = 9 s. @connections: one try (1 + 3 s), after the
caller's own waiting. The state machines own those retries (429 with backoff), so each one shows in the
execution history and no retry loop eats into the function's timeout. The user directory (DynamoDB, Cognito):
one try each (1 + 1 s), whose answers take milliseconds; sendMessage checks its recipients (the users table,
then Cognito for the names not there, in parallel) before it starts the fan-out, so its worst case is the sum
of the three: 2 + 2 + 9 s.
"""

from typing import Any

import boto3
from botocore.config import Config

from chat.settings import ConfigurationError, require_positive_number

FUNCTION_TIMEOUT_VARIABLE = "FUNCTION_TIMEOUT_SECONDS"
# Standard retry mode waits under 1 s before a retry (under 50 ms unless throttled).
FIRST_BACKOFF_BOUND_SECONDS = 1

STEPFUNCTIONS_CONFIG = Config(
    connect_timeout=1,
    read_timeout=3,
    retries={"mode": "standard", "total_max_attempts": 2},
)


CONNECTIONS_CONFIG = Config(connect_timeout=1, read_timeout=3, retries={"total_max_attempts": 1})

DIRECTORY_CONFIG = Config(connect_timeout=1, read_timeout=1, retries={"mode": "standard", "total_max_attempts": 1})


def worst_case_seconds(config: Config) -> float:
    """The longest one call through a client with ``config`` can take before it gives up."""
    attempts = config.retries["total_max_attempts"]
    return attempts * (config.connect_timeout + config.read_timeout) + (attempts - 1) * FIRST_BACKOFF_BOUND_SECONDS


def require_within_function_timeout(seconds: float, what: str) -> None:
    """Raises ConfigurationError when ``seconds`` would not end before the function's timeout."""
    timeout = require_positive_number(FUNCTION_TIMEOUT_VARIABLE)
    if seconds >= timeout:
        raise ConfigurationError(
            f"{what} can take {seconds:g} s, not less than the function's timeout ({FUNCTION_TIMEOUT_VARIABLE}="
            f"{timeout:g}): raise the timeout (cdk/functions.py) or lower the client's bounds (chat/clients.py)"
        )


def stepfunctions_client() -> Any:
    require_within_function_timeout(worst_case_seconds(STEPFUNCTIONS_CONFIG), "a Step Functions call")
    return boto3.client("stepfunctions", config=STEPFUNCTIONS_CONFIG)


def directory_clients() -> tuple[Any, Any]:
    """DynamoDB and Cognito's user pools API, as sendMessage reads the users (chat/directory.py) before it
    starts the fan-out: both lookups and the start must fit in the function's timeout."""
    worst_case = 2 * worst_case_seconds(DIRECTORY_CONFIG) + worst_case_seconds(STEPFUNCTIONS_CONFIG)
    require_within_function_timeout(worst_case, "checking the recipients, then starting the fan-out")
    return boto3.client("dynamodb", config=DIRECTORY_CONFIG), boto3.client("cognito-idp", config=DIRECTORY_CONFIG)


def connections_client(callback_url: str, *, waiting_seconds: float = 0) -> Any:
    """API Gateway's @connections API of one stage (its callback URL). ``waiting_seconds``: how long the
    caller may spend (posting again, pausing) before its last post."""
    worst_case = waiting_seconds + worst_case_seconds(CONNECTIONS_CONFIG)
    require_within_function_timeout(worst_case, "posting to @connections")
    return boto3.client("apigatewaymanagementapi", endpoint_url=callback_url, config=CONNECTIONS_CONFIG)
