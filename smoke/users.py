"""The smoke test's own user on a stage with sign-in: created for one run, signed in, and always deleted.

The user is created with administrator credentials (AdminCreateUser, no invitation sent) and given a permanent
password (AdminSetUserPassword), so it signs in at once with USER_PASSWORD_AUTH, as `make token` and the web client
do. In the pipeline the smoke test's CodeBuild role assumes the stage's smoke-test role, which may do exactly those
administrator actions on that stage's pool and nothing else (cdk/smoke_access.py).
"""

import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from smoke.check import Identity, SmokeFailure

USERNAME_PREFIX = "smoke-"


def pool_region(user_pool_id: str) -> str:
    """A user pool id starts with its Region: ``eu-west-1_AbC123``."""
    region, separator, _ = user_pool_id.partition("_")
    if not separator or not region:
        raise SmokeFailure(f"{user_pool_id!r} is not a user pool id (<region>_<id>)")
    return region


def cognito_client(user_pool_id: str, *, role_arn: str | None = None) -> Any:
    """A cognito-idp client of the pool's Region; with ``role_arn``, as that role (the stage's smoke-test role).
    AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER (boto3's own variable for this service) points it at a local Cognito."""
    region = pool_region(user_pool_id)
    session = boto3.Session(region_name=region)
    if role_arn:
        try:
            credentials = session.client("sts").assume_role(RoleArn=role_arn, RoleSessionName="chat-smoke-test")
        except (ClientError, BotoCoreError) as error:
            raise SmokeFailure(f"cannot assume the smoke test's role {role_arn}: {error}") from None
        keys = credentials["Credentials"]
        session = boto3.Session(
            region_name=region,
            aws_access_key_id=keys["AccessKeyId"],
            aws_secret_access_key=keys["SecretAccessKey"],
            aws_session_token=keys["SessionToken"],
        )
    return session.client("cognito-idp")


def throwaway_password() -> str:
    """Random, and meeting any password policy a pool may set (lower and upper case, digits, symbols, 40+ chars)."""
    return f"{secrets.token_urlsafe(30)}aA1!"


@contextmanager
def throwaway_user(cognito: Any, *, user_pool_id: str, client_id: str) -> Iterator[Identity]:
    """A new user of the pool, signed in; deleted when the block ends, whether the test passed or not."""
    username = f"{USERNAME_PREFIX}{uuid.uuid4().hex[:16]}"
    password = throwaway_password()
    created = False
    try:
        try:
            cognito.admin_create_user(UserPoolId=user_pool_id, Username=username, MessageAction="SUPPRESS")
            created = True
            cognito.admin_set_user_password(
                UserPoolId=user_pool_id, Username=username, Password=password, Permanent=True
            )
            answer = cognito.initiate_auth(
                AuthFlow="USER_PASSWORD_AUTH",
                ClientId=client_id,
                AuthParameters={"USERNAME": username, "PASSWORD": password},
            )
        except (ClientError, BotoCoreError) as error:
            raise SmokeFailure(f"cannot sign in a throwaway user on pool {user_pool_id}: {error}") from None
        id_token = answer.get("AuthenticationResult", {}).get("IdToken")
        if not id_token:
            raise SmokeFailure(f"signing in {username} gave no ID token (challenge {answer.get('ChallengeName')})")
        yield Identity(name=username, id_token=id_token)
    finally:
        if created:
            _delete(cognito, user_pool_id=user_pool_id, username=username)


def _delete(cognito: Any, *, user_pool_id: str, username: str) -> None:
    try:
        cognito.admin_delete_user(UserPoolId=user_pool_id, Username=username)
    except (ClientError, BotoCoreError) as error:
        raise SmokeFailure(f"could not delete the throwaway user {username} of pool {user_pool_id}: {error}") from None
