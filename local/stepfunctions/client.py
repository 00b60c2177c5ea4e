"""A boto3 client for the local Step Functions endpoint (used by the runtime, `executions` and the tests).

Named apart from the functions' own ``chat.clients.stepfunctions_client``, which talks to AWS.
"""

import boto3
from botocore.config import Config


def local_stepfunctions_client(endpoint_url: str, region: str):
    return boto3.client(
        "stepfunctions",
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id="local",
        aws_secret_access_key="local",
        config=Config(retries={"max_attempts": 2}),
    )
