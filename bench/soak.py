"""Soak of the local runtime under abuse (`python bench/soak.py`): loopback only, bounded in time.

Against one runtime it starts on a loopback port of its choosing (make dev's command, history off):
  baseline     a bystander's sendMessage -> both its frames, p50/p95, with nothing else running
  flood        the same figure while flooders send as fast as they can, beside the baseline;
               what the flooders got (routed, throttled), and the abuse mix sent meanwhile
               (unmasked, oversize and invalid UTF-8 frames, half-open sockets, malformed HTTP)
  after        the bystander's first round trip once the flooders have gone
  memory       RSS of the runtime's process tree before and after N executions
  recovery     after SIGKILL of every Lambda worker, and of the Step Functions process: seconds
               until a message round trip works again, or "not recovered within N s"
Each figure is measured in this run; the machine's load moves them all together.
"""

import argparse
import asyncio
import base64
import contextlib
import functools
import json
import os
import signal
import socket
import statistics
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import websockets
from harness import (
    Runtime,
    command_line,
    open_client,
    percentile,
    send_frame,
    start_runtime,
    tree_pids,
    tree_rss_bytes,
)

from cdk.names import stack_name_for
from local.synth import ASSEMBLY_DIR
from local.template import load_stack

print = functools.partial(print, flush=True)
ROUND_TRIP_TIMEOUT = 10


def percentiles(samples: list[float]) -> str:
    if not samples:
        return "no samples"
    p50, p95 = statistics.median(samples), percentile(samples, 0.95)
    return f"p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, n={len(samples)}"


class Pair:
    """A bystander and its partner: one message from one to the other, timed until both have it."""

    def __init__(self, url: str):
        self._url = url
        self.sender = self.recipient = None
        self.recipient_id = ""
        self.throttled = 0
        self._count = 0

    async def open(self) -> "Pair":
        self.sender, _ = await open_client(self._url)
        self.recipient, self.recipient_id = await open_client(self._url)
        return self

    async def round_trip(self, timeout: float = ROUND_TRIP_TIMEOUT) -> float | None:
        """Seconds until sender and recipient both got the message; None if throttled or lost."""
        self._count += 1
        text = f"bystander {self._count} {time.time()}"
        started = time.perf_counter()
        await self.sender.send(send_frame(text, self.recipient_id))
        try:
            async with asyncio.timeout(timeout):
                for client in (self.sender, self.recipient):
                    while True:
                        frame = json.loads(await client.recv())
                        if frame.get("message") == "Too Many Requests":
                            self.throttled += 1
                            return None
                        if frame.get("message") == text:
                            break
        except (TimeoutError, websockets.ConnectionClosed):
            return None
        return time.perf_counter() - started

    async def close(self) -> None:
        for client in (self.sender, self.recipient):
            with contextlib.suppress(Exception):
                await client.close()


async def measure(pair: Pair, count: int, pause: float = 0.2) -> tuple[list[float], int]:
    samples, failed = [], 0
    for _ in range(count):
        elapsed = await pair.round_trip()
        if elapsed is None:
            failed += 1
        else:
            samples.append(elapsed)
        await asyncio.sleep(pause)
    return samples, failed


class Flooder:
    """Sends sendMessage frames to itself as fast as the socket takes them; reads every answer."""

    def __init__(self, client, connection_id: str):
        self.client, self.connection_id = client, connection_id
        self.sent = self.throttled = self.delivered = 0

    async def run(self, seconds: float) -> None:
        """Flood for `seconds` (a send the server does not take by then ends it too), then go: close,
        and drop the TCP connection if the server does not answer the close within a second."""
        reader = asyncio.create_task(self._read())
        with contextlib.suppress(websockets.ConnectionClosed, TimeoutError):
            async with asyncio.timeout(seconds):
                while True:
                    await self.client.send(send_frame(f"flood {self.sent}", self.connection_id))
                    self.sent += 1
                    if self.sent % 50 == 0:
                        await asyncio.sleep(0)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.client.close(), 1)
        self.client.transport.abort()
        reader.cancel()

    async def _read(self) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for raw in self.client:
                frame = json.loads(raw)
                if frame.get("message") == "Too Many Requests":
                    self.throttled += 1
                elif frame.get("type") == "message":
                    self.delivered += 1


def a_function_name(stage: str = "open") -> str:
    """A function of the stack, named as the local runtime serving cdk.out names it (for the Invoke API)."""
    functions = load_stack(ASSEMBLY_DIR, stack_name_for(stage)).functions
    if not functions:
        raise SystemExit("no function in the template")
    return next(iter(functions.values())).name


async def abuse_mix(host: str, port: int, half_open: int) -> dict[str, str]:
    """Hostile clients, each once; what each got back."""

    def raw_websocket() -> socket.socket:
        raw = socket.create_connection((host, port), timeout=5)
        key = base64.b64encode(os.urandom(16)).decode()
        raw.sendall(
            f"GET /open HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        raw.recv(4096)
        return raw

    def close_code_after(payload: bytes, *, masked: bool = True, opcode: int = 0x1) -> str:
        raw = raw_websocket()
        length = len(payload)
        head = bytes([0x80 | opcode])
        bit = 0x80 if masked else 0
        if length < 126:
            head += bytes([bit | length])
        elif length < 65536:
            head += bytes([bit | 126]) + length.to_bytes(2, "big")
        else:
            head += bytes([bit | 127]) + length.to_bytes(8, "big")
        raw.sendall(head + (b"\0\0\0\0" if masked else b"") + payload)  # a zero mask leaves the payload as is
        data = b""
        with contextlib.suppress(OSError):
            while chunk := raw.recv(65536):
                data += chunk
        raw.close()
        at = data.rfind(b"\x88\x02")
        return f"close {int.from_bytes(data[at + 2 : at + 4], 'big')}" if at >= 0 else "no close frame"

    def http_status(path: str, body: bytes | None = None) -> str:
        request = f"{'POST' if body is not None else 'GET'} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n"
        request += f"Content-Length: {len(body)}\r\n\r\n" if body is not None else "\r\n"
        with socket.create_connection((host, port), timeout=10) as raw:
            raw.sendall(request.encode() + (body or b""))
            return raw.recv(100).split(b"\r\n", 1)[0].decode()

    sockets = []
    for _ in range(half_open):  # TCP connections that never send a request
        with contextlib.suppress(OSError):
            sockets.append(socket.create_connection((host, port), timeout=5))
    results = {
        "unmasked frame": await asyncio.to_thread(close_code_after, b'{"action":"x"}', masked=False),
        "40 KB frame": await asyncio.to_thread(close_code_after, b"x" * 40_000),
        "140 KB frame": await asyncio.to_thread(close_code_after, b"x" * 140_000),
        "invalid UTF-8": await asyncio.to_thread(close_code_after, b"\xff\xfe"),
        "GET /%00": await asyncio.to_thread(http_status, "/%00"),
        "GET 300-char segment": await asyncio.to_thread(http_status, "/" + "a" * 300),
        "Invoke, 100,000-deep JSON": await asyncio.to_thread(
            http_status, f"/2015-03-31/functions/{a_function_name()}/invocations", b"[" * 100_000 + b"]" * 100_000
        ),
        f"{half_open} half-open sockets": f"{len(sockets)} opened",
    }
    for raw in sockets:
        raw.close()
    return results


async def executions(url: str, count: int, budget: float, clients: int = 20) -> tuple[int, float]:
    """`count` sendMessage executions from `clients` clients at the pace answers come back."""
    senders = [await open_client(url) for _ in range(clients)]
    done = 0
    started = time.monotonic()

    async def drive(client, connection_id: str) -> None:
        nonlocal done
        while done < count and time.monotonic() - started < budget:
            await client.send(send_frame("soak", connection_id))
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(ROUND_TRIP_TIMEOUT):
                    while True:
                        frame = json.loads(await client.recv())
                        if frame.get("message") == "Too Many Requests":
                            await asyncio.sleep(0.05)
                            break
                        if frame.get("type") in ("message", "error"):
                            done += frame.get("type") == "message"
                            break

    await asyncio.gather(*(drive(client, connection_id) for client, connection_id in senders))
    for client, _ in senders:
        await client.close()
    return done, time.monotonic() - started


async def recovery(url: str, limit: float) -> str:
    started = time.monotonic()
    while time.monotonic() - started < limit:
        with contextlib.suppress(Exception):
            pair = await asyncio.wait_for(Pair(url).open(), 10)
            elapsed = await pair.round_trip(timeout=5)
            await pair.close()
            if elapsed is not None:
                return f"recovered in {time.monotonic() - started:.1f} s"
        await asyncio.sleep(0.5)
    return f"not recovered within {limit:.0f} s"


def kill(pids: list[int]) -> int:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return len(pids)


async def soak(args: argparse.Namespace, runtime: Runtime) -> None:
    url, process = runtime.url, runtime.process
    pair = await Pair(url).open()
    await measure(pair, 5)  # warm every pool
    baseline, baseline_failed = await measure(pair, args.samples)
    print(f"bystander, no flood:    {percentiles(baseline)}; {baseline_failed} throttled or lost")

    flooders = [Flooder(*await open_client(url)) for _ in range(args.flooders)]
    flooding = [asyncio.create_task(flooder.run(args.flood_seconds)) for flooder in flooders]
    address = urlsplit(url)
    abuse = asyncio.create_task(abuse_mix(address.hostname, address.port, args.half_open))
    during, during_failed = [], 0
    while not all(task.done() for task in flooding):
        elapsed = await pair.round_trip()
        during_failed += elapsed is None
        if elapsed is not None:
            during.append(elapsed)
        await asyncio.sleep(0.2)
    lost = f"{during_failed} throttled or lost ({pair.throttled} throttled)"
    print(f"bystander, during flood: {percentiles(during)}; {lost}")
    sent = sum(flooder.sent for flooder in flooders)
    throttled = sum(flooder.throttled for flooder in flooders)
    delivered = sum(flooder.delivered for flooder in flooders)
    print(
        f"flood: {args.flooders} clients x {args.flood_seconds:.0f} s sent {sent} frames: "
        f"{throttled} answered Too Many Requests, {delivered} delivered before they closed"
    )
    for name, outcome in (await abuse).items():
        print(f"  abuse: {name}: {outcome}")

    started = time.monotonic()
    first = await pair.round_trip(timeout=60)
    waited = time.monotonic() - started
    after, after_failed = await measure(pair, 10)
    print(
        f"bystander, flooders gone: first round trip {'lost' if first is None else f'{first * 1000:.0f} ms'} "
        f"(waited {waited:.1f} s), then {percentiles(after)}; {after_failed} throttled or lost"
    )
    await pair.close()

    before = tree_rss_bytes(process.pid) / 2**20
    done, took = await executions(url, args.executions, args.budget_seconds)
    await asyncio.sleep(2)
    print(
        f"memory: process tree RSS {before:.0f} MB before, {tree_rss_bytes(process.pid) / 2**20:.0f} MB after "
        f"{done} message executions ({took:.0f} s; plus one handshake execution per connection)"
    )

    workers = [pid for pid in tree_pids(process.pid) if any("awslambda/bootstrap.py" in a for a in command_line(pid))]
    print(f"recovery, SIGKILL of all {kill(workers)} Lambda workers: {await recovery(url, args.recovery_seconds)}")
    machines = [pid for pid in tree_pids(process.pid) if "local.stepfunctions.server" in command_line(pid)]
    kill(machines)
    print(f"recovery, SIGKILL of the Step Functions process: {await recovery(url, args.recovery_seconds)}")
    lines = runtime.log_text().splitlines()
    # The runtime's own tracebacks start a line; a function's (its handler's errors) carry its name.
    runtime_tracebacks = sum(line.startswith(("Traceback", "Error handling request")) for line in lines)
    print(f"runtime log: {runtime_tracebacks} runtime tracebacks, {len(lines)} lines ({runtime.log_path})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=30, help="bystander round trips without flood")
    parser.add_argument("--flooders", type=int, default=5)
    parser.add_argument("--flood-seconds", type=float, default=20)
    parser.add_argument("--half-open", type=int, default=200, help="TCP connections opened and left silent")
    parser.add_argument("--executions", type=int, default=10_000)
    parser.add_argument("--budget-seconds", type=float, default=300, help="the executions stop at this time")
    parser.add_argument("--recovery-seconds", type=float, default=30)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="chat-soak-"))
    with start_runtime(work, "--quiet-history", name="serve") as runtime:
        asyncio.run(soak(args, runtime))


if __name__ == "__main__":
    main()
