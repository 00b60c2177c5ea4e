"""A boto3 Step Functions client for the local endpoint (the runtime's, `executions`', the tests')."""

import boto3
from botocore.config import Config


def stepfunctions_client(endpoint_url: str, region: str):
    return boto3.client(
        "stepfunctions",
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id="local",
        aws_secret_access_key="local",
        config=Config(retries={"max_attempts": 2}),
    )
