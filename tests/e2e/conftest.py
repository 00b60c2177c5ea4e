"""The real local runtime (`python -m local serve`), started once per test session, and its clients."""

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import boto3
import pytest

from local.state import read_state, state_file

PROJECT_ROOT = Path(__file__).resolve().parents[2]
START_DEADLINE_SECONDS = 240  # includes a cold synthesis of the stage
# The runtime gets the environment of a developer's shell, not the unit tests' fake AWS settings.
_NOT_INHERITED = ("AWS_", "POWERTOOLS_", "HANDSHAKE_", "FANOUT_", "CALLBACK_", "MOTO_")


@dataclass(frozen=True)
class RunningRuntime:
    """A `python -m local serve` the tests started, at the port it reported in its state file."""

    port: int
    stage: str
    state_dir: Path
    log_path: Path

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/{self.stage}"

    @property
    def callback_url(self) -> str:
        return f"{self.http_url}/{self.stage}"

    def connections_api(self):
        """boto3's @connections client, pointed at the stage's callback URL as a handler's would be."""
        return boto3.client(
            "apigatewaymanagementapi",
            endpoint_url=self.callback_url,
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def local_cli(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "local", *args, "--stage", self.stage, "--state-dir", str(self.state_dir)],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            env=runtime_environment(),
        )


def runtime_environment() -> dict[str, str]:
    return {name: value for name, value in os.environ.items() if not name.startswith(_NOT_INHERITED)}


@contextlib.contextmanager
def running_local_runtime(work: Path, *options: str) -> Iterator[RunningRuntime]:
    """`python -m local serve` on a port of its choosing until the block ends; then SIGINT, and it must exit 0."""
    stage, state_dir, log_path = "dev", work / "state", work / "serve.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "local", "serve"),
                *("--stage", stage, "--port", "0", "--state-dir", str(state_dir)),
                *options,
            ],
            cwd=PROJECT_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=runtime_environment(),
        )
    deadline = time.monotonic() + START_DEADLINE_SECONDS
    while "is serving" not in log_path.read_text(encoding="utf-8", errors="replace"):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the local runtime did not start:\n{log_path.read_text(errors='replace')[-4000:]}")
        time.sleep(0.2)
    state = read_state(state_file(state_dir, stage))  # written before "is serving"
    assert state is not None, "the runtime is serving but wrote no state file"
    runtime = RunningRuntime(port=urlsplit(state.gateway_url).port, stage=stage, state_dir=state_dir, log_path=log_path)
    yield runtime
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        pytest.fail("the local runtime did not shut down within 30 s of SIGINT")
    assert process.returncode == 0, runtime.log()[-4000:]


@pytest.fixture(scope="session")
def local_runtime(tmp_path_factory) -> Iterator[RunningRuntime]:
    with running_local_runtime(tmp_path_factory.mktemp("local-runtime")) as runtime:
        yield runtime
