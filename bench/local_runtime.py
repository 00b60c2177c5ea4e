"""Benchmark of the local runtime against a raw WebSocket relay measured in the same run.

    .venv/bin/python bench/local_runtime.py            # every figure of the targets below
    .venv/bin/python bench/local_runtime.py --help     # sizes, time limits, start-up timings

The runtime is started exactly as `make dev` starts it (`python -m local serve --stage dev`, its
defaults, execution history printing included; its terminal output goes to a file), the relay
(bench/raw_relay.py: same wire format, no Lambda, no Step Functions) next to it. The same client code
measures both, one after the other, and every figure is printed with the relay's and their ratio:

  connect      connect -> connection-id frame                                 target p50 <= 15 ms
  send         sendMessage -> both the sender's and the recipient's frames   target p50 <= 10 ms, p99 <= 50 ms
  idle         1,000 connections held, then one message each: all delivered, and a fresh client's
               connect and send latency while they are held
  burst        200 clients x 50 messages each to a partner, each client sending as fast as the server
               accepts: delivered frames/s (target >= 300), lost and duplicated frames (by message_id),
               how every fanout execution ended (from the terminal's history lines and from the Step
               Functions API), the peak RSS of the runtime's whole process tree (target <= 1 GB), and the CPU
               time each process used per delivered message (which the machine's load hardly changes)
"""

import argparse
import asyncio
import contextlib
import json
import os
import re
import statistics
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import websockets
from harness import (
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
)

_EXECUTION_END = re.compile(r"^\[(\w+)\] \S+\s+(Execution(?:Succeeded|Failed|TimedOut|Aborted))\b", re.MULTILINE)
# `make dev`'s command, plus --no-throttle: the dev stage's throttle (50 requests/s, burst 100, as API
# Gateway would apply it) would answer most of a burst with Too Many Requests; the burst measures the
# runtime's capacity, not the stage's setting.
NO_THROTTLE = "--no-throttle"


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


async def measure_send(url: str, count: int) -> list[float]:
    (alice, _), (bob, bob_id) = await open_many(url, 2)
    samples = []
    for index in range(count):
        started = time.perf_counter()
        await alice.send(send_frame(f"m{index}", bob_id))
        await asyncio.gather(next_message(alice), next_message(bob))
        samples.append(time.perf_counter() - started)
    await asyncio.gather(alice.close(), bob.close())
    return samples


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
    clients: list[tuple[websockets.ClientConnection, str]], messages: int, timeout: float
) -> tuple[Delivery, float]:
    """Each client sends ``messages`` messages to the next one, all clients at once."""
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

    async def send(client, partner_id: str) -> None:
        for number in range(messages):
            await client.send(send_frame(f"b{number}", partner_id))

    readers = [asyncio.create_task(read(client)) for client, _ in clients]
    started = time.perf_counter()
    senders = asyncio.gather(
        *(send(client, clients[(index + 1) % len(clients)][1]) for index, (client, _) in enumerate(clients))
    )
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
    fresh_send = await measure_send(url, 5)
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
            role = role or ("stepfunctions" if "local.stepfunctions.server" in arguments else "gateway")
            used[role] += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return used


def execution_ends_in_log(text: str) -> Counter:
    """How many executions' ends the terminal showed, per state machine and end event."""
    return Counter(f"{machine} {event}" for machine, event in _EXECUTION_END.findall(text))


def execution_statuses(runtime: Runtime) -> Counter:
    state = runtime.state()
    client = boto3.client(
        "stepfunctions",
        endpoint_url=state.stepfunctions_url,
        region_name=state.region,
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    statuses = Counter()
    for arn, name in state.state_machines.items():
        for page in client.get_paginator("list_executions").paginate(stateMachineArn=arn):
            statuses.update(f"{name} {execution['status']}" for execution in page["executions"])
    return statuses


# -- report


class Report:
    def __init__(self):
        print(f"{'figure':<46}{'runtime':>12}{'raw relay':>12}{'ratio':>9}   target")

    def row(self, figure: str, runtime: float, relay: float | None, unit: str, target: str = "") -> None:
        ratio = f"{runtime / relay:.3g}x" if relay else "-"  # 3 significant digits: a throughput ratio is small
        relay_text = f"{relay:.1f} {unit}" if relay is not None else "-"
        print(f"{figure:<46}{f'{runtime:.1f} {unit}':>12}{relay_text:>12}{ratio:>9}   {target}", flush=True)

    def latency(self, figure: str, runtime: list[float], relay: list[float], target: dict[float, str]) -> None:
        for fraction, name in ((0.5, "p50"), (0.95, "p95"), (0.99, "p99")):
            self.row(
                f"{figure} {name} (n={len(runtime)})",
                percentile(runtime, fraction) * 1000,
                percentile(relay, fraction) * 1000,
                "ms",
                target.get(fraction, ""),
            )

    def note(self, text: str) -> None:
        print(f"  {text}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--connect-samples", type=int, default=100)
    parser.add_argument("--send-samples", type=int, default=200)
    parser.add_argument("--idle-connections", type=int, default=1000)
    parser.add_argument("--idle-seconds", type=float, default=5, help="how long the idle connections are held")
    parser.add_argument("--burst-clients", type=int, default=200)
    parser.add_argument("--burst-messages", type=int, default=50)
    parser.add_argument("--timeout", type=float, default=240, help="seconds a burst may take before it is cut")
    parser.add_argument("--only", nargs="+", choices=("connect", "send", "idle", "burst"), help="run only these")
    parser.add_argument("--startup", action="store_true", help="also time a start-up with a forced synthesis")
    args = parser.parse_args()
    selected = set(args.only or ("connect", "send", "idle", "burst"))

    work = Path(tempfile.mkdtemp(prefix="chat-bench-"))
    print(f"runtime output in {work}; {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}")
    if args.startup:
        cold = start_runtime(work, NO_THROTTLE, "--resynth", name="cold")
        cold.stop()
        print(f"start-up with a synthesis: {cold.startup_seconds:.1f} s")
    runtime = start_runtime(work, NO_THROTTLE)
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
            report.latency("connect -> connection id", *samples, {0.5: "<= 15 ms"})
        if "send" in selected:
            samples = [asyncio.run(measure_send(url, args.send_samples)) for url in urls]
            report.latency("sendMessage -> both frames", *samples, {0.5: "<= 10 ms", 0.99: "<= 50 ms"})
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
            clients, messages = args.burst_clients, args.burst_messages
            log_offset = len(runtime.log_text())
            relay_burst = asyncio.run(measure_burst(relay_url, clients, messages, args.timeout))
            memory.peak_bytes = 0
            cpu_before = tree_cpu_seconds(runtime.process.pid)
            runtime_burst = asyncio.run(measure_burst(runtime.url, clients, messages, args.timeout))
            burst_rss = memory.peak_bytes
            cpu_used = tree_cpu_seconds(runtime.process.pid)
            cpu_used.subtract(cpu_before)
            (delivery, elapsed), (relay_delivery, relay_elapsed) = runtime_burst, relay_burst
            report.row(
                f"burst {clients}x{messages}: delivered frames/s",
                delivery.unique / elapsed,
                relay_delivery.unique / relay_elapsed,
                "/s",
                ">= 300/s",
            )
            for name, result, seconds in (("runtime", delivery, elapsed), ("raw relay", relay_delivery, relay_elapsed)):
                report.note(
                    f"{name}: {result.unique}/{result.expected} frames in {seconds:.1f} s, {result.lost} lost, "
                    f"{result.duplicates} duplicated, other frames {dict(result.other_frames) or 'none'}"
                )
            report.row("burst: peak RSS of the runtime's process tree", burst_rss / 2**20, None, "MB", "<= 1024 MB")
            delivered_messages = max(delivery.unique // 2, 1)
            report.row(
                "burst: CPU per delivered message, whole tree", cpu_used.total() / delivered_messages * 1000, None, "ms"
            )
            shares = ", ".join(
                f"{role} {seconds / delivered_messages * 1000:.1f}" for role, seconds in cpu_used.most_common()
            )
            report.note(f"CPU ms per delivered message by process: {shares}")
            time.sleep(2)  # the terminal's last lines
            ends = execution_ends_in_log(runtime.log_text()[log_offset:])
            report.note(f"execution ends the terminal showed during the burst: {dict(ends) or 'none'}")
            report.note(f"executions the Step Functions API lists now: {dict(execution_statuses(runtime))}")
        report.row("peak RSS of the runtime's process tree, whole run", memory.stop() / 2**20, None, "MB")
    finally:
        relay.stop()
        runtime.stop()


if __name__ == "__main__":
    main()
