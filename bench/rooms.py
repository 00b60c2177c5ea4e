"""Benchmark of rooms on the local runtime (issue #17): a message to a room beside a 1:1 message of the same run,
and a room under steady load.

    .venv/bin/python bench/rooms.py                    # every figure below
    .venv/bin/python bench/rooms.py --help             # sizes and durations

One runtime is started as `make dev` starts it (stage dev: sign-in, rooms), without its throttle. Its users and
their tokens come from the runtime's own commands (`python -m local users add`, `python -m local token`), as a
developer gets them; each member connects once and joins the room with `joinRoom`.

  room      one member sends to the room (sendMessage with "room") -> every member's connection holds the frame
            (the sender's own copy included), p50 and p99; beside it, alternately, a 1:1 message by username from
            the same sender -> both frames. Target: room p50 at most 10x the 1:1 p50.
  soak      20 members send to the room for 60 s, each its next message once its own copy came back: every
            member receives every message once (none lost, none duplicated, by message_id and text).
  relay     the raw relay's 1:1 p50 in the same run, the floor every figure of bench/ is compared with.

Machines differ about 3x in speed and are shared: compare the ratios of one run, and the load averages printed at
the start and the end.
"""

import argparse
import asyncio
import contextlib
import json
import os
import tempfile
import time
from collections import Counter
from pathlib import Path

import websockets
from auth import users_with_tokens, with_token
from harness import FRAME_TIMEOUT, PROJECT_ROOT, Relay, Runtime, open_client, percentile, start_runtime
from local_runtime import NO_THROTTLE, SETTLE_SECONDS, Report, Target, load_average, measure_send, timed_message

ROOM = "bench"
ROOM_TARGET = 10.0  # a room's p50 at most this many times the 1:1 p50 of the same run


async def join(url: str, token: str, name: str) -> websockets.ClientConnection:
    """A member's connection, once the room confirmed the join (its own member_joined)."""
    client, _ = await open_client(with_token(url, token))
    await client.send(json.dumps({"action": "joinRoom", "room": ROOM}))
    while True:
        frame = json.loads(await asyncio.wait_for(client.recv(), FRAME_TIMEOUT))
        if frame.get("type") == "error":
            raise SystemExit(f"{name} could not join {ROOM}: {frame}")
        if frame.get("type") == "member_joined" and frame["user"]["name"].lower() == name:
            return client


async def members_of_the_room(url: str, tokens: dict[str, str]) -> list[websockets.ClientConnection]:
    return [await join(url, token, name) for name, token in tokens.items()]


async def measure_room(
    clients: list[websockets.ClientConnection], names: list[str], count: int
) -> tuple[list[float], list[float]]:
    """Alternately a 1:1 message (first member -> second, by username) and a room message (first member -> the room),
    each after the previous one's execution has ended: (seconds to both 1:1 frames, seconds to every member's)."""
    sender, others = clients[0], clients[1:]
    one_to_one, to_room = [], []
    for index in range(count):
        direct = json.dumps({"action": "sendMessage", "message": f"d{index}", "recipient_users": [names[1]]})
        _, to_both = await timed_message(sender, direct, others[:1])
        one_to_one.append(to_both)
        await asyncio.sleep(SETTLE_SECONDS)
        room = json.dumps({"action": "sendMessage", "message": f"r{index}", "room": ROOM})
        _, to_every = await timed_message(sender, room, others)
        to_room.append(to_every)
        await asyncio.sleep(SETTLE_SECONDS)
    return one_to_one, to_room


class Soak:
    """What every member of the room received while ``senders`` of them sent, message by message."""

    def __init__(self, members: int):
        self.sent: set[str] = set()  # the texts sent
        self.seen: list[set[str]] = [set() for _ in range(members)]  # texts each member received
        self.ids: list[set[str]] = [set() for _ in range(members)]  # message ids each member received
        self.received = 0  # texts received, counted once per member
        self.duplicates = 0
        self.other_frames: Counter = Counter()
        self.own_copy: dict[str, asyncio.Event] = {}

    @property
    def lost(self) -> int:
        """Every text is added to ``sent`` before it is sent, so a member can only receive texts of it."""
        return len(self.sent) * len(self.seen) - self.received


async def soak(clients: list[websockets.ClientConnection], senders: int, seconds: float, drain: float) -> Soak:
    """``senders`` members each send their next room message once their own copy of the last one came back, for
    ``seconds``; then every member's frames are awaited for at most ``drain`` seconds."""
    result = Soak(len(clients))
    everything_in = asyncio.Event()

    async def read(index: int, client: websockets.ClientConnection) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for raw in client:
                frame = json.loads(raw)
                if frame.get("type") != "message" or not frame.get("message", "").startswith("s"):
                    result.other_frames[frame.get("type") or "?"] += 1
                    continue
                if frame["message_id"] in result.ids[index]:
                    result.duplicates += 1
                    continue
                result.ids[index].add(frame["message_id"])
                if frame["message"] not in result.seen[index]:
                    result.seen[index].add(frame["message"])
                    result.received += 1
                if index < senders and frame["message"].startswith(f"s{index}-"):
                    result.own_copy[frame["message"]].set()
                if not sending and result.lost == 0:
                    everything_in.set()

    async def send(index: int, client: websockets.ClientConnection) -> None:
        number = 0
        while time.monotonic() < stop_at:
            text = f"s{index}-{number}"
            result.own_copy[text] = asyncio.Event()
            result.sent.add(text)
            await client.send(json.dumps({"action": "sendMessage", "message": text, "room": ROOM}))
            with contextlib.suppress(TimeoutError):  # a lost own copy shows as lost; the next message goes anyway
                await asyncio.wait_for(result.own_copy[text].wait(), FRAME_TIMEOUT)
            number += 1

    sending = True
    readers = [asyncio.create_task(read(index, client)) for index, client in enumerate(clients)]
    stop_at = time.monotonic() + seconds
    await asyncio.gather(*(send(index, client) for index, client in enumerate(clients[:senders])))
    sending = False
    if result.lost:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(everything_in.wait(), drain)
    await asyncio.sleep(1)  # late duplicates
    for reader in readers:
        reader.cancel()
    await asyncio.gather(*readers, return_exceptions=True)
    return result


async def relay_one_to_one(url: str, count: int) -> list[float]:
    return (await measure_send(url, count)).to_both


def run(report: Report, runtime: Runtime, relay: Relay, tokens: dict[str, str], args: argparse.Namespace) -> None:
    names = list(tokens)

    async def measure() -> None:
        clients = await members_of_the_room(runtime.url, tokens)
        report.note(f"{len(clients)} members joined {ROOM!r}")
        await measure_room(clients, names, 3)  # warm: every pool's spare worker
        one_to_one, to_room = await measure_room(clients, names, args.samples)
        floor = await relay_one_to_one(relay.url, args.samples)
        report.latency("1:1 by username -> both frames", one_to_one, floor)
        report.latency(f"room of {len(clients)} -> every member's frame", to_room, floor)
        report.row(
            f"room of {len(clients)} p50 over 1:1 p50",
            percentile(to_room, 0.5) * 1000,
            percentile(one_to_one, 0.5) * 1000,
            "ms",
            Target(f"at most {ROOM_TARGET:g}x the 1:1 p50", ROOM_TARGET),
        )
        started = time.monotonic()
        result = await soak(clients, args.senders, args.seconds, args.drain)
        report.note(
            f"soak: {args.senders} senders x {args.seconds:g} s in a room of {len(clients)}: {len(result.sent)} "
            f"messages, {result.received} frames delivered in {time.monotonic() - started:.1f} s, other frames "
            f"{dict(result.other_frames)}"
        )
        report.check(
            "soak: every member got every message once",
            f"{result.lost} lost, {result.duplicates} duplicated of {len(result.sent) * len(clients)}",
            "0 lost, 0 duplicated",
            result.lost == 0 and result.duplicates == 0,
        )
        await asyncio.gather(*(client.close() for client in clients), return_exceptions=True)

    asyncio.run(measure())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=50)
    parser.add_argument("--samples", type=int, default=30, help="messages of each kind for the latencies")
    parser.add_argument("--senders", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60, help="how long the senders send in the soak")
    parser.add_argument("--drain", type=float, default=300, help="seconds the soak waits for stragglers")
    args = parser.parse_args()
    if args.members < 2 or not 1 <= args.senders <= args.members:
        parser.error("--members must be at least 2 and --senders from 1 to --members")

    work = Path(tempfile.mkdtemp(prefix="chat-bench-rooms-"))
    print(f"runtime of {PROJECT_ROOT}; output in {work}; {os.cpu_count()} cores")
    print(f"load average at the start (1, 5, 15 min): {load_average()}", flush=True)
    runtime = start_runtime(work, NO_THROTTLE, name="dev", stage="dev")
    relay = Relay()
    report = Report()
    try:
        tokens = users_with_tokens(runtime, [f"member{number}" for number in range(args.members)])
        run(report, runtime, relay, tokens, args)
    finally:
        relay.stop()
        runtime.stop()
    print(f"load average at the end (1, 5, 15 min): {load_average()}")
    report.summary()


if __name__ == "__main__":
    main()
