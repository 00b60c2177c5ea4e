"""moto's Cognito (with IAM and STS) on a loopback port of its own, with one user pool and app client as the stack
makes them: for the clients that talk to Cognito themselves (the web client, the smoke test's throwaway user)."""

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import boto3
from moto.server import ThreadedMotoServer

from tests.conftest import REGION


@dataclass(frozen=True)
class CognitoServer:
    endpoint: str
    user_pool_id: str
    client_id: str

    def client(self, service: str = "cognito-idp"):
        return boto3.client(service, endpoint_url=self.endpoint, region_name=REGION)


@contextlib.contextmanager
def cognito_server() -> Iterator[CognitoServer]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}/"
        cognito = boto3.client("cognito-idp", endpoint_url=endpoint, region_name=REGION)
        pool_id = cognito.create_user_pool(PoolName="chat-test")["UserPool"]["Id"]
        client_id = cognito.create_user_pool_client(
            UserPoolId=pool_id,
            ClientName="app",
            ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        )["UserPoolClient"]["ClientId"]
        yield CognitoServer(endpoint=endpoint, user_pool_id=pool_id, client_id=client_id)
    finally:
        server.stop()
