"""Benchmark of the local runtime against a raw WebSocket relay measured in the same run (issue #19's table).

    .venv/bin/python bench/local_runtime.py                        # every figure and target below
    .venv/bin/python bench/local_runtime.py --tree /tmp/other      # the same, the runtime of another checkout
    .venv/bin/python bench/local_runtime.py --help                 # sizes, time limits, start-up timings

The runtime is started exactly as `make dev` starts it (`python -m local serve --stage dev`, its
defaults, execution history printing included; its terminal output goes to a file), the relay
(bench/raw_relay.py: same wire format, no Lambda, no Step Functions) next to it. The same client code
measures both, one after the other, and every figure is printed with the relay's and their ratio.
Machines differ about 3x in speed and are shared, so each target is a ratio to a figure of the same run:

  connect      connect -> connection-id frame                               target p50 <= 4x the relay
  send         sendMessage -> the recipient's frame (and -> both frames)    target p50 <= 10x the relay
  fanout       one message to 20 recipients -> all 21 frames (sender's too) target p50 <= 3x the runtime's
                                                                            1:1 p50 (sendMessage -> both frames)
  room         one message to 50 connections -> all 51 frames, as a room of 50 online members will get it
               (issue #17): message_fanout started at the Step Functions API with the input sendMessage builds
               (a client may name at most 20 recipient_ids), 1:1 sendMessages alternating with it
                                                                            target p50 <= 10x the runtime's
                                                                            1:1 p50 (sendMessage -> both frames)
               (the relay's figure is a sendMessage naming the 50)
  idle         1,000 connections held, then one message each: all delivered, and a fresh client's
               connect and send latency while they are held
  burst        200 clients x 50 messages each to a partner, each client sending as fast as the server
               accepts: delivered frames/s (target >= 1/50 of the relay's, the median of three relay
               bursts; none lost or duplicated, by message_id), how every fanout execution ended (from
               the terminal's history lines and from the Step Functions API), the RSS of the runtime's
               whole process tree after the burst (target <= 1 GB) and at its peak, and the CPU time each
               process used per delivered message (which the machine's load hardly changes, unlike the
               wall-clock figures)

The load average is printed at the start and the end: compare runs by their ratios, and by CPU per message.
"""

import argparse
import asyncio
import contextlib
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import websockets
from harness import (
    PROJECT_ROOT,
    Relay,
    Runtime,
    TreeMemory,
    command_line,
    next_message,
    open_client,
    percentile,
    send_frame,
    start_runtime,
    tree_pids,
    tree_rss_bytes,
)

sys.path.insert(0, str(PROJECT_ROOT / "lambdas"))  # the input sendMessage builds, for the room figure
from chat.fanout import fanout_input
from chat.frames import message_frame

_EXECUTION_END = re.compile(r"^\[(\w+)\] \S+\s+(Execution(?:Succeeded|Failed|TimedOut|Aborted))\b", re.MULTILINE)
# `make dev`'s command, plus --no-throttle: the dev stage's throttle (50 requests/s, burst 100, as API
# Gateway would apply it) would answer most of a burst with Too Many Requests; the burst measures the
# runtime's capacity, not the stage's setting.
NO_THROTTLE = "--no-throttle"
# A pause after each message of the fan-out figure: the next one must not meet the end of the previous
# one's execution (a 1 -> 20 execution's history is about 200 lines), or the 1 -> 1 messages beside the
# 1 -> 20 ones would be slowed by them, and their ratio flattered.
SETTLE_SECONDS = 0.1


# -- clients (the same code measures both servers)


async def open_many(url: str, count: int, concurrency: int = 50) -> list[tuple[websockets.ClientConnection, str]]:
    gate = asyncio.Semaphore(concurrency)

    async def one():
        async with gate:
            return await open_client(url)

    return await asyncio.gather(*(one() for _ in range(count)))


async def measure_connect(url: str, count: int) -> list[float]:
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        client, _ = await open_client(url)
        samples.append(time.perf_counter() - started)
        await client.close()
    return samples


@dataclass
class SendSamples:
    """sendMessage -> the recipient's frame, and -> both frames (the sender's copy too), in seconds."""

    to_recipient: list[float] = field(default_factory=list)
    to_both: list[float] = field(default_factory=list)


async def timed_message(sender: websockets.ClientConnection, frame: str, receivers: list) -> tuple[float, float]:
    """Send ``frame`` and wait for the message frame at the sender and at each receiver: (seconds to the
    first receiver's frame, seconds to every frame)."""
    started = time.perf_counter()
    first_received = 0.0

    async def first() -> None:
        nonlocal first_received
        await next_message(receivers[0])
        first_received = time.perf_counter() - started

    await sender.send(frame)
    await asyncio.gather(next_message(sender), first(), *(next_message(client) for client in receivers[1:]))
    return first_received, time.perf_counter() - started


async def measure_send(url: str, count: int) -> SendSamples:
    (alice, _), (bob, bob_id) = await open_many(url, 2)
    samples = SendSamples()
    for index in range(count):
        to_recipient, to_both = await timed_message(alice, send_frame(f"m{index}", bob_id), [bob])
        samples.to_recipient.append(to_recipient)
        samples.to_both.append(to_both)
    await asyncio.gather(alice.close(), bob.close())
    return samples


# Sends the message to all of ``ids`` (its number ``index``) from ``sender``, whose connection id is ``sender_id``.
SendToAll = Callable[[websockets.ClientConnection, str, list[str], int], Awaitable[None]]


async def measure_alternating(url: str, recipients: int, count: int, send_to_all: SendToAll) -> tuple:
    """One sender and ``recipients`` clients; a 1:1 sendMessage and one message to all of them, alternately (so
    that both see the same load), each after the previous one's execution has ended (its history sent to the
    terminal): (seconds to both frames of each 1:1 message, seconds to all ``recipients`` + 1 frames of each
    message to all)."""
    sender, sender_id = await open_client(url)
    others = await open_many(url, recipients)
    clients, ids = [client for client, _ in others], [connection_id for _, connection_id in others]
    one_to_one, to_all = [], []
    for index in range(count):
        _, to_both = await timed_message(sender, send_frame(f"o{index}", ids[0]), clients[:1])
        one_to_one.append(to_both)
        await asyncio.sleep(SETTLE_SECONDS)
        started = time.perf_counter()
        await send_to_all(sender, sender_id, ids, index)
        await asyncio.gather(next_message(sender), *(next_message(client) for client in clients))
        to_all.append(time.perf_counter() - started)
        await asyncio.sleep(SETTLE_SECONDS)
    await asyncio.gather(sender.close(), *(client.close() for client in clients))
    return one_to_one, to_all


async def measure_fanout(url: str, recipients: int, count: int) -> tuple[list[float], list[float]]:
    """measure_alternating, the message to all a sendMessage naming their connection ids."""

    async def send_to_all(sender, _, ids: list[str], index: int) -> None:
        await sender.send(json.dumps({"action": "sendMessage", "message": f"f{index}", "recipient_ids": ids}))

    return await measure_alternating(url, recipients, count, send_to_all)


async def measure_room(url: str, members: int, count: int, start: Callable[[dict, str], None] | None) -> tuple:
    """measure_alternating as a room of ``members`` online members gets a message: ``start(execution_input, name)``
    starts message_fanout with the input sendMessage builds; without it (the relay), the message to all is a
    sendMessage naming them."""

    async def send_to_all(sender, sender_id: str, ids: list[str], index: int) -> None:
        if start is None:
            await sender.send(json.dumps({"action": "sendMessage", "message": f"r{index}", "recipient_ids": ids}))
            return
        message_id = str(uuid.uuid4())
        frame = message_frame(
            message_id=message_id, message=f"r{index}", sender_id=sender_id, sent_at=_now(), recipient_ids=ids
        )
        execution_input = fanout_input(
            sender_id=sender_id, sender=None, connection_ids=ids, recipient_users=[], frame=frame, retention_days=1
        )
        await asyncio.to_thread(start, execution_input, message_id)

    return await measure_alternating(url, members, count, send_to_all)


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())


def fanout_starter(runtime: Runtime) -> Callable[[dict, str], None]:
    """Starts message_fanout on the runtime's Step Functions endpoint, as sendMessage does."""
    state = runtime.state()
    client = boto3.client(
        "stepfunctions",
        endpoint_url=state.stepfunctions_url,
        region_name=state.region,
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    arn = next(arn for arn, name in state.state_machines.items() if name == "MessageFanout")

    def start(execution_input: dict, name: str) -> None:
        client.start_execution(stateMachineArn=arn, name=name, input=json.dumps(execution_input))

    return start


@dataclass
class Delivery:
    """What the clients of a burst received, frame by frame."""

    expected: int
    unique: int = 0
    duplicates: int = 0
    other_frames: Counter = field(default_factory=Counter)
    last_at: float = 0.0
    all_in: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def lost(self) -> int:
        return self.expected - self.unique


async def deliver_all(
    clients: list[tuple[websockets.ClientConnection, str]],
    messages: int,
    timeout: float,
    addressed: Callable[[int, int], str] | None = None,
) -> tuple[Delivery, float]:
    """Each client sends ``messages`` messages to the next one, all clients at once: ``addressed(index, number)`` is
    the frame client ``index`` sends as its message ``number`` (default: to the next client's connection id)."""
    delivery = Delivery(expected=len(clients) * messages * 2)  # to the sender and to the partner

    async def read(client) -> None:
        seen: set[str] = set()
        with contextlib.suppress(websockets.ConnectionClosed):
            async for raw in client:
                frame = json.loads(raw)
                if frame.get("type") != "message":
                    delivery.other_frames[frame.get("type") or frame.get("message", "?")] += 1
                    continue
                if frame["message_id"] in seen:
                    delivery.duplicates += 1
                    continue
                seen.add(frame["message_id"])
                delivery.unique += 1
                delivery.last_at = time.perf_counter()
                if delivery.unique == delivery.expected:
                    delivery.all_in.set()

    def to_next_connection(index: int, number: int) -> str:
        return send_frame(f"b{number}", clients[(index + 1) % len(clients)][1])

    async def send(client, index: int) -> None:
        for number in range(messages):
            await client.send((addressed or to_next_connection)(index, number))

    readers = [asyncio.create_task(read(client)) for client, _ in clients]
    started = time.perf_counter()
    senders = asyncio.gather(*(send(client, index) for index, (client, _) in enumerate(clients)))
    with contextlib.suppress(TimeoutError):  # a timeout shows as lost frames
        await asyncio.wait_for(asyncio.gather(senders, delivery.all_in.wait()), timeout)
    if delivery.unique < delivery.expected:
        await asyncio.sleep(1)  # late duplicates or stragglers
    sent = len(clients) * messages
    for _ in range(100):  # a sendMessage's accepted answer can trail its last delivery: count it before closing
        if delivery.other_frames["accepted"] >= sent:
            break
        await asyncio.sleep(0.02)
    elapsed = (delivery.last_at or time.perf_counter()) - started
    await asyncio.gather(*(client.close() for client, _ in clients), return_exceptions=True)
    await asyncio.gather(*readers, return_exceptions=True)
    return delivery, max(elapsed, 1e-9)


async def measure_burst(url: str, clients: int, messages: int, timeout: float) -> tuple[Delivery, float]:
    return await deliver_all(await open_many(url, clients), messages, timeout)


async def measure_idle(url: str, count: int, hold_seconds: float, timeout: float) -> dict:
    held = await open_many(url, count)
    await asyncio.sleep(hold_seconds)
    fresh_connect = await measure_connect(url, 5)
    fresh_send = (await measure_send(url, 5)).to_both
    delivery, elapsed = await deliver_all(held, 1, timeout)
    return {"delivery": delivery, "elapsed": elapsed, "fresh_connect": fresh_connect, "fresh_send": fresh_send}


# -- the runtime's own account of its work


def tree_cpu_seconds(root_pid: int) -> Counter:
    """CPU seconds used so far by each process of the tree, by role (the machine's load does not
    change them much, unlike wall-clock figures)."""
    used = Counter()
    for pid in tree_pids(root_pid):
        with contextlib.suppress(OSError, ValueError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            arguments = command_line(pid)
            role = next((a.split(".")[0] for a in arguments if a.endswith(".handler")), None)
            if role is None and "local.stepfunctions.server" in arguments:
                role = "stepfunctions secondaries" if "--primary" in arguments else "stepfunctions"
            role = role or "gateway"
            used[role] += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return used


def execution_ends_in_log(text: str) -> Counter:
    """How many executions' ends the terminal showed, per state machine and end event."""
    return Counter(f"{machine} {event}" for machine, event in _EXECUTION_END.findall(text))


def execution_statuses(runtime: Runtime) -> Counter:
    """Every interpreter process's executions (a runtime from before several interpreters has one)."""
    state = runtime.state()
    statuses = Counter()
    for url in state.interpreter_urls or [state.stepfunctions_url]:
        client = boto3.client(
            "stepfunctions",
            endpoint_url=url,
            region_name=state.region,
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )
        for arn, name in state.state_machines.items():
            for page in client.get_paginator("list_executions").paginate(stateMachineArn=arn):
                statuses.update(f"{name} {execution['status']}" for execution in page["executions"])
    return statuses


# -- report


@dataclass(frozen=True)
class Target:
    """A target of issue #19: the runtime's figure over a baseline of the same run, at most (or at
    least) ``bound``."""

    text: str
    bound: float
    at_least: bool = False

    def met(self, ratio: float) -> bool:
        return ratio >= self.bound if self.at_least else ratio <= self.bound


def ratio_text(ratio: float) -> str:
    """3 significant digits; a ratio under 1 also as 1/N (a throughput ratio is small)."""
    return f"{ratio:.3g}x" + (f" (1/{1 / ratio:.0f})" if 0 < ratio < 1 else "")


class Report:
    """Each figure beside its baseline (the relay's, unless a target names another) and their ratio;
    ``summary`` lists every target, met or not."""

    def __init__(self):
        self._targets: list[tuple[str, str, bool]] = []
        print(f"{'figure':<50}{'runtime':>12}{'baseline':>12}{'ratio':>18}   target")

    def row(self, figure: str, runtime: float, baseline: float | None, unit: str, target: Target | None = None) -> None:
        ratio = runtime / baseline if baseline else None
        ratio_shown = ratio_text(ratio) if ratio is not None else "-"
        baseline_text = f"{baseline:.1f} {unit}" if baseline is not None else "-"
        target_text = ""
        if target is not None:
            met = ratio is not None and target.met(ratio)
            target_text = f"{target.text}: {'met' if met else 'NOT MET'}"
            self._targets.append((figure, f"{runtime:.1f} {unit} = {ratio_shown}", target_text))
        runtime_text = f"{runtime:.1f} {unit}"
        print(f"{figure:<50}{runtime_text:>12}{baseline_text:>12}{ratio_shown:>18}   {target_text}", flush=True)

    def latency(self, figure: str, runtime: list[float], relay: list[float], target: Target | None = None) -> None:
        for fraction, name in ((0.5, "p50"), (0.95, "p95"), (0.99, "p99")):
            self.row(
                f"{figure} {name} (n={len(runtime)})",
                percentile(runtime, fraction) * 1000,
                percentile(relay, fraction) * 1000,
                "ms",
                target if fraction == 0.5 else None,
            )

    def alternating(self, figure: str, whom: str, runtime: tuple, relay: tuple, target: Target) -> None:
        """measure_alternating's figures (1:1 samples, samples to all) of the runtime and the relay: the message to
        all and the 1:1 beside it against the relay's, and the runtime's message to all over its own 1:1."""
        (runtime_one, runtime_all), (relay_one, relay_all) = runtime, relay
        self.latency(f"{figure} {whom}, all frames", runtime_all, relay_all)
        self.latency("1 -> 1 beside it, both frames", runtime_one, relay_one)
        self.row(
            f"{figure} p50 over the runtime's 1 -> 1 p50",
            statistics.median(runtime_all) * 1000,
            statistics.median(runtime_one) * 1000,
            "ms",
            target,
        )

    def check(self, figure: str, shown: str, target_text: str, met: bool) -> None:
        """A target that is not a ratio (nothing lost, a memory bound)."""
        self._targets.append((figure, shown, f"{target_text}: {'met' if met else 'NOT MET'}"))
        self.note(f"{figure}: {shown}; {target_text}: {'met' if met else 'NOT MET'}")

    def note(self, text: str) -> None:
        print(f"  {text}", flush=True)

    def summary(self) -> None:
        print("targets:", flush=True)
        for figure, shown, verdict in self._targets:
            print(f"  {figure:<50}{shown:<28} {verdict}", flush=True)


def load_average() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--connect-samples", type=int, default=100)
    parser.add_argument("--send-samples", type=int, default=200)
    parser.add_argument("--fanout-recipients", type=int, default=20)
    parser.add_argument("--fanout-samples", type=int, default=50, help="messages to all, and as many to one")
    parser.add_argument("--room-members", type=int, default=50)
    parser.add_argument("--room-samples", type=int, default=30, help="messages to the room, and as many to one")
    parser.add_argument("--idle-connections", type=int, default=1000)
    parser.add_argument("--idle-seconds", type=float, default=5, help="how long the idle connections are held")
    parser.add_argument("--burst-clients", type=int, default=200)
    parser.add_argument("--burst-messages", type=int, default=50)
    parser.add_argument("--timeout", type=float, default=240, help="seconds a burst may take before it is cut")
    parser.add_argument(
        "--only", nargs="+", choices=("connect", "send", "fanout", "room", "idle", "burst"), help="run only these"
    )
    parser.add_argument("--startup", action="store_true", help="also time a start-up with a forced synthesis")
    parser.add_argument(
        "--tree",
        type=Path,
        default=PROJECT_ROOT,
        help="the checkout whose runtime is measured (default: this one), e.g. a clone of main for a before figure",
    )
    args = parser.parse_args()
    selected = set(args.only or ("connect", "send", "fanout", "room", "idle", "burst"))

    work = Path(tempfile.mkdtemp(prefix="chat-bench-"))
    root = args.tree.resolve()
    print(f"runtime of {root} ({tree_revision(root)}); output in {work}; {os.cpu_count()} cores")
    print(f"load average at the start (1, 5, 15 min): {load_average()}", flush=True)
    if args.startup:
        cold = start_runtime(work, NO_THROTTLE, "--resynth", name="cold", root=root)
        cold.stop()
        print(f"start-up with a synthesis: {cold.startup_seconds:.1f} s")
    runtime = start_runtime(work, NO_THROTTLE, root=root)
    relay = Relay()
    relay_url = relay.url
    memory = TreeMemory(runtime.process.pid)
    memory.start()
    report = Report()
    report.row("start-up, fresh cdk.out", runtime.startup_seconds, None, "s")
    urls = (runtime.url, relay_url)
    try:
        asyncio.run(measure_connect(runtime.url, 5))  # every pool warms its spare worker
        if "connect" in selected:
            samples = [asyncio.run(measure_connect(url, args.connect_samples)) for url in urls]
            report.latency("connect -> connection frame", *samples, Target("p50 <= 4x the relay", 4))
        if "send" in selected:
            runtime_send, relay_send = (asyncio.run(measure_send(url, args.send_samples)) for url in urls)
            report.latency(
                "sendMessage -> recipient",
                runtime_send.to_recipient,
                relay_send.to_recipient,
                Target("p50 <= 10x the relay", 10),
            )
            report.latency("sendMessage -> both frames", runtime_send.to_both, relay_send.to_both)
        if "fanout" in selected:
            recipients = args.fanout_recipients
            runtime_figures, relay_figures = (
                asyncio.run(measure_fanout(url, recipients, args.fanout_samples)) for url in urls
            )
            report.alternating(f"1 -> {recipients}", "recipients", runtime_figures, relay_figures, Target("<= 3x", 3))
        if "room" in selected:
            members = args.room_members
            runtime_figures, relay_figures = (
                asyncio.run(measure_room(url, members, args.room_samples, start))
                for url, start in ((runtime.url, fanout_starter(runtime)), (relay_url, None))
            )
            report.alternating(
                f"1 -> {members}", "(a room)", runtime_figures, relay_figures, Target("<= 10x (issue #17)", 10)
            )
        if "idle" in selected:
            count = args.idle_connections
            idle = [asyncio.run(measure_idle(url, count, args.idle_seconds, args.timeout)) for url in urls]
            for name, result in zip(("runtime", "raw relay"), idle, strict=True):
                delivery = result["delivery"]
                report.note(
                    f"{name}: {count} held, one message each: {delivery.unique}/{delivery.expected} frames, "
                    f"{delivery.lost} lost, {delivery.duplicates} duplicated, in {result['elapsed']:.1f} s"
                )
            for key, figure in (("fresh_connect", "connect"), ("fresh_send", "send")):
                report.row(
                    f"{figure} p50 with {count} connections held",
                    statistics.median(idle[0][key]) * 1000,
                    statistics.median(idle[1][key]) * 1000,
                    "ms",
                )
        if "burst" in selected:
            run_burst(runtime, relay_url, memory, report, args)
        report.row("peak RSS of the runtime's process tree, whole run", memory.stop() / 2**20, None, "MB")
    finally:
        relay.stop()
        runtime.stop()
    print(f"load average at the end (1, 5, 15 min): {load_average()}")
    report.summary()


def run_burst(runtime: Runtime, relay_url: str, memory: TreeMemory, report: Report, args: argparse.Namespace) -> None:
    clients, messages = args.burst_clients, args.burst_messages
    log_offset = len(runtime.log_text())
    # The relay's burst lasts about a second, so one other process's time slice moves it a lot: the
    # median of three is its figure.
    relay_bursts = [asyncio.run(measure_burst(relay_url, clients, messages, args.timeout)) for _ in range(3)]
    relay_burst = sorted(relay_bursts, key=lambda burst: burst[0].unique / burst[1])[1]
    memory.peak_bytes = 0
    cpu_before = tree_cpu_seconds(runtime.process.pid)
    runtime_burst = asyncio.run(measure_burst(runtime.url, clients, messages, args.timeout))
    burst_peak = memory.peak_bytes
    cpu_used = tree_cpu_seconds(runtime.process.pid)
    cpu_used.subtract(cpu_before)
    (delivery, elapsed), (relay_delivery, relay_elapsed) = runtime_burst, relay_burst
    report.row(
        f"burst {clients}x{messages}: delivered frames/s",
        delivery.unique / elapsed,
        relay_delivery.unique / relay_elapsed,
        "/s",
        Target(">= 1/50 of the relay", 1 / 50, at_least=True),
    )
    for name, result, seconds in (("runtime", delivery, elapsed), ("raw relay", relay_delivery, relay_elapsed)):
        report.note(
            f"{name}: {result.unique}/{result.expected} frames in {seconds:.1f} s, {result.lost} lost, "
            f"{result.duplicates} duplicated, other frames {dict(result.other_frames) or 'none'}"
        )
    report.check(
        "burst: frames lost, duplicated",
        f"{delivery.lost}, {delivery.duplicates}",
        "none",
        delivery.lost == 0 and delivery.duplicates == 0,
    )
    delivered_messages = max(delivery.unique // 2, 1)
    report.row("burst: CPU per delivered message, whole tree", cpu_used.total() / delivered_messages * 1000, None, "ms")
    shares = ", ".join(f"{role} {seconds / delivered_messages * 1000:.2f}" for role, seconds in cpu_used.most_common())
    report.note(f"CPU ms per delivered message by process: {shares}")
    time.sleep(2)  # the terminal's last lines
    after = tree_rss_bytes(runtime.process.pid)
    report.row("burst: peak RSS of the runtime's process tree", burst_peak / 2**20, None, "MB")
    report.check("burst: process tree RSS after it", f"{after / 2**20:.0f} MB", "<= 1024 MB", after <= 2**30)
    ends = execution_ends_in_log(runtime.log_text()[log_offset:])
    report.note(f"execution ends the terminal showed during the burst: {dict(ends) or 'none'}")
    report.note(f"executions the Step Functions API lists now: {dict(execution_statuses(runtime))}")


def tree_revision(root: Path) -> str:
    """The checkout's commit, and whether it has changes not committed."""
    try:
        return subprocess.run(
            ["git", "describe", "--always", "--dirty"], cwd=root, check=True, capture_output=True, text=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "not a git checkout"


if __name__ == "__main__":
    main()
