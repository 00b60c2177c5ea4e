"""Shared test set-up: environment, sample events, a fake Lambda context and stubbed AWS clients, and what
parallel workers (pytest-xdist, ``make test``) share.

The handlers read their configuration and build their boto3 clients when they are imported, so the
environment is set here, at collection time, before any test module imports a handler.
"""

import copy
import fcntl
import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

TESTS_DIR = Path(__file__).resolve().parent
EVENTS_DIR = TESTS_DIR / "events"

REGION = "us-east-1"
ACCOUNT = "123456789012"
HANDSHAKE_STATE_MACHINE_ARN = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:chat-test-connection-handshake"
FANOUT_STATE_MACHINE_ARN = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:chat-test-message-fanout"
CLEANUP_STATE_MACHINE_ARN = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:chat-test-connection-cleanup"
HISTORY_STATE_MACHINE_ARN = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:chat-test-history-page"
CONVERSATIONS_STATE_MACHINE_ARN = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:chat-test-list-conversations"
ROOM_CHANGE_STATE_MACHINE_ARN = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:chat-test-room-change"
ROOM_LISTING_STATE_MACHINE_ARN = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:chat-test-room-listing"
USER_POOL_ID = f"{REGION}_ChatTest1"
USER_POOL_CLIENT_ID = "4tchattestclient0000000000"
CALLBACK_URL = f"https://abcd123456.execute-api.{REGION}.amazonaws.com/dev"

# No AWS account: dummy credentials, no profile, no shared config that could add endpoints or retries.
for _name in [name for name in os.environ if name.startswith("AWS_ENDPOINT_URL")] + ["AWS_PROFILE"]:
    os.environ.pop(_name, None)
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "HANDSHAKE_STATE_MACHINE_ARN": HANDSHAKE_STATE_MACHINE_ARN,
        "FANOUT_STATE_MACHINE_ARN": FANOUT_STATE_MACHINE_ARN,
        "CLEANUP_STATE_MACHINE_ARN": CLEANUP_STATE_MACHINE_ARN,
        "HISTORY_RETENTION_DAYS": "30",
        "HISTORY_STATE_MACHINE_ARN": HISTORY_STATE_MACHINE_ARN,
        "HISTORY_MAX_PAGE": "50",
        "CONVERSATIONS_STATE_MACHINE_ARN": CONVERSATIONS_STATE_MACHINE_ARN,
        "ROOM_CHANGE_STATE_MACHINE_ARN": ROOM_CHANGE_STATE_MACHINE_ARN,
        "ROOM_LISTING_STATE_MACHINE_ARN": ROOM_LISTING_STATE_MACHINE_ARN,
        # The authorizer's pool and app client; sendMessage has no users (a stage without sign-in) unless a
        # test gives it a directory.
        "USER_POOL_ID": USER_POOL_ID,
        "USER_POOL_CLIENT_ID": USER_POOL_CLIENT_ID,
        "CALLBACK_URL": CALLBACK_URL,
        "STAGE": "test",
        "FUNCTION_TIMEOUT_SECONDS": "15",
        "VALID_ACTIONS": "sendMessage",
        "POWERTOOLS_SERVICE_NAME": "chat",
        "POWERTOOLS_METRICS_NAMESPACE": "ServerlessChat",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
)
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "INFO")
# Loopback servers (moto, the fakes) must never be reached through a proxy.
os.environ["NO_PROXY"] = ",".join(filter(None, [os.environ.get("NO_PROXY"), "127.0.0.1", "localhost"]))
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")


def pytest_configure(config: pytest.Config) -> None:
    # A handler that rejects its input publishes no metric; Powertools warns about that on every such call.
    config.addinivalue_line("filterwarnings", "ignore:No application metrics to publish:UserWarning")


# --- what parallel workers share -------------------------------------------------------------
# Session fixtures are per pytest-xdist worker. Tests that only read the e2e suite's shared local runtime
# run on one worker (--dist loadgroup), so that one runtime serves them all; what any worker may need
# (a synthesized stage, a synthesized copy of the project) is built once per run, by the first to ask.

SHARED_RUNTIME_GROUP = "local-runtime"


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "local_runtime" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group(SHARED_RUNTIME_GROUP))


@pytest.fixture(scope="session")
def once_per_run(tmp_path_factory) -> Callable[[str, Callable[[Path], None]], Path]:
    """``once_per_run(name, build)``: the directory ``name`` in the test run's temporary root, filled by
    ``build(directory)`` only the first time any worker asks; the others wait for it, then reuse it."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):  # each worker's base is a directory of the run's root
        root = root.parent

    def shared(name: str, build: Callable[[Path], None]) -> Path:
        directory, built = root / name, root / f"{name}.built"
        with (root / f"{name}.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, also if this worker dies
            if not built.exists():
                shutil.rmtree(directory, ignore_errors=True)
                directory.mkdir()
                build(directory)
                built.touch()
        return directory

    return shared


# --- sample events ---------------------------------------------------------------------------


def load_event(name: str) -> dict[str, Any]:
    """A fresh copy of tests/events/<name>.json."""
    return json.loads((EVENTS_DIR / f"{name}.json").read_text(encoding="utf-8"))


@dataclass(frozen=True)
class SignedInUser:
    """A user as the $connect authorizer hands them to every route of their connection."""

    id: str
    name: str
    token_expires_at: int = 4_102_444_800  # 2100-01-01: not expired

    def authorizer(self) -> dict[str, Any]:
        """``requestContext.authorizer``: the authorizer's principal and context, and API Gateway's latency."""
        return {
            "principalId": self.id,
            "user_id": self.id,
            "username": self.name,
            "token_expires_at": self.token_expires_at,
            "integrationLatency": 42,
        }


class SampleEvents:
    """Builds the sample events of tests/events/ with the fields a test cares about replaced; ``user``: the
    connection is signed in (a stage with sign-in)."""

    def connect(
        self, *, connection_id: str | None = None, request_id: str | None = None, user: SignedInUser | None = None
    ) -> dict[str, Any]:
        event = load_event("connect")
        _override_context(event, connection_id=connection_id, request_id=request_id, user=user)
        return event

    def disconnect(
        self, *, connection_id: str | None = None, status_code: int | None = None, reason: str | None = None
    ) -> dict[str, Any]:
        event = load_event("disconnect")
        _override_context(event, connection_id=connection_id)
        if status_code is not None:
            event["requestContext"]["disconnectStatusCode"] = status_code
        if reason is not None:
            event["requestContext"]["disconnectReason"] = reason
        return event

    def send_message(
        self, body: Any = None, *, connection_id: str | None = None, user: SignedInUser | None = None
    ) -> dict[str, Any]:
        """A sendMessage event; ``body`` is sent as is when a string, JSON-encoded otherwise."""
        return _message_event("send_message", body, connection_id=connection_id, user=user)

    def default(self, body: Any = None, *, connection_id: str | None = None) -> dict[str, Any]:
        """A $default event; ``body`` as in send_message (None keeps the sample's unknown action)."""
        return _message_event("default", body, connection_id=connection_id)

    def handshake_task(self, *, connection_id: str | None = None, user: SignedInUser | None = None) -> dict[str, Any]:
        event = load_event("handshake_task")
        if connection_id is not None:
            event["connection_id"] = connection_id
        if user is not None:
            event["user"] = {"id": user.id, "name": user.name}
        return event

    def authorize(self, *, token: str | None = None, connection_id: str | None = None, **query: str) -> dict[str, Any]:
        """The $connect authorizer's event; ``token`` (when given) in the query string, with ``query``."""
        event = load_event("authorize")
        parameters = {**query, **({"token": token} if token is not None else {})}
        event["queryStringParameters"] = parameters or None
        if connection_id is not None:
            event["requestContext"]["connectionId"] = connection_id
        return event


def _message_event(name: str, body: Any, *, connection_id: str | None, user: SignedInUser | None = None) -> dict:
    event = load_event(name)
    _override_context(event, connection_id=connection_id, user=user)
    if body is not None:
        event["body"] = body if isinstance(body, str) else json.dumps(body)
    return event


def _override_context(
    event: dict[str, Any],
    *,
    connection_id: str | None = None,
    request_id: str | None = None,
    user: SignedInUser | None = None,
):
    if connection_id is not None:
        event["requestContext"]["connectionId"] = connection_id
    if request_id is not None:
        event["requestContext"]["requestId"] = request_id
    if user is not None:
        event["requestContext"]["authorizer"] = user.authorizer()


@pytest.fixture(scope="session")
def events() -> SampleEvents:
    return SampleEvents()


# --- Lambda context --------------------------------------------------------------------------


@dataclass
class FakeLambdaContext:
    """What Lambda passes as ``context``: the attributes Powertools and the handlers read."""

    function_name: str = "chat-test-function"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 256
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    invoked_function_arn: str = ""
    log_group_name: str = ""
    log_stream_name: str = "2026/11/29/[$LATEST]0123456789abcdef0123456789abcdef"

    def __post_init__(self) -> None:
        self.invoked_function_arn = (
            self.invoked_function_arn or f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{self.function_name}"
        )
        self.log_group_name = self.log_group_name or f"/aws/lambda/{self.function_name}"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 10_000


@pytest.fixture(scope="session")
def make_lambda_context() -> Callable[..., FakeLambdaContext]:
    """Builds a fresh context per invocation (each has its own aws_request_id)."""
    return FakeLambdaContext


@pytest.fixture
def lambda_context(make_lambda_context) -> FakeLambdaContext:
    return make_lambda_context()


# --- stubbed boto3 clients -------------------------------------------------------------------


@dataclass
class StubbedClient:
    """A real boto3 client with botocore's Stubber active, recording every API call it is asked to make.

    ``calls`` lists (operation name, parameters) for every call, including calls the stubber had no
    response for, so tests can assert that a call was *not* made.
    """

    client: Any
    stubber: Any
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def operations(self) -> list[str]:
        return [operation for operation, _ in self.calls]

    def params(self, operation: str) -> list[dict[str, Any]]:
        return [params for name, params in self.calls if name == operation]


def answer_start_execution(stepfunctions: StubbedClient, state_machine_arn: str) -> None:
    """The stubbed Step Functions client answers its next StartExecution as having started ``state_machine_arn``."""
    stepfunctions.stubber.add_response(
        "start_execution", {"executionArn": f"{state_machine_arn}:x", "startDate": "2026-12-06T12:00:00Z"}
    )


@pytest.fixture
def stub_client(monkeypatch) -> Iterator[Callable[..., StubbedClient]]:
    """``stub_client(module, "attribute", "service")`` replaces a handler's module-level client for one test."""
    import boto3
    from botocore.stub import Stubber

    stubs: list[StubbedClient] = []

    def _stub(module: Any, attribute: str, service: str, **client_kwargs: Any) -> StubbedClient:
        client = boto3.client(service, region_name=REGION, **client_kwargs)
        stub = StubbedClient(client=client, stubber=Stubber(client))

        def record(params: dict[str, Any], model: Any, **_: Any) -> None:
            stub.calls.append((model.name, copy.deepcopy(params)))

        client.meta.events.register("provide-client-params", record)
        stub.stubber.activate()
        monkeypatch.setattr(module, attribute, client)
        stubs.append(stub)
        return stub

    yield _stub
    for stub in stubs:
        stub.stubber.deactivate()


# --- log lines -------------------------------------------------------------------------------


@pytest.fixture
def log_lines(monkeypatch) -> Callable[[], list[dict[str, Any]]]:
    """``log_lines()``: every JSON line the shared Powertools Logger wrote during the test so far."""
    import io

    from chat.observability import logger

    stream = io.StringIO()
    monkeypatch.setattr(logger.registered_handler, "stream", stream)
    return lambda: [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]
