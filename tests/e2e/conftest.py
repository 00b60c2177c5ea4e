"""The real local runtime (`python -m local serve`), started once per test session, and its clients."""

import contextlib
import dataclasses
import os
import shutil
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

from cdk.paths import PROJECT_ROOT
from local.state import read_state, state_file
from local.synth import UnreadableManifest, is_fresh, synthesize, template_path

START_DEADLINE_SECONDS = 240  # includes a cold synthesis of the stage
# The stage most tests run: no sign-in, the tutorial's wire format byte for byte (cdk.json's "open").
OPEN_STAGE = "open"
# A stage with sign-in (auth cognito): its tests run a project copy of their own (signed_in_project), since
# cdk.out holds one fresh stage at a time.
SIGN_IN_STAGE = "dev"
# The runtime gets the environment of a developer's shell, not the unit tests' fake AWS settings.
_NOT_INHERITED = ("AWS_", "POWERTOOLS_", "HANDSHAKE_", "FANOUT_", "CALLBACK_", "MOTO_")


@dataclass(frozen=True)
class RunningRuntime:
    """A `python -m local serve` the tests started, at the port it reported in its state file."""

    port: int
    stage: str
    state_dir: Path
    log_path: Path
    project_root: Path = PROJECT_ROOT
    pid: int = 0

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/{self.stage}"

    @property
    def callback_url(self) -> str:
        return f"{self.http_url}/{self.stage}"

    def aws_client(self, service: str, endpoint_url: str, **options):
        """A boto3 client of ``service`` pointed at this runtime, with the local credentials."""
        return boto3.client(
            service,
            endpoint_url=endpoint_url,
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
            **options,
        )

    def connections_api(self):
        """boto3's @connections client, pointed at the stage's callback URL as a handler's would be."""
        return self.aws_client("apigatewaymanagementapi", self.callback_url)

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def local_cli(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "local", *args, "--stage", self.stage, "--state-dir", str(self.state_dir)],
            cwd=self.project_root,
            capture_output=True,
            text=True,
            timeout=60,
            env=runtime_environment(),
        )


def runtime_environment() -> dict[str, str]:
    return {name: value for name, value in os.environ.items() if not name.startswith(_NOT_INHERITED)}


def start_local_runtime(
    work: Path,
    *options: str,
    project_root: Path = PROJECT_ROOT,
    new_session: bool = False,
    stage: str = OPEN_STAGE,
) -> tuple[RunningRuntime, subprocess.Popen]:
    """`python -m local serve --port 0` of ``project_root`` (a copy, for tests that edit or break
    sources); its port is known once it serves (wait_until_serving). ``new_session`` gives it a
    process group of its own, for tests that press Ctrl-C."""
    runtime = RunningRuntime(
        port=0, stage=stage, state_dir=work / "state", log_path=work / "serve.log", project_root=project_root
    )
    with runtime.log_path.open("w") as log:
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "local", "serve"),
                *("--stage", runtime.stage, "--port", "0", "--state-dir", str(runtime.state_dir)),
                *options,
            ],
            cwd=project_root,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=runtime_environment(),
            start_new_session=new_session,
            preexec_fn=_ctrl_c_as_in_a_terminal,
        )
    return dataclasses.replace(runtime, pid=process.pid), process


def _ctrl_c_as_in_a_terminal() -> None:
    """SIGINT at its default in the runtime, as a terminal starts it: a test runner started as a background job
    of a non-interactive shell ignores SIGINT, and the runtime would inherit that (Ctrl-C tests would fail)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def wait_until_serving(
    runtime: RunningRuntime, process: subprocess.Popen, *, seconds: float = START_DEADLINE_SECONDS
) -> RunningRuntime:
    """The runtime once it serves, at the port it reported in its state file."""
    deadline = time.monotonic() + seconds
    while "is serving" not in runtime.log():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            process.wait()
            pytest.fail(f"the local runtime did not start:\n{runtime.log()[-4000:]}")
        time.sleep(0.2)
    state = read_state(state_file(runtime.state_dir, runtime.stage))  # written before "is serving"
    assert state is not None, "the runtime is serving but wrote no state file"
    return dataclasses.replace(runtime, port=urlsplit(state.gateway_url).port)


def stop_local_runtime(runtime: RunningRuntime, process: subprocess.Popen) -> None:
    """SIGINT, as Ctrl-C sends it; it must exit 0 within 30 s."""
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        pytest.fail("the local runtime did not shut down within 30 s of SIGINT")
    assert process.returncode == 0, runtime.log()[-4000:]


@contextlib.contextmanager
def running_local_runtime(
    work: Path, *options: str, project_root: Path = PROJECT_ROOT, stage: str = OPEN_STAGE
) -> Iterator[RunningRuntime]:
    """`python -m local serve` on a port of its choosing until the block ends; then SIGINT, and it must exit 0."""
    runtime, process = start_local_runtime(work, *options, project_root=project_root, stage=stage)
    try:
        runtime = wait_until_serving(runtime, process)
        yield runtime
    finally:
        if process.poll() is None:
            stop_local_runtime(runtime, process)


# What a copy of the project needs to run `python -m local serve` on its own sources.
_PROJECT_PARTS = ("cdk", "lambdas", "statemachines", "cdk.json", "pyproject.toml", "local", "web")  # cdk reads its pins


@pytest.fixture(scope="session", autouse=True)
def fresh_assembly(once_per_run) -> None:
    """The project's cdk.out made fresh once, before any test starts a runtime on the project: runtimes
    started at once by parallel workers would each synthesize into that one directory."""

    def synthesize_when_stale(_: Path) -> None:
        try:
            fresh = is_fresh(template_path(OPEN_STAGE))
        except UnreadableManifest:
            fresh = False
        if not fresh:
            synthesize(OPEN_STAGE, log=lambda _: None)

    once_per_run("project-cdk.out", synthesize_when_stale)


def _synthesized_copy(once_per_run, stage: str) -> Path:
    """A copy of the project with a fresh cdk.out of ``stage``, synthesized once per test run."""

    def build(directory: Path) -> None:
        copy_project(PROJECT_ROOT, directory / "chat", parts=_PROJECT_PARTS)
        subprocess.run(
            [sys.executable, "-c", f"from local.synth import synthesize; synthesize({stage!r})"],
            cwd=directory / "chat",
            env=runtime_environment(),
            check=True,
            capture_output=True,
            timeout=START_DEADLINE_SECONDS,
        )

    return once_per_run(f"synthesized-project-{stage}", build) / "chat"


@pytest.fixture(scope="session")
def synthesized_project(once_per_run) -> Path:
    """A copy of the project with a fresh cdk.out of the open stage of its own."""
    return _synthesized_copy(once_per_run, OPEN_STAGE)


@pytest.fixture(scope="session")
def signed_in_project(once_per_run) -> Path:
    """A copy of the project with a fresh cdk.out of the sign-in stage (dev) of its own."""
    return _synthesized_copy(once_per_run, SIGN_IN_STAGE)


@pytest.fixture(scope="session")
def signed_in_runtime(signed_in_project, tmp_path_factory) -> Iterator[RunningRuntime]:
    """The sign-in stage (auth cognito) served from its own project copy: users, tokens, the authorizer."""
    work = tmp_path_factory.mktemp("signed-in-runtime")
    with running_local_runtime(work, project_root=signed_in_project, stage=SIGN_IN_STAGE) as runtime:
        yield runtime


@pytest.fixture
def project_copy(synthesized_project, tmp_path) -> Path:
    """A private copy of the project (with its fresh cdk.out) that a test may edit or break."""
    root = tmp_path / "chat"
    copy_project(synthesized_project, root, parts=(*_PROJECT_PARTS, "cdk.out"))
    return root


def copy_project(source: Path, target: Path, *, parts: tuple[str, ...]) -> None:
    """Copies keep their modification times, so a copied cdk.out stays newer than the copied sources."""
    ignore = shutil.ignore_patterns("__pycache__", ".pytest_cache")
    target.mkdir(parents=True)
    for part in parts:
        if (source / part).is_dir():
            shutil.copytree(source / part, target / part, ignore=ignore, symlinks=True)
        else:
            shutil.copy2(source / part, target / part)


@pytest.fixture(scope="session")
def local_runtime(tmp_path_factory) -> Iterator[RunningRuntime]:
    with running_local_runtime(tmp_path_factory.mktemp("local-runtime")) as runtime:
        yield runtime


def answer(handler, status: int, data: bytes, headers: dict[str, str]) -> None:
    """A loopback http.server handler's answer: status, headers, Content-Length and body."""
    handler.send_response(status)
    for name, value in {**headers, "Content-Length": str(len(data))}.items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(data)
