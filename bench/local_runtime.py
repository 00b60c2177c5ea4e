"""Benchmarks of the local runtime (`python bench/local_runtime.py`); numbers go in notes, not in tests.

Measures, against a runtime it starts on a free loopback port:
  startup      seconds from `python -m local serve` to "is serving", with a fresh (warm) cdk.out
               and with a forced synthesis (cold)
  connect      connect -> connection-id frame, median/p95 of N
  send         sendMessage -> both the sender's and the recipient's frames, median/p95 of N
  burst        C clients each sending M messages to a partner at once: all frames delivered? how fast?
"""

import argparse
import asyncio
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import websockets

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))  # run as a script, from bench/: the project's packages come from its root
from local.state import read_state, state_file  # noqa: E402


def start_runtime(*, resynth: bool, log_path: Path) -> tuple[subprocess.Popen, float, str]:
    """Start `python -m local serve` on a port of its choosing; its output goes to a file, so a full
    pipe never stalls it. Returns the process, the seconds it took to serve, and its WebSocket URL."""
    state_dir = log_path.parent / "state"
    command = [sys.executable, "-m", "local", "serve", "--port", "0", "--quiet-history"]
    command += ["--state-dir", str(state_dir)]
    if resynth:
        command.append("--resynth")
    started = time.monotonic()
    with log_path.open("w") as log:
        process = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT)
    while "is serving" not in log_path.read_text(errors="replace"):
        if process.poll() is not None:
            raise SystemExit(f"runtime exited with {process.returncode} before serving; see {log_path}")
        time.sleep(0.02)
    elapsed = time.monotonic() - started
    return process, elapsed, read_state(state_file(state_dir, "dev")).websocket_url


def stop_runtime(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGINT)
    process.wait(timeout=30)


def summary(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"median {statistics.median(ordered) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms, n={len(ordered)}"


async def connect(url: str) -> tuple[websockets.ClientConnection, str, float]:
    started = time.perf_counter()
    client = await websockets.connect(url)
    frame = json.loads(await client.recv())
    return client, frame["connection_id"], time.perf_counter() - started


async def bench_connect(url: str, count: int) -> list[float]:
    samples = []
    for _ in range(count):
        client, _, elapsed = await connect(url)
        samples.append(elapsed)
        await client.close()
    return samples


async def bench_send(url: str, count: int) -> list[float]:
    alice, _, _ = await connect(url)
    bob, bob_id, _ = await connect(url)
    samples = []
    for index in range(count):
        started = time.perf_counter()
        await alice.send(json.dumps({"action": "sendMessage", "message": f"m{index}", "recipient_id": bob_id}))
        while json.loads(await alice.recv()).get("type") != "message":  # skips the accepted frame
            pass
        await bob.recv()
        samples.append(time.perf_counter() - started)
    await alice.close()
    await bob.close()
    return samples


async def bench_burst(url: str, clients: int, messages: int) -> str:
    connections = [await connect(url) for _ in range(clients)]
    expected = clients * messages * 2  # each message reaches its sender and its partner
    received = 0
    done = asyncio.Event()

    async def reader(client):
        nonlocal received
        async for raw in client:
            if json.loads(raw).get("type") == "message":
                received += 1
                if received == expected:
                    done.set()

    readers = [asyncio.create_task(reader(client)) for client, _, _ in connections]
    started = time.perf_counter()
    for index, (client, _, _) in enumerate(connections):
        partner = connections[(index + 1) % clients][1]
        for number in range(messages):
            await client.send(json.dumps({"action": "sendMessage", "message": f"b{number}", "recipient_id": partner}))
    with contextlib.suppress(TimeoutError):  # a timeout shows as fewer frames received
        await asyncio.wait_for(done.wait(), timeout=300)
    elapsed = time.perf_counter() - started
    for client, _, _ in connections:
        await client.close()
    await asyncio.gather(*readers, return_exceptions=True)
    return f"{received}/{expected} frames in {elapsed:.1f} s ({received / elapsed:.0f} frames/s)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--burst-clients", type=int, default=50)
    parser.add_argument("--burst-messages", type=int, default=20)
    parser.add_argument("--skip-cold", action="store_true", help="skip the forced-synthesis start-up")
    args = parser.parse_args()
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

    work = Path(tempfile.mkdtemp(prefix="chat-bench-"))
    print(f"runtime logs in {work}")
    if not args.skip_cold:
        process, cold, _ = start_runtime(resynth=True, log_path=work / "cold.log")
        stop_runtime(process)
        print(f"startup, cold cdk.out (synthesis): {cold:.1f} s")
    process, warm, url = start_runtime(resynth=False, log_path=work / "warm.log")
    print(f"startup, warm cdk.out: {warm:.1f} s")
    try:
        asyncio.run(bench_connect(url, 5))  # let every pool warm its spare worker
        print(f"connect -> connection id: {summary(asyncio.run(bench_connect(url, args.samples)))}")
        print(f"sendMessage -> both frames: {summary(asyncio.run(bench_send(url, args.samples)))}")
        burst = asyncio.run(bench_burst(url, args.burst_clients, args.burst_messages))
        print(f"burst {args.burst_clients} clients x {args.burst_messages} messages: {burst}")
    finally:
        stop_runtime(process)


if __name__ == "__main__":
    main()
