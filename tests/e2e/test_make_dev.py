"""`make dev` as a developer types it, in a private copy of the project: options of `serve` pass through
ARGS, and a start that is refused names what to type next, for how it was started (make or
`python -m local serve`), and the stage."""

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import websockets

from tests.e2e.conftest import PROJECT_ROOT, running_local_runtime, runtime_environment

# Beside the project copy's sources: what the Makefile reads, and the installed environments (linked).
MAKE_PARTS = ("Makefile", "package.json", "package-lock.json")
INSTALLED = (".venv", "node_modules")
START_SECONDS = 240
HINT_SECONDS = 60  # a refusal starts nothing; a loaded machine still takes a while to import

pytestmark = pytest.mark.skipif(not (PROJECT_ROOT / ".venv" / ".installed").exists(), reason="make install has not run")


@pytest.fixture
def make_project(project_copy) -> Path:
    """The project copy, with the Makefile and the installed .venv and node_modules of this checkout:
    `make install` finds them up to date, and cdk.out is the copy's own."""
    for part in MAKE_PARTS:
        (project_copy / part).write_bytes((PROJECT_ROOT / part).read_bytes())
        os.utime(project_copy / part, ns=((PROJECT_ROOT / part).stat().st_atime_ns,) * 2)
    for part in INSTALLED:
        (project_copy / part).symlink_to(PROJECT_ROOT / part, target_is_directory=True)
    return project_copy


def make(project: Path, *arguments: str) -> subprocess.Popen:
    """`make` in a process group of its own, so that Ctrl-C (SIGINT to the group) reaches what it started."""
    environment = {name: value for name, value in runtime_environment().items() if name != "STAGE"}  # the unit tests'
    return subprocess.Popen(
        ["make", "--no-print-directory", *arguments],
        cwd=project,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def refusal(process: subprocess.Popen) -> str:
    """The one `error:` line a refused start prints (a start that is not refused is stopped)."""
    try:
        output, _ = process.communicate(timeout=HINT_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGINT)
        output, _ = process.communicate(timeout=60)
        pytest.fail(f"it was not refused:\n{output}")
    assert process.returncode != 0, output
    errors = [line for line in output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, output
    return errors[0]


def serve(project: Path, *arguments: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "local", "serve", *arguments]
    return subprocess.Popen(
        command,
        cwd=project,
        env=runtime_environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


async def connect_once(url: str) -> None:
    async with websockets.connect(url) as client:
        assert "connection_id" in json.loads(await asyncio.wait_for(client.recv(), 30))


def suggested_port(hint: str, pattern: str) -> int:
    found = re.search(pattern, hint)
    assert found, hint
    return int(found[1])


def test_make_dev_passes_args_to_serve(make_project, tmp_path):
    state_dir = tmp_path / "state"
    process = make(make_project, "dev", "STAGE=open", "PORT=0", f"ARGS=--state-dir {state_dir} --quiet-history")
    output = []
    try:
        deadline = time.monotonic() + START_SECONDS
        while not any("WebSocket URL" in line for line in output):  # printed after "is serving"
            assert process.poll() is None and time.monotonic() < deadline, "".join(output)
            output.append(process.stdout.readline())
        assert (state_dir / "open.json").is_file()  # --state-dir reached serve
        url = next(line.split()[-1] for line in output if "WebSocket URL" in line)

        asyncio.run(connect_once(url))
        time.sleep(2)  # the handshake's history would be printed by now
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)  # Ctrl-C reaches make and the runtime, as in a terminal
        rest, _ = process.communicate(timeout=60)
    log = "".join(output) + rest
    assert "[ConnectionHandshake]" not in log  # --quiet-history reached serve
    assert "shutting down … (execution history lives only while the runtime runs" in log


def test_port_taken_by_another_program_names_the_port_to_type_for_make_and_for_python(make_project, tmp_path):
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]

        by_make = refusal(make(make_project, "dev", "STAGE=open", f"PORT={port}", f"ARGS=--state-dir {tmp_path}"))
        by_python = refusal(serve(make_project, "--stage", "open", "--port", str(port), "--state-dir", str(tmp_path)))

    assert f"port {port}" in by_make and "stage open" in by_make
    assert "--port" not in by_make
    assert free(suggested_port(by_make, r"`make dev STAGE=open PORT=(\d+)`"))
    assert f"port {port}" in by_python and "stage open" in by_python
    assert free(suggested_port(by_python, r"`python -m local serve --stage open --port (\d+)`"))


def test_make_dev_for_a_stage_already_served_names_the_stage_on_its_port_and_on_another(make_project, tmp_path):
    with running_local_runtime(tmp_path, "--quiet-history", project_root=make_project) as first:
        state = f"ARGS=--state-dir {first.state_dir}"
        same_port = refusal(make(make_project, "dev", "STAGE=open", f"PORT={first.port}", state))
        other_port = refusal(make(make_project, "dev", "STAGE=open", "PORT=0", state))
        assert (first.state_dir / "open.json").is_file()  # the first's state file is untouched
        asyncio.run(connect_once(first.ws_url))  # and it still serves

    for hint in (same_port, other_port):
        assert f"stage open is already served by process {first.pid} at {first.ws_url}" in hint, hint
        assert "--port" not in hint
        assert "`make dev PORT=" in hint  # another stage of cdk.json (dev, make's default) can run beside it
