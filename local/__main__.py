"""python -m local serve | executions | users | token — the chat's synthesized stack, on this machine."""

import argparse
import os
import signal
import sys
from pathlib import Path

from local.apigateway.limits import DEFAULT_MAX_CONNECTIONS
from local.awslambda.service import DEFAULT_ASYNC_QUEUE_SIZE
from local.state import DEFAULT_STATE_DIR
from local.stepfunctions import DEFAULT_INTERPRETERS, DEFAULT_KEEP_EXECUTIONS
from local.synth import SynthError
from local.template_errors import UnsupportedTemplate

# Workers mostly wait on the next hop: beyond one per core they add memory (about 55 MB each) and
# contention, not throughput (measured on 2 cores: 4 per function were slower than 2, at 1.3 GB).
DEFAULT_WORKERS = max(2, min(4, os.cpu_count() or 2))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve a stage's stack on loopback until Ctrl-C")
    serve.add_argument("--stage", default="dev")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback only)")
    serve.add_argument("--port", type=int, default=3001, help="0 picks a free port (default 3001)")
    serve.add_argument("--resynth", action="store_true", help="synthesize even if cdk.out is fresh")
    serve.add_argument(
        "--workers",
        type=_positive,
        default=DEFAULT_WORKERS,
        help=f"most warm workers per function (default {DEFAULT_WORKERS}: one per core, 2 to 4)",
    )
    serve.add_argument("--idle-timeout", type=float, default=600, help="seconds (API Gateway: 600)")
    serve.add_argument("--max-lifetime", type=float, default=7200, help="seconds (API Gateway: 7200)")
    serve.add_argument(
        "--max-connections",
        type=int,
        default=DEFAULT_MAX_CONNECTIONS,
        help=f"open WebSocket connections at most; more are refused with 429 (default {DEFAULT_MAX_CONNECTIONS})",
    )
    serve.add_argument(
        "--no-throttle", action="store_true", help="ignore the stage's throttle (to measure the runtime's capacity)"
    )
    serve.add_argument(
        "--keep-executions",
        type=_positive,
        default=DEFAULT_KEEP_EXECUTIONS,
        help=f"ended executions kept per state machine for `executions` (default {DEFAULT_KEEP_EXECUTIONS})",
    )
    serve.add_argument(
        "--interpreters",
        type=_positive,
        default=DEFAULT_INTERPRETERS,
        help=f"Step Functions interpreter processes; a second shares a burst's executions where cores are spare "
        f"(default {DEFAULT_INTERPRETERS})",
    )
    serve.add_argument(
        "--async-queue-size",
        type=_positive,
        default=DEFAULT_ASYNC_QUEUE_SIZE,
        help=f"Event invocations queued per function before more are refused (default {DEFAULT_ASYNC_QUEUE_SIZE})",
    )
    serve.add_argument("--quiet-history", action="store_true", help="do not stream execution history")
    serve.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR, help=argparse.SUPPRESS)
    serve.add_argument("--from-make", action="store_true", help=argparse.SUPPRESS)  # `make dev`: hints name make's

    executions = commands.add_parser("executions", help="list executions, or show one's history")
    executions.add_argument(
        "name",
        nargs="?",
        metavar="ID",
        help="an execution's name or ARN, a message id or a connection id: the history of every execution about it",
    )
    executions.add_argument("--stage", default="dev")
    executions.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR, help=argparse.SUPPRESS)

    users = commands.add_parser("users", help="add, list or remove users of a running stage's local user pool")
    actions = users.add_subparsers(dest="action", required=True)
    for action, about in (("add", "add a user (asks for the password)"), ("remove", "remove a user and their entries")):
        named = actions.add_parser(action, help=about)
        named.add_argument("username")
        if action == "add":
            named.add_argument("--password", help="instead of asking for it")
        _stage_options(named)
    _stage_options(actions.add_parser("list", help="every user: name, id (sub), status"))
    token = commands.add_parser("token", help='print a user\'s ID token, for wscat -c "ws://…/dev?token=$TOKEN"')
    token.add_argument("username")
    token.add_argument("--password", help="instead of asking for it")
    _stage_options(token)

    args = parser.parse_args(argv)
    try:
        if args.command in ("users", "token"):
            from local.users import run as run_users

            return run_users(args)
        if args.command == "serve":
            from local.runtime import Refused
            from local.runtime import serve as run_serve

            try:
                return run_serve(args)
            except Refused as error:
                print(f"error: {error}", file=sys.stderr)
                return 1
        from local.executions import show

        signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `executions | head` ends quietly, like other CLIs
        return show(args)
    except (SynthError, UnsupportedTemplate) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl-C before the runtime's own handler is installed (e.g. synthesizing)
        print("interrupted", file=sys.stderr)
        return 130


def _stage_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--stage", default="dev")
    command.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR, help=argparse.SUPPRESS)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


if __name__ == "__main__":
    sys.exit(main())
