"""Benchmark of sign-in on the local runtime (issue #16): each figure with sign-in beside the same figure
without it, measured in the same run on the same tree.

    .venv/bin/python bench/auth.py                     # every figure below
    .venv/bin/python bench/auth.py --help              # sizes and time limits

Two runtimes are started as `make dev` starts them: stage dev (auth cognito: the $connect authorizer verifies
each connection's Cognito ID token with PyJWT, the handshake registers the connection with its user) and stage
open (auth none: the tutorial's flow, the baseline). Users and their tokens come from the runtime's own
commands (`python -m local users add`, `python -m local token`), as a developer gets them.

  connect   connect (dev: with ?token=) -> connection frame, p50 and p99   target p50 at most 5 ms over open's
  burst     50 users x 20 messages, each to the next user by username (recipient_users), all at once: every
            frame delivered (the recipient's and the sender's own copy), none lost or duplicated (by
            message_id); delivered frames/s beside open's same burst addressed by connection id

Machines differ about 3x in speed and are shared: compare the differences and ratios of one run, and the
load averages printed at the start and the end.
"""

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

from harness import PROJECT_ROOT, Runtime, percentile, start_runtime
from local_runtime import NO_THROTTLE, Report, deliver_all, load_average, measure_connect, open_many

PASSWORD = "Bench-password-1"
CONNECT_TARGET_MS = 5.0


def local_command(runtime: Runtime, stage: str, *args: str) -> str:
    """`python -m local <args>` for the running stage (its state directory); its stdout."""
    command = [sys.executable, "-m", "local", *args, "--stage", stage, "--state-dir", str(runtime.state_path.parent)]
    done = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command[2:])} failed: {done.stderr.strip()[-500:]}")
    return done.stdout.strip()


def users_with_tokens(runtime: Runtime, names: list[str]) -> dict[str, str]:
    """Each user added to the dev stage's pool, and its ID token (a few commands at a time)."""

    def one(name: str) -> tuple[str, str]:
        local_command(runtime, "dev", "users", "add", name, "--password", PASSWORD)
        return name, local_command(runtime, "dev", "token", name, "--password", PASSWORD).splitlines()[-1]

    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(pool.map(one, names))


def with_token(url: str, token: str) -> str:
    return f"{url}?token={quote(token, safe='')}"


async def burst_by_username(url: str, tokens: dict[str, str], messages: int, timeout: float):
    """One connection per user, in the order given; each sends ``messages`` to the next user by name."""
    clients = []
    for token in tokens.values():
        clients.extend(await open_many(with_token(url, token), 1))
    return await deliver_all(clients, messages, timeout, to_next_user(list(tokens)))


async def burst_by_connection_id(url: str, clients: int, messages: int, timeout: float):
    return await deliver_all(await open_many(url, clients), messages, timeout)


def to_next_user(names: list[str]):
    def frame(index: int, number: int) -> str:
        recipient = names[(index + 1) % len(names)]
        return json.dumps({"action": "sendMessage", "message": f"b{number}", "recipient_users": [recipient]})

    return frame


def compare_connect(report: Report, dev: Runtime, open_: Runtime, token: str, samples: int) -> None:
    signed_in_url = with_token(dev.url, token)
    asyncio.run(measure_connect(signed_in_url, 5))  # warm: every pool's spare worker, the authorizer's key set
    asyncio.run(measure_connect(open_.url, 5))
    signed_in, baseline = (asyncio.run(measure_connect(url, samples)) for url in (signed_in_url, open_.url))
    report.latency("connect -> connection frame, dev over open", signed_in, baseline)
    added = (percentile(signed_in, 0.5) - percentile(baseline, 0.5)) * 1000
    report.check(
        "connect p50 added by sign-in",
        f"{added:+.1f} ms",
        f"at most +{CONNECT_TARGET_MS:g} ms",
        added <= CONNECT_TARGET_MS,
    )


def compare_burst(report: Report, dev: Runtime, open_: Runtime, tokens: dict[str, str], args) -> None:
    names = list(tokens)
    by_name, by_name_seconds = asyncio.run(burst_by_username(dev.url, tokens, args.messages, args.timeout))
    by_id, by_id_seconds = asyncio.run(burst_by_connection_id(open_.url, len(names), args.messages, args.timeout))
    for label, delivery, seconds in (
        (f"dev, {len(names)} users x {args.messages} by username", by_name, by_name_seconds),
        (f"open, {len(names)} clients x {args.messages} by connection id", by_id, by_id_seconds),
    ):
        report.note(
            f"{label}: {delivery.unique}/{delivery.expected} frames, {delivery.lost} lost, "
            f"{delivery.duplicates} duplicated, other frames {dict(delivery.other_frames)}, in {seconds:.1f} s"
        )
    report.row(
        "burst by username: frames/s, dev over open",
        by_name.unique / by_name_seconds,
        by_id.unique / by_id_seconds,
        "/s",
    )
    report.check(
        "burst by username: nothing lost",
        f"{by_name.lost}/{by_name.expected} lost, {by_name.duplicates} dup.",
        "0 lost, 0 duplicated",
        by_name.lost == 0 and by_name.duplicates == 0,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--connect-samples", type=int, default=100)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--messages", type=int, default=20, help="messages each user sends in the burst")
    parser.add_argument("--timeout", type=float, default=240, help="seconds a burst may take before it is cut")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="chat-bench-auth-"))
    print(f"runtimes of {PROJECT_ROOT}; output in {work}; {os.cpu_count()} cores")
    print(f"load average at the start (1, 5, 15 min): {load_average()}", flush=True)
    dev = start_runtime(work, NO_THROTTLE, name="dev", stage="dev")
    open_ = start_runtime(work, NO_THROTTLE, name="open", stage="open")
    report = Report()
    try:
        tokens = users_with_tokens(dev, [f"bench{number}" for number in range(args.users)])
        compare_connect(report, dev, open_, next(iter(tokens.values())), args.connect_samples)
        compare_burst(report, dev, open_, tokens, args)
    finally:
        dev.stop()
        open_.stop()
    print(f"load average at the end (1, 5, 15 min): {load_average()}")
    report.summary()


if __name__ == "__main__":
    main()
