"""``python -m smoke URL [--deadline SECONDS]``: exit 0 when the stage passes, 1 (one line on stderr) when not."""

import argparse
import asyncio
import sys

from smoke.check import DEADLINE_SECONDS, SmokeFailure, run_smoke_test


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
    options = parser.parse_args(argv)
    try:
        asyncio.run(run_smoke_test(options.url, deadline=options.deadline, report=print))
    except SmokeFailure as failure:
        print(f"smoke: FAIL: {failure}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
