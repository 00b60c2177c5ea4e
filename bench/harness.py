"""What every benchmark in bench/ shares: the local runtime and the raw relay as servers, the client
side of the wire format, percentiles, and the runtime's process tree as /proc shows it.

The runtime binds port 0 and its URL is read back from the state file it writes before it says
"is serving", so no port is ever guessed (a probed free port can be taken before the server binds it).
"""

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import websockets

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))  # run as a script, from bench/: the project's packages come from its root
from local.state import RuntimeState, read_state, state_file  # noqa: E402

RELAY_SCRIPT = Path(__file__).with_name("raw_relay.py")
START_TIMEOUT = 600  # seconds; a start that synthesizes on a loaded machine takes minutes
FRAME_TIMEOUT = 60  # seconds a client waits for a frame it expects


# -- the servers


@dataclass
class Runtime:
    """One `python -m local serve`, with its terminal output in ``log_path``."""

    process: subprocess.Popen
    log_path: Path
    state_path: Path
    url: str
    startup_seconds: float

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def state(self) -> RuntimeState:
        return read_state(self.state_path)

    def stop(self) -> None:
        """Ctrl-C, as a developer stops `make dev`; killed if it is not gone within a minute."""
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            print("the runtime did not stop within 60 s of SIGINT: killed", flush=True)

    def __enter__(self) -> "Runtime":
        return self

    def __exit__(self, *_) -> None:
        self.stop()


def start_runtime(
    work: Path, *options: str, name: str = "runtime", root: Path = PROJECT_ROOT, stage: str = "open"
) -> Runtime:
    """`python -m local serve --stage <stage>` (by default open: the tutorial's chat, no sign-in, what the figures
    have always measured) of the tree at ``root`` on a port of its choosing, with a state
    directory of its own under ``work`` (a running `make dev` is untouched) and its output in
    ``work/<name>.log``; ``options`` are added to the command. Returns once it is serving."""
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")  # the synthesis it may run
    state_dir = work / f"{name}-state"
    command = [sys.executable, "-m", "local", "serve", "--stage", stage, "--port", "0", "--state-dir", str(state_dir)]
    log_path = work / f"{name}.log"
    started = time.monotonic()
    with log_path.open("w") as log:
        process = subprocess.Popen([*command, *options], cwd=root, stdout=log, stderr=subprocess.STDOUT)
    while "is serving" not in log_path.read_text(errors="replace"):
        if process.poll() is not None or time.monotonic() - started > START_TIMEOUT:
            process.kill()
            process.wait()
            raise SystemExit(f"the runtime in {root} did not start (exit code {process.returncode}); see {log_path}")
        time.sleep(0.02)
    elapsed = time.monotonic() - started
    state_path = state_file(state_dir, stage)
    return Runtime(process, log_path, state_path, read_state(state_path).websocket_url, elapsed)


class Relay:
    """bench/raw_relay.py in a process of its own, as the runtime is: the floor any local pipeline sits on."""

    def __init__(self):
        self.process = subprocess.Popen(
            [sys.executable, str(RELAY_SCRIPT)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        ready = self.process.stdout.readline().split()
        if len(ready) != 2 or ready[0] != "ready":
            self.process.kill()
            raise SystemExit("the raw relay did not start")
        self.url = f"ws://127.0.0.1:{ready[1]}"

    def stop(self) -> None:
        self.process.stdin.close()  # the relay's signal to stop
        self.process.wait(timeout=10)

    def __enter__(self) -> "Relay":
        return self

    def __exit__(self, *_) -> None:
        self.stop()


# -- clients


async def open_client(url: str) -> tuple[websockets.ClientConnection, str]:
    """A connected client and the connection id of its first frame. No keepalive pings (a client busy
    flooding must not be dropped for a late pong) and no receive limits (a slow reader must not slow
    the server it measures)."""
    client = await websockets.connect(url, ping_interval=None, max_size=None, max_queue=None, open_timeout=60)
    frame = json.loads(await asyncio.wait_for(client.recv(), FRAME_TIMEOUT))
    return client, frame["connection_id"]


def send_frame(text: str, recipient_id: str) -> str:
    return json.dumps({"action": "sendMessage", "message": text, "recipient_id": recipient_id})


async def next_message(client: websockets.ClientConnection) -> dict:
    """The next chat message frame; other frames (acknowledgements, errors) are skipped."""
    while True:
        frame = json.loads(await asyncio.wait_for(client.recv(), FRAME_TIMEOUT))
        if frame.get("type") == "message":
            return frame


# -- figures


def percentile(samples: list[float], fraction: float) -> float:
    """The sample at ``fraction`` of the sorted samples (nearest rank, the higher one)."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


# -- the runtime's process tree (Linux /proc)


def tree_pids(root_pid: int) -> list[int]:
    """The process and all its descendants."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            stat = Path(entry.path, "stat").read_text()
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry.name))
    found, pending = [], [root_pid]
    while pending:
        pid = pending.pop()
        found.append(pid)
        pending.extend(children.get(pid, []))
    return found


def command_line(pid: int) -> list[str]:
    """The process's arguments; empty once it is gone."""
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    return []


def tree_rss_bytes(root_pid: int) -> int:
    total = 0
    for pid in tree_pids(root_pid):
        with contextlib.suppress(OSError, ValueError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
    return total


class TreeMemory(threading.Thread):
    """Samples the summed RSS of a process and all its descendants; keeps the peak."""

    def __init__(self, root_pid: int, interval: float = 0.5):
        super().__init__(daemon=True)
        self._root = root_pid
        self._interval = interval
        self._stopping = threading.Event()
        self.peak_bytes = 0

    def run(self) -> None:
        while not self._stopping.wait(self._interval):
            self.peak_bytes = max(self.peak_bytes, tree_rss_bytes(self._root))

    def stop(self) -> int:
        self._stopping.set()
        self.join()
        return self.peak_bytes
