"""The two fan-outs side by side on the local runtime (`python bench/fanout.py`); numbers go in docs/cost.md.

Measures, in one run and one after the other on loopback:
  relay    bench/raw_relay.py (Python `websockets`, no Lambda, no Step Functions): the floor
  direct   this tree: message_fanout posts to @connections with apigateway:invoke
  lambda   the tree just before the direct fan-out replaced it (a DeliverMessage Lambda per delivery),
           unpacked from git (`git archive`) into a temporary directory and run with this .venv
For each: sendMessage -> every frame (sender + 1 recipient, and sender + 10 recipients), median/p95
of N sequential messages, and a burst of C clients x M messages to a partner (frames/s). Each figure
is printed with its ratio to the relay's.
"""

import argparse
import asyncio
import contextlib
import io
import json
import statistics
import subprocess
import tarfile
import tempfile
import time
from pathlib import Path

from harness import PROJECT_ROOT, Relay, next_message, open_client, percentile, send_frame, start_runtime

DELIVER_MESSAGE = "lambdas/deliver_message.py"


# --- the two runtimes and the relay --------------------------------------------------------------


def lambda_fanout_tree(destination: Path) -> str:
    """Unpack the last commit that still had the Lambda delivery; returns its abbreviated hash."""
    deleted_in = subprocess.run(
        ["git", "rev-list", "-1", "HEAD", "--", DELIVER_MESSAGE], cwd=PROJECT_ROOT, check=True, capture_output=True
    ).stdout.strip()
    if not deleted_in:
        raise SystemExit(f"no commit touching {DELIVER_MESSAGE} in this history")
    revision = (
        subprocess.run(
            ["git", "rev-parse", "--short", deleted_in.decode() + "^"],
            cwd=PROJECT_ROOT,
            check=True,
            capture_output=True,
        )
        .stdout.decode()
        .strip()
    )
    archive = subprocess.run(["git", "archive", revision], cwd=PROJECT_ROOT, check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(destination, filter="data")
    return revision


# --- measurements ---------------------------------------------------------------------------------


async def fanout_latency(url: str, recipients: int, count: int) -> list[float]:
    """sendMessage -> the sender and every recipient holding the frame, one message at a time."""
    sender, _ = await open_client(url)
    others = [await open_client(url) for _ in range(recipients)]
    ids = [connection_id for _, connection_id in others]
    samples = []
    for index in range(count):
        started = time.perf_counter()
        await sender.send(json.dumps({"action": "sendMessage", "message": f"m{index}", "recipient_ids": ids}))
        await asyncio.gather(next_message(sender), *(next_message(client) for client, _ in others))
        samples.append(time.perf_counter() - started)
    for client in [sender, *(client for client, _ in others)]:
        await client.close()
    return samples


async def burst(url: str, clients: int, messages: int) -> tuple[int, int, float]:
    """Every client sends ``messages`` to its partner at once: (frames received, expected, seconds)."""
    connections = [await open_client(url) for _ in range(clients)]
    expected = clients * messages * 2
    received = 0
    done = asyncio.Event()

    async def read(client):
        nonlocal received
        while received < expected:
            await next_message(client)
            received += 1
            if received == expected:
                done.set()

    readers = [asyncio.create_task(read(client)) for client, _ in connections]
    started = time.perf_counter()
    for index, (client, _) in enumerate(connections):
        partner = connections[(index + 1) % clients][1]
        for number in range(messages):
            await client.send(send_frame(f"b{number}", partner))
    with contextlib.suppress(TimeoutError):  # shows as fewer frames received
        await asyncio.wait_for(done.wait(), timeout=300)
    elapsed = time.perf_counter() - started
    for reader in readers:
        reader.cancel()
    await asyncio.gather(*readers, return_exceptions=True)
    for client, _ in connections:
        await client.close()
    return received, expected, elapsed


async def measure(url: str, args: argparse.Namespace) -> dict[str, float | tuple]:
    await fanout_latency(url, 10, 10)  # warm up: every worker of every pool the path uses, parsed definitions
    results: dict[str, float | tuple] = {}
    for recipients in (1, 10):
        samples = await fanout_latency(url, recipients, args.samples)
        results[f"1+{recipients} median"] = statistics.median(samples)
        results[f"1+{recipients} p95"] = percentile(samples, 0.95)
    results["burst"] = await burst(url, args.burst_clients, args.burst_messages)
    return results


def report(name: str, results: dict, floor: dict) -> None:
    for key in ("1+1 median", "1+1 p95", "1+10 median", "1+10 p95"):
        ratio = results[key] / floor[key]
        print(f"  {name:7} {key:12} {results[key] * 1000:8.1f} ms   x{ratio:6.1f} the relay")
    received, expected, seconds = results["burst"]
    rate, floor_rate = received / seconds, floor["burst"][0] / floor["burst"][2]
    print(
        f"  {name:7} burst        {received}/{expected} frames in {seconds:.1f} s = {rate:.0f} frames/s"
        f"   ({rate / floor_rate:.3f} of the relay's)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=50)
    parser.add_argument("--burst-clients", type=int, default=20)
    parser.add_argument("--burst-messages", type=int, default=10)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="chat-bench-fanout-"))
    print(f"logs and the Lambda-delivery tree in {work}")

    with Relay() as relay:
        floor = asyncio.run(measure(relay.url, args))
    with start_runtime(work, name="direct") as runtime:
        direct = asyncio.run(measure(runtime.url, args))
    revision = lambda_fanout_tree(work / "lambda-tree")
    with start_runtime(work, name="lambda", root=work / "lambda-tree") as runtime:
        via_lambda = asyncio.run(measure(runtime.url, args))

    print(f"relay, direct (this tree) and lambda ({revision}); {args.samples} messages per latency figure")
    report("relay", floor, floor)
    report("direct", direct, floor)
    report("lambda", via_lambda, floor)


if __name__ == "__main__":
    main()
