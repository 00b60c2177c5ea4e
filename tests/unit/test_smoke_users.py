"""The smoke test's throwaway user (smoke/users.py) on moto's Cognito: created, signed in with a real ID token,
and deleted whether the test passed or failed; the pool's Region comes from its id."""

import jwt
import pytest
from moto import mock_aws

from smoke.check import SmokeFailure
from smoke.users import USERNAME_PREFIX, cognito_client, pool_region, throwaway_password, throwaway_user
from tests.conftest import REGION


@pytest.fixture
def pool():
    """A pool and app client as the stack makes them: usernames, USER_PASSWORD_AUTH, a strict password policy."""
    with mock_aws():
        cognito = cognito_client(f"{REGION}_placeholder")
        pool_id = cognito.create_user_pool(
            PoolName="chat-dev",
            Policies={
                "PasswordPolicy": {
                    "MinimumLength": 12,
                    "RequireLowercase": True,
                    "RequireUppercase": True,
                    "RequireNumbers": True,
                    "RequireSymbols": True,
                }
            },
        )["UserPool"]["Id"]
        client_id = cognito.create_user_pool_client(
            UserPoolId=pool_id,
            ClientName="web",
            ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        )["UserPoolClient"]["ClientId"]
        yield cognito, pool_id, client_id


def usernames(cognito, pool_id: str) -> list[str]:
    return [user["Username"] for user in cognito.list_users(UserPoolId=pool_id)["Users"]]


def test_the_throwaway_user_signs_in_with_an_id_token_naming_it_and_is_deleted_afterwards(pool):
    cognito, pool_id, client_id = pool

    with throwaway_user(cognito, user_pool_id=pool_id, client_id=client_id) as user:
        assert user.name.startswith(USERNAME_PREFIX)
        assert usernames(cognito, pool_id) == [user.name]
        claims = jwt.decode(user.id_token, options={"verify_signature": False})
        assert claims["cognito:username"] == user.name
        assert claims["token_use"] == "id"
        assert claims["aud"] == client_id
        assert cognito.admin_get_user(UserPoolId=pool_id, Username=user.name)["UserStatus"] == "CONFIRMED"

    assert usernames(cognito, pool_id) == []


def test_the_user_is_deleted_when_the_test_fails(pool):
    cognito, pool_id, client_id = pool

    with (
        pytest.raises(SmokeFailure, match="no message"),
        throwaway_user(cognito, user_pool_id=pool_id, client_id=client_id),
    ):
        raise SmokeFailure("no message")

    assert usernames(cognito, pool_id) == []


def test_a_user_that_cannot_sign_in_is_deleted_and_the_failure_names_the_pool(pool):
    cognito, pool_id, _ = pool

    with (
        pytest.raises(SmokeFailure, match=f"cannot sign in a throwaway user on pool {pool_id}"),
        throwaway_user(cognito, user_pool_id=pool_id, client_id="no-such-client"),
    ):
        pass

    assert usernames(cognito, pool_id) == []


def test_a_pool_that_does_not_exist_is_a_clear_failure():
    with mock_aws():
        cognito = cognito_client(f"{REGION}_placeholder")
        with (
            pytest.raises(SmokeFailure, match=f"on pool {REGION}_Missing"),
            throwaway_user(cognito, user_pool_id=f"{REGION}_Missing", client_id="c"),
        ):
            pass


def test_the_pool_id_names_its_region():
    assert pool_region("eu-west-1_AbC123") == "eu-west-1"
    for bad in ("", "AbC123", "_AbC123"):
        with pytest.raises(SmokeFailure, match="is not a user pool id"):
            pool_region(bad)


def test_throwaway_passwords_differ_and_meet_any_policy():
    passwords = {throwaway_password() for _ in range(20)}
    assert len(passwords) == 20
    for password in passwords:
        assert len(password) >= 40
        assert any(c.islower() for c in password) and any(c.isupper() for c in password)
        assert any(c.isdigit() for c in password) and any(not c.isalnum() for c in password)
