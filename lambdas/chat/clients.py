"""The AWS clients of the functions, bounded so that a slow or unreachable service answers within the
function's 10 s timeout (cdk/functions.py) instead of timing the function out.

Step Functions, worst case: every attempt waits the whole connect and read timeout, plus standard mode's
backoff between attempts (under 1 s before the first retry): 2 x (1 + 3) + 1 = 9 s < 10 s.
@connections: one try (1 + 3 s). The state machines own those retries (429 with backoff), so each one
shows in the execution history and no retry loop eats into the function's timeout.
"""

from typing import Any

import boto3
from botocore.config import Config

FUNCTION_TIMEOUT_SECONDS = 10

STEPFUNCTIONS_CONFIG = Config(
    connect_timeout=1,
    read_timeout=3,
    retries={"mode": "standard", "total_max_attempts": 2},
)


CONNECTIONS_CONFIG = Config(connect_timeout=1, read_timeout=3, retries={"total_max_attempts": 1})


def stepfunctions_client() -> Any:
    return boto3.client("stepfunctions", config=STEPFUNCTIONS_CONFIG)


def connections_client(callback_url: str) -> Any:
    """API Gateway's @connections API of one stage (its callback URL)."""
    return boto3.client("apigatewaymanagementapi", endpoint_url=callback_url, config=CONNECTIONS_CONFIG)
