"""``make delete-user STAGE=dev USERNAME=bob``: deletes a deployed stage's user, as ``python -m local users remove``
does locally.

Cognito's AdminDeleteUser first (they can no longer sign in), then the stage's user_removal workflow (output
UserRemovalArn), which removes their memberships (each room's member_count one lower, in the same transaction),
tells each room member_left, and removes their connection registry items and directory entry. On AWS it is run
with StartSyncExecution (Express workflows cannot be described afterwards), so the command reports its outcome;
the local runtime's engine has no StartSyncExecution, so it starts the execution and waits for its end.

The stage's credentials and region are the ones ``make deploy`` uses (AWS_REGION, else the profile's).
"""

import argparse
import json
import sys
import time
import uuid
from collections.abc import Sequence

from botocore.exceptions import BotoCoreError, ClientError

from cdk.names import stack_name_for
from cdk.operations.preflight import default_session
from cdk.operations.token import USER_POOL_OUTPUT

REMOVAL_OUTPUT = "UserRemovalArn"
_WAIT_SECONDS = 60


class DeleteUserError(Exception):
    """The user was not deleted (or not completely): the message says why."""


def delete_from_pool(cognito, *, user_pool_id: str, username: str) -> dict:
    """Deletes ``username`` from the pool; returns user_removal's input (their username key, id and name)."""
    try:
        user = cognito.admin_get_user(UserPoolId=user_pool_id, Username=username)
        cognito.admin_delete_user(UserPoolId=user_pool_id, Username=username)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "UserNotFoundException":
            raise DeleteUserError(f"no user {username} in the stage's user pool") from None
        raise DeleteUserError(f"cannot remove {username}: {error.response['Error'].get('Message', error)}") from None
    attributes = {attribute["Name"]: attribute["Value"] for attribute in user.get("UserAttributes", [])}
    name = user["Username"]
    # The tables' username key is the name in lower case (cdk/data_model.py).
    return {"username_key": name.lower(), "user": {"id": attributes.get("sub", name), "name": name}}


def run_removal(stepfunctions, *, state_machine_arn: str, removal: dict, synchronous: bool) -> dict:
    """Runs user_removal to its end; returns its output ({username, rooms, connections})."""
    name = f"remove-{uuid.uuid4().hex}"
    try:
        return _run(
            stepfunctions, state_machine_arn=state_machine_arn, removal=removal, synchronous=synchronous, name=name
        )
    except ClientError as error:
        raise DeleteUserError(
            f"the user was deleted from the pool, but user_removal {name} could not run: "
            f"{error.response['Error'].get('Message', error)}; {_again(state_machine_arn, removal)}"
        ) from None


def _run(stepfunctions, *, state_machine_arn: str, removal: dict, synchronous: bool, name: str) -> dict:
    if synchronous:
        answer = stepfunctions.start_sync_execution(
            stateMachineArn=state_machine_arn, name=name, input=json.dumps(removal)
        )
    else:
        arn = stepfunctions.start_execution(stateMachineArn=state_machine_arn, name=name, input=json.dumps(removal))[
            "executionArn"
        ]
        deadline = time.monotonic() + _WAIT_SECONDS
        while (answer := stepfunctions.describe_execution(executionArn=arn))["status"] == "RUNNING":
            if time.monotonic() > deadline:
                raise DeleteUserError(f"user_removal {name} still running after {_WAIT_SECONDS} s")
            time.sleep(0.1)
    if answer["status"] != "SUCCEEDED":
        raise DeleteUserError(
            f"the user was deleted from the pool, but user_removal {name} ended {answer['status']}: "
            f"{answer.get('error', '')}; {_again(state_machine_arn, removal)}"
        )
    return json.loads(answer["output"])


def _again(state_machine_arn: str, removal: dict) -> str:
    """How to run it again by hand: the user is no longer in the pool, so the command would not find them."""
    return (
        "every step is safe to repeat: aws stepfunctions start-sync-execution "
        f"--state-machine-arn {state_machine_arn} --input '{json.dumps(removal)}'"
    )


def summary(output: dict) -> str:
    connections, rooms = output["connections"], sum(1 for room in output["rooms"] if room["status"] == "left")
    return (
        f"removed {output['username']} and {connections} registered connection{'' if connections == 1 else 's'} of "
        f"theirs; they left {rooms} room{'' if rooms == 1 else 's'}"
    )


def main(argv: Sequence[str] | None = None, *, session=None, stepfunctions=None) -> int:
    """``session``, ``stepfunctions``: the stage's (tests give their own)."""
    parser = argparse.ArgumentParser(prog="python -m cdk.operations.delete_user", description=__doc__.splitlines()[0])
    parser.add_argument("--stage", required=True)
    parser.add_argument("--username", required=True)
    args = parser.parse_args(argv)
    session = session or default_session()
    try:
        stack_name = stack_name_for(args.stage)
        (stack,) = session.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"]
        outputs = {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}
        if USER_POOL_OUTPUT not in outputs:
            raise DeleteUserError(f"stage {args.stage} has no sign-in (auth none in cdk.json): it has no users")
        removal = delete_from_pool(
            session.client("cognito-idp"), user_pool_id=outputs[USER_POOL_OUTPUT], username=args.username
        )
        output = run_removal(
            stepfunctions or session.client("stepfunctions"),
            state_machine_arn=outputs[REMOVAL_OUTPUT],
            removal=removal,
            synchronous=True,
        )
    except (DeleteUserError, ClientError, BotoCoreError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(summary(output))
    return 0


if __name__ == "__main__":
    sys.exit(main())
