"""`python -m local users add|list|remove` and `python -m local token`: the users of a running stage's local user
pool (moto's cognito-idp in the runtime's Step Functions process), with no AWS account.

They find the runtime as `python -m local executions` does (its state file) and call moto with Cognito's own API:
AdminCreateUser (no message sent) and AdminSetUserPassword (permanent) to add, ListUsers, AdminDeleteUser, and
InitiateAuth (USER_PASSWORD_AUTH with the stage's app client) for an ID token, as `make token` does on AWS.
Removing a user runs the stage's user_removal workflow after AdminDeleteUser, as on AWS (cdk/operations/delete_user.py):
their memberships go (each room's member_count one lower, member_left told to the room), and so do their entries of
the connection registry and of the user directory, so that messages to them are not routed to connections of a user
who no longer exists.
Every failure is one line on stderr and exit code 1.
"""

import argparse
import getpass
import sys

from botocore.exceptions import ClientError, EndpointConnectionError

from cdk.operations.delete_user import DeleteUserError, delete_from_pool, run_removal, summary
from local.state import RuntimeState, other_instance, state_file
from local.stepfunctions.client import local_aws_client, local_stepfunctions_client

NOT_RUNNING = "no local runtime is serving stage {stage}: start it first (`make dev STAGE={stage}`)"
NO_SIGN_IN = "stage {stage} has no sign-in (auth none in cdk.json): it has no users; dev has"
REMOVAL_WORKFLOW = "UserRemoval"  # the state machine's construct id (cdk/workflows.py)


class UsersError(Exception):
    """One line for the user."""


def run(args: argparse.Namespace) -> int:
    try:
        state = _signed_in_runtime(args)
        pool = _LocalPool(state)
        if args.command == "token":
            print(pool.token(args.username, _password(args)))
        elif args.action == "add":
            pool.add(args.username, _password(args))
            print(f"added {args.username}: `python -m local token {args.username} --stage {args.stage}` signs in")
        elif args.action == "list":
            for user in pool.list():
                print(user)
        else:
            print(pool.remove(args.username))
    except UsersError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except EndpointConnectionError:
        print(f"error: {NOT_RUNNING.format(stage=args.stage)}", file=sys.stderr)
        return 1
    return 0


def _signed_in_runtime(args: argparse.Namespace) -> RuntimeState:
    state = other_instance(state_file(args.state_dir, args.stage))
    if state is None:
        raise UsersError(NOT_RUNNING.format(stage=args.stage))
    if not state.cognito:
        raise UsersError(NO_SIGN_IN.format(stage=args.stage))
    return state


def _password(args: argparse.Namespace) -> str:
    if args.password is not None:
        return args.password
    if not sys.stdin.isatty():  # piped in: the first line
        password = sys.stdin.readline().rstrip("\n")
        if not password:
            raise UsersError("no password given (--password, or a line on standard input)")
        return password
    try:
        return getpass.getpass(f"password of {args.username}: ")
    except (EOFError, KeyboardInterrupt):
        raise UsersError("no password given") from None


class _LocalPool:
    def __init__(self, state: RuntimeState):
        self._pool_id = state.cognito["user_pool_id"]
        self._client_id = state.cognito["client_id"]
        self._cognito = local_aws_client("cognito-idp", state.stepfunctions_url, state.region)
        self._stepfunctions = local_stepfunctions_client(state.stepfunctions_url, state.region)
        self._removal_arn = next((arn for arn, name in state.state_machines.items() if name == REMOVAL_WORKFLOW), None)

    def add(self, username: str, password: str) -> None:
        try:
            self._cognito.admin_create_user(UserPoolId=self._pool_id, Username=username, MessageAction="SUPPRESS")
        except ClientError as error:
            if _code(error) == "UsernameExistsException":
                raise UsersError(f"user {username} already exists") from None
            raise UsersError(f"cannot add {username}: {_message(error)}") from None
        try:
            self._cognito.admin_set_user_password(
                UserPoolId=self._pool_id, Username=username, Password=password, Permanent=True
            )
        except ClientError as error:  # a password the pool's policy refuses: the user is not kept half made
            self._cognito.admin_delete_user(UserPoolId=self._pool_id, Username=username)
            raise UsersError(f"cannot add {username}: {_message(error)}") from None

    def list(self) -> list[str]:
        users = []
        for page in self._cognito.get_paginator("list_users").paginate(UserPoolId=self._pool_id):
            for user in page["Users"]:
                sub = next((a["Value"] for a in user.get("Attributes", []) if a["Name"] == "sub"), "")
                users.append(f"{user['Username']}\t{sub}\t{user['UserStatus']}")
        return sorted(users)

    def remove(self, username: str) -> str:
        """As on a deployed stage (cdk/operations/delete_user.py): out of the pool, then the user_removal workflow."""
        if self._removal_arn is None:  # checked first: the user stays in the pool
            raise UsersError("the running runtime has no user_removal workflow: restart it (make dev) and try again")
        try:
            removal = delete_from_pool(self._cognito, user_pool_id=self._pool_id, username=username)
            output = run_removal(
                self._stepfunctions, state_machine_arn=self._removal_arn, removal=removal, synchronous=False
            )
        except DeleteUserError as error:
            raise UsersError(str(error)) from None
        return summary(output)

    def token(self, username: str, password: str) -> str:
        try:
            self._cognito.admin_get_user(UserPoolId=self._pool_id, Username=username)
        except ClientError as error:
            if _code(error) == "UserNotFoundException":
                raise UsersError(f"no user {username}: add one with `python -m local users add {username}`") from None
            raise
        try:
            answer = self._cognito.initiate_auth(
                ClientId=self._client_id,
                AuthFlow="USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": username, "PASSWORD": password},
            )
        except ClientError as error:
            if _code(error) == "NotAuthorizedException":
                raise UsersError(f"wrong password for {username}") from None
            raise UsersError(f"cannot sign in {username}: {_message(error)}") from None
        if "AuthenticationResult" not in answer:
            raise UsersError(f"{username} must answer the challenge {answer.get('ChallengeName')} first (in the page)")
        return answer["AuthenticationResult"]["IdToken"]


def _code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")


def _message(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Message") or _code(error)
