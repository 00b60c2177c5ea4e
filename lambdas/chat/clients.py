"""The Step Functions client of the route functions, bounded so that a slow or unreachable Step Functions
answers within the function's 10 s timeout (cdk/functions.py) instead of timing the function out.

Worst case: every attempt waits the whole connect and read timeout, plus standard mode's backoff between
attempts (under 1 s before the first retry): 2 x (1 + 3) + 1 = 9 s < 10 s.
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


def stepfunctions_client() -> Any:
    return boto3.client("stepfunctions", config=STEPFUNCTIONS_CONFIG)
