"""boto3 clients for the local Step Functions process's moto (used by the runtime, `executions` and the tests).

Named apart from the functions' own ``chat.clients.stepfunctions_client``, which talks to AWS.
"""

import boto3
from botocore.config import Config


def local_aws_client(service: str, endpoint_url: str, region: str):
    """A client of ``service`` as the Step Functions process's moto serves it (every service it has)."""
    return boto3.client(
        service,
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id="local",
        aws_secret_access_key="local",
        config=Config(retries={"max_attempts": 2}),
    )


def local_stepfunctions_client(endpoint_url: str, region: str):
    return local_aws_client("stepfunctions", endpoint_url, region)
