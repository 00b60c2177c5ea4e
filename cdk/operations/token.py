"""``make token STAGE=dev USERNAME=alice``: an ID token of a deployed stage's user, for ``wscat -c "wss://…?token=…"``.

It asks for the password (never an argument: it would stay in the shell's history), signs in with Cognito's
InitiateAuth (USER_PASSWORD_AUTH, which the stage's app client allows) on the pool and app client the stack
``Chat-<stage>`` outputs (UserPoolId, UserPoolClientId), and prints the ID token alone on stdout, so that
``TOKEN=$(make token ...)`` works; everything else goes to stderr. A user an administrator created signs in
with a temporary password once: it then asks for a new one (Cognito's NEW_PASSWORD_REQUIRED challenge).

The stage's credentials and region are the ones ``make deploy`` uses (AWS_REGION, else the profile's).
"""

import argparse
import getpass
import sys
from collections.abc import Callable, Sequence

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from cdk.names import stack_name_for
from cdk.operations.preflight import default_session

USER_POOL_OUTPUT = "UserPoolId"
CLIENT_OUTPUT = "UserPoolClientId"


class TokenError(Exception):
    """No token: the message says why, and what to do."""


def sign_in_settings(cloudformation, stage: str) -> tuple[str, str]:
    """The user pool id and app client id the stage's stack outputs."""
    stack_name = stack_name_for(stage)
    try:
        (stack,) = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as error:
        if "does not exist" in error.response.get("Error", {}).get("Message", ""):
            raise TokenError(f"stack {stack_name} is not deployed here: make deploy STAGE={stage} first") from None
        raise
    outputs = {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}
    if USER_POOL_OUTPUT not in outputs or CLIENT_OUTPUT not in outputs:
        raise TokenError(f"stage {stage} has no sign-in (auth none in cdk.json): connect without a token")
    return outputs[USER_POOL_OUTPUT], outputs[CLIENT_OUTPUT]


def id_token(
    cognito, *, client_id: str, username: str, password: str, new_password: Callable[[], str] | None = None
) -> str:
    """Signs ``username`` in; answers the first-sign-in challenge with ``new_password()`` when Cognito asks."""
    try:
        answer = cognito.initiate_auth(
            ClientId=client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": password},
        )
        if answer.get("ChallengeName") == "NEW_PASSWORD_REQUIRED":
            if new_password is None:
                raise TokenError(f"{username} must choose a new password first (a temporary one was set)")
            answer = cognito.respond_to_auth_challenge(
                ClientId=client_id,
                ChallengeName="NEW_PASSWORD_REQUIRED",
                Session=answer["Session"],
                ChallengeResponses={"USERNAME": username, "NEW_PASSWORD": new_password()},
            )
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code in ("NotAuthorizedException", "UserNotFoundException"):
            raise TokenError(f"sign-in refused for {username}: wrong username or password") from None
        if code == "InvalidPasswordException":
            raise TokenError(f"the new password was refused: {error.response['Error'].get('Message', '')}") from None
        raise
    if "AuthenticationResult" not in answer:
        raise TokenError(f"Cognito asks {username} for {answer.get('ChallengeName')}, which this command cannot answer")
    return answer["AuthenticationResult"]["IdToken"]


def ask_new_password() -> str:
    first = getpass.getpass("A new password (this user signs in for the first time): ")
    if getpass.getpass("The new password again: ") != first:
        raise TokenError("the two new passwords differ")
    return first


def main(
    argv: Sequence[str] | None = None,
    *,
    session: boto3.Session | None = None,
    ask: Callable[[str], str] = getpass.getpass,
    ask_new: Callable[[], str] = ask_new_password,
) -> int:
    parser = argparse.ArgumentParser(prog="python -m cdk.operations.token", description=__doc__.splitlines()[0])
    parser.add_argument("--stage", default="dev")
    parser.add_argument("--username", required=True)
    args = parser.parse_args(argv)
    session = session or default_session()
    try:
        pool_id, client_id = sign_in_settings(session.client("cloudformation"), args.stage)
        password = ask(f"Password of {args.username} ({stack_name_for(args.stage)}, pool {pool_id}): ")
        token = id_token(
            session.client("cognito-idp"),
            client_id=client_id,
            username=args.username,
            password=password,
            new_password=ask_new,
        )
    except TokenError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except (ClientError, BotoCoreError) as error:  # no credentials, no region, AWS refusing
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(token)
    return 0


if __name__ == "__main__":
    sys.exit(main())
