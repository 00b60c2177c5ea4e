"""``python -m smoke URL [--deadline SECONDS] [--user-pool-id ID --client-id ID [--role-arn ARN]]``: exit 0 when the
stage passes, 1 (one line on stderr) when not. With a user pool (a stage with sign-in) the test signs in as a
throwaway user of that pool, which it deletes before it exits."""

import argparse
import asyncio
import sys

from smoke.check import DEADLINE_SECONDS, SmokeFailure, run_smoke_test
from smoke.users import cognito_client, throwaway_user


def websocket_url(value: str) -> str:
    if not value.startswith(("ws://", "wss://")):
        raise argparse.ArgumentTypeError(f"{value!r} is not a ws:// or wss:// URL")
    return value


def positive_seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0.0
    if not seconds > 0:
        raise argparse.ArgumentTypeError(f"{value!r} is not a positive number of seconds")
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m smoke",
        description="Two clients connect to a chat stage, exchange a message and meet a closed connection.",
    )
    parser.add_argument(
        "url",
        type=websocket_url,
        help="the stage's WebSocketUrl, e.g. wss://<api-id>.execute-api.<region>.amazonaws.com/dev",
    )
    parser.add_argument(
        "--deadline", type=positive_seconds, default=DEADLINE_SECONDS, help="seconds for the whole test (default 30)"
    )
    parser.add_argument("--user-pool-id", help="on a stage with sign-in: its UserPoolId output")
    parser.add_argument("--client-id", help="on a stage with sign-in: its UserPoolClientId output")
    parser.add_argument(
        "--role-arn", help="a role to assume for the throwaway user (the pipeline's: the stage's smoke-test role)"
    )
    options = parser.parse_args(argv)
    if bool(options.user_pool_id) != bool(options.client_id):
        parser.error("--user-pool-id and --client-id go together (a stage with sign-in needs both)")
    try:
        run(options)
    except SmokeFailure as failure:
        print(f"smoke: FAIL: {failure}", file=sys.stderr)
        return 1
    return 0


def run(options: argparse.Namespace) -> None:
    if not options.user_pool_id:
        asyncio.run(run_smoke_test(options.url, deadline=options.deadline, report=print))
        return
    cognito = cognito_client(options.user_pool_id, role_arn=options.role_arn)
    with throwaway_user(cognito, user_pool_id=options.user_pool_id, client_id=options.client_id) as user:
        print(f"smoke: signed in as the throwaway user {user.name}")
        asyncio.run(run_smoke_test(options.url, deadline=options.deadline, report=print, identity=user))
    print(f"smoke: deleted the throwaway user {user.name}")


if __name__ == "__main__":
    sys.exit(main())
