"""Harness that runs the real statemachines/*.asl.json on the engine `make dev` runs, against the local
runtime's own @connections and Lambda APIs.

Two servers listen on 127.0.0.1:

- the engine: ``python -m local.stepfunctions.server`` (moto's server, patched by
  local/stepfunctions/moto_patches), with ``execute_state_machine`` on. It runs twice per session, with
  its speed-ups and without them (LOCAL_MOTO_TUNING=off): every workflow test runs on both, so that the
  speed-ups are shown to change nothing the tests see;
- the local gateway: one aiohttp application serving the runtime's @connections API
  (local/apigateway/management_api.py) and Lambda's Invoke API (local/awslambda/invoke_api.py), whose
  Lambda service runs the REAL task handler (send_connection_id) in a warm worker process, configured as
  deployed (its @connections client makes one try per call: every 429 reaches the state machine's
  Retry). The engine's Lambda tasks reach it through ``MOTO_PORT``; message_fanout's apigateway:invoke
  tasks through their ApiEndpoint, substituted with the gateway's origin (moto posts to
  ``{ApiEndpoint}/{Stage}/_user_request_/{Path}/``, a URL form the gateway serves).

The clients are connections in the runtime's registry whose socket records every frame it is sent
(``connections.connect``); a connection that was never connected, or has disconnected, is gone, and a
post to it answers 410 as the runtime answers it. What a gateway answers but nothing here could cause
(400, 403, 429, and 410 for a connection still opening) comes from one test hook in front of the
@connections routes: ``connections.refuse(connection_id, status, times)``.

The engine's DynamoDB and AWS SDK tasks reach the engine's own moto (as in the runtime), where the tables of
cdk/data_model.py are created as the runtime creates the template's (local.stepfunctions.tables), with a user
pool in moto's cognito-idp for the names sendMessage asks Cognito about (``signed_in``).
"""

import asyncio
import io
import itertools
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import pytest
from aiohttp import web

from cdk import data_model
from cdk.definitions import deployed_definition
from cdk.paths import LAMBDAS_DIR, PROJECT_ROOT
from local.apigateway.events import ClientInfo
from local.apigateway.management_api import ManagementApi
from local.apigateway.open_connections import Connection, Connections
from local.aws_errors import aws_error
from local.awslambda.environment import worker_environment
from local.awslambda.invoke_api import MAX_INVOKE_PAYLOAD_BYTES, InvokeApi
from local.awslambda.service import LambdaService
from local.console import Console
from local.intrinsics import substitute_definition
from local.stepfunctions.client import local_aws_client, local_stepfunctions_client
from local.stepfunctions.tables import create_tables
from local.template import FunctionSpec, StackModel, TableSpec, WebSocketApiSpec
from tests.conftest import SignedInUser
from tests.protocol import server_frames

LOOPBACK = "127.0.0.1"
STAGE = "dev"
REGION = os.environ["AWS_DEFAULT_REGION"]
ACCOUNT = "123456789012"
EXECUTION_DEADLINE_SECONDS = 60
WORKFLOWS = (
    "connection_handshake",
    "message_fanout",
    "connection_cleanup",
    "history_page",
    "room_fanout",
    "user_removal",
    "list_conversations",
    "room_change",
    "room_listing",
)
# The tables as the stack names them in the state machines' substitutions: ASL placeholder -> (name, design).
TABLES = {
    "ConnectionsTable": ("chat-test-connections", data_model.CONNECTIONS),
    "UsersTable": ("chat-test-users", data_model.USERS),
    "MessagesTable": ("chat-test-messages", data_model.MESSAGES),
    "RoomsTable": ("chat-test-rooms", data_model.ROOMS),
    "MembershipsTable": ("chat-test-memberships", data_model.MEMBERSHIPS),
    "ConversationsTable": ("chat-test-conversations", data_model.CONVERSATIONS),
}
# The stage's room limits (rooms.max_members, rooms.max_rooms_per_user) as the workflows are deployed with them here:
# small, so that the tests reach them.
MAX_MEMBERS = 3
MAX_ROOMS_PER_USER = 2
# The Lambda functions the state machines invoke: ASL placeholder -> function.
TASK_FUNCTIONS = {
    "SendConnectionIdFunctionArn": ("chat-test-SendConnectionId", "send_connection_id.handler"),
    "PackHistoryFunctionArn": ("chat-test-PackHistory", "pack_history.handler"),
}
# What the template sets beside CALLBACK_URL (cdk/functions.py), as the unit tests set it.
_FUNCTION_ENVIRONMENT = (
    "STAGE",
    "FUNCTION_TIMEOUT_SECONDS",
    "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_METRICS_NAMESPACE",
    "POWERTOOLS_LOG_LEVEL",
)


def function_arn(name: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


def state_machine_arn(workflow: str) -> str:
    """As moto names it, known before it is created: a workflow's definition may name another's."""
    return f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:chat-test-{workflow}"


def table_spec(name: str, design: data_model.TableDesign) -> TableSpec:
    """A table of the data model as the runtime reads it from the template."""
    return TableSpec(
        logical_id=name,
        display_name=name,
        name=name,
        arn=f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}",
        design=design,
    )


# --- the clients, as the gateway's @connections API sees them ------------------------------------


class RecordingSocket:
    """A client's WebSocket as the gateway's Connection uses it: every frame it is sent, as sent."""

    close_code = None

    def __init__(self) -> None:
        self.sent: list[str | bytes] = []

    async def send_str(self, data: str) -> None:
        self.sent.append(data)

    async def send_bytes(self, data: bytes) -> None:
        self.sent.append(data)

    async def close(self, *, code: int, message: bytes) -> None:
        pass


class Clients:
    """The gateway's connections (the runtime's registry), and what each post to one was answered."""

    # What API Gateway answers that nothing here could cause: the test hook's answers.
    REFUSALS: ClassVar[dict[int, tuple[str, str]]] = {
        400: ("BadRequestException", "Invalid connectionId"),
        403: ("ForbiddenException", "Forbidden"),
        410: ("GoneException", "The connection is not open yet"),
        429: ("LimitExceededException", "Rate exceeded"),
    }

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._lock = threading.Lock()
        self.registry = Connections()
        self._sockets: dict[str, RecordingSocket] = {}
        self._refusals: dict[str, list[int]] = {}
        self._attempts: dict[str, list[int]] = defaultdict(list)

    def _in_loop(self, function, *args) -> Any:
        async def call():
            return function(*args)

        return asyncio.run_coroutine_threadsafe(call(), self._loop).result(10)

    def connect(self, *connection_ids: str) -> None:
        """Open connections: posts to them are answered 200 and recorded."""
        for connection_id in connection_ids:
            self._in_loop(self._open, connection_id)

    def _open(self, connection_id: str) -> None:
        recording = self._sockets[connection_id] = RecordingSocket()
        client = ClientInfo(connection_id=connection_id, source_ip=LOOPBACK, user_agent="test", host=LOOPBACK)
        self.registry.add(Connection(client, recording, None))

    def disconnect(self, *connection_ids: str) -> None:
        """The clients leave: posts to them answer 410 (GoneException)."""
        for connection_id in connection_ids:
            self._in_loop(self.registry.remove, connection_id)

    def refuse(self, connection_id: str, status: int, times: int = 1) -> None:
        """The next ``times`` posts to ``connection_id`` are answered ``status`` (400, 403, 410 or 429),
        before the runtime's @connections API sees them."""
        assert status in self.REFUSALS
        with self._lock:
            self._refusals.setdefault(connection_id, []).extend([status] * times)

    def sent(self, connection_id: str) -> list[str | bytes]:
        """Every frame ``connection_id`` was sent, as the gateway sent it."""
        socket = self._sockets.get(connection_id)
        return list(socket.sent) if socket else []

    def frames(self, connection_id: str) -> list[Any]:
        """The frames ``connection_id`` received, parsed, in order, each checked against docs/asyncapi.yaml."""
        return server_frames(self.sent(connection_id))

    def attempts(self, connection_id: str) -> list[int]:
        """The status each post to ``connection_id`` was answered, in order."""
        with self._lock:
            return list(self._attempts.get(connection_id, []))

    def posted_to(self) -> set[str]:
        with self._lock:
            return set(self._attempts)

    def reset(self) -> None:
        for connection in self._in_loop(self.registry.all):
            self._in_loop(self.registry.remove, connection.client.connection_id)
        with self._lock:
            self._sockets.clear()
            self._refusals.clear()
            self._attempts.clear()

    def _refusal(self, connection_id: str) -> web.Response | None:
        with self._lock:
            statuses = self._refusals.get(connection_id)
            status = statuses.pop(0) if statuses else None
        if status is None:
            return None
        return aws_error(status, *self.REFUSALS[status])

    @web.middleware
    async def hook(self, request: web.Request, handler) -> web.StreamResponse:
        """In front of every route: refusals as scripted, and each @connections post's answer recorded."""
        connection_id = request.match_info.get("connection_id")
        if connection_id is None or request.method != "POST":
            return await handler(request)
        response = self._refusal(connection_id) or await handler(request)
        with self._lock:
            self._attempts[connection_id].append(response.status)
        return response


# --- the local gateway ----------------------------------------------------------------------------


@dataclass
class Invoked:
    function: str
    status: int


class LocalGateway:
    """The runtime's @connections and Lambda Invoke APIs on one port, served from a thread of their own."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="local-gateway", daemon=True)
        self.clients = Clients(self._loop)
        self.logs = io.StringIO()  # the workers' log lines, as the runtime's terminal would show them
        self._invoked: list[Invoked] = []
        self._runner: web.AppRunner | None = None
        self._lambdas: LambdaService | None = None
        self.port = 0

    @property
    def origin(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def start(self) -> None:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(60)

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def invoked(self) -> list[Invoked]:
        """Every Lambda invocation the engine asked for, in order."""
        return list(self._invoked)

    def reset(self) -> None:
        self.clients.reset()
        self._invoked.clear()

    async def _start(self) -> None:
        listener = socket.create_server((LOOPBACK, 0))
        self.port = listener.getsockname()[1]  # the functions' CALLBACK_URL names it
        model = self._model()
        self._lambdas = LambdaService(Console(self.logs), max_workers_per_function=2)
        for spec in model.functions.values():
            environment = worker_environment(spec, region=REGION, aws_endpoint_url=self.origin, rewrite={})
            self._lambdas.add(spec, environment)
        await self._lambdas.prewarm()
        app = web.Application(client_max_size=MAX_INVOKE_PAYLOAD_BYTES, middlewares=[self.clients.hook, self._record])
        ManagementApi(STAGE, self.clients.registry).add_routes(app)
        InvokeApi(self._lambdas, find_function=model.function).add_routes(app)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        await web.SockSite(self._runner, listener).start()

    def _model(self) -> StackModel:
        environment = {name: os.environ[name] for name in _FUNCTION_ENVIRONMENT}
        environment["CALLBACK_URL"] = f"{self.origin}/{STAGE}"
        functions = {
            name: FunctionSpec(
                logical_id=name,
                display_name=name,
                name=name,
                arn=function_arn(name),
                handler=handler,
                runtime="python3.13",
                code_dir=LAMBDAS_DIR,
                environment=environment,
                timeout_seconds=int(environment["FUNCTION_TIMEOUT_SECONDS"]),
                memory_mb=256,
            )
            for name, handler in TASK_FUNCTIONS.values()
        }
        api = WebSocketApiSpec(
            logical_id="Api",
            api_id="local",
            name="chat",
            route_selection_expression="$request.body.action",
            stage=STAGE,
        )
        return StackModel("chat-test", REGION, ACCOUNT, functions, {}, api)

    @web.middleware
    async def _record(self, request: web.Request, handler) -> web.StreamResponse:
        response = await handler(request)
        if "function" in request.match_info:
            self._invoked.append(Invoked(request.match_info["function"], response.status))
        return response

    async def _stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._lambdas is not None:
            await self._lambdas.close()


# --- executions ------------------------------------------------------------------------------


@dataclass
class Execution:
    arn: str
    status: str
    input: dict
    output: Any
    history: list[dict]

    def events(self, event_type: str) -> list[dict]:
        return [event for event in self.history if event["type"] == event_type]

    def task_errors(self) -> list[str]:
        return [event["taskFailedEventDetails"]["error"] for event in self.events("TaskFailed")]


class WorkflowHarness:
    """The engine, its state machines created as deployed, and the gateway its tasks reach."""

    def __init__(self, gateway: LocalGateway, *, tuned: bool) -> None:
        self.gateway = gateway
        self.connections = gateway.clients
        self._tuned = tuned
        self._engine: subprocess.Popen | None = None
        self._names = itertools.count()
        self.state_machine_arns: dict[str, str] = {}
        self._earlier: dict[str, set[str]] = {}  # executions of each workflow before the test began

    def start(self) -> None:
        self._start_engine()
        self._configure_moto(execute_state_machine=True)
        self.stepfunctions = local_stepfunctions_client(self.moto_url, REGION)
        role = f"arn:aws:iam::{ACCOUNT}:role/chat-test-workflows"
        for workflow in WORKFLOWS:
            response = self.stepfunctions.create_state_machine(
                name=f"chat-test-{workflow}",
                definition=self.definition(workflow),
                roleArn=role,
                type="EXPRESS",
            )
            self.state_machine_arns[workflow] = response["stateMachineArn"]
            assert response["stateMachineArn"] == state_machine_arn(workflow)
        create_tables(self.moto_url, REGION, [table_spec(name, design) for name, design in TABLES.values()])
        self.dynamodb = local_aws_client("dynamodb", self.moto_url, REGION)
        self.cognito = local_aws_client("cognito-idp", self.moto_url, REGION)
        self.user_pool_id = self.cognito.create_user_pool(PoolName="chat-test")["UserPool"]["Id"]

    def stop(self) -> None:
        if self._engine is not None:
            self._engine.stdin.close()  # the server's signal to stop
            self._engine.wait(timeout=30)

    def _start_engine(self) -> None:
        """The Step Functions server process; its Lambda tasks go to the gateway (MOTO_PORT)."""
        tuning = "on" if self._tuned else "off"
        self._engine = subprocess.Popen(
            [sys.executable, "-m", "local.stepfunctions.server", "0"],
            cwd=PROJECT_ROOT,
            env={**os.environ, "MOTO_PORT": str(self.gateway.port), "LOCAL_MOTO_TUNING": tuning},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        ready = self._engine.stdout.readline().split()
        if len(ready) != 2 or ready[0] != "ready":
            pytest.fail(f"the Step Functions server did not start (exit code {self._engine.wait()}); see its stderr")
        self.moto_url = f"http://{LOOPBACK}:{ready[1]}"

    def reset(self) -> None:
        self.gateway.reset()
        self._earlier = {workflow: set(self._execution_arns(workflow)) for workflow in WORKFLOWS}
        for name, design in TABLES.values():
            keys = [design.partition_key, *([design.sort_key] if design.sort_key else [])]
            for item in self.items(name):
                self.dynamodb.delete_item(TableName=name, Key={key: item[key] for key in keys})
        for user in self.cognito.list_users(UserPoolId=self.user_pool_id)["Users"]:
            self.cognito.admin_delete_user(UserPoolId=self.user_pool_id, Username=user["Username"])

    def items(self, table: str) -> list[dict]:
        """Every item of a table, as DynamoDB returns them (typed attribute values)."""
        return self.dynamodb.scan(TableName=table)["Items"]

    def registry(self) -> dict[str, dict]:
        """The connection registry: connection id -> item, each attribute as plain text."""
        return {
            item["connection_id"]["S"]: {name: next(iter(value.values())) for name, value in item.items()}
            for item in self.items(TABLES["ConnectionsTable"][0])
        }

    def users(self) -> dict[str, dict]:
        """The user directory: username key -> item, each attribute as plain text."""
        return {
            item["username"]["S"]: {name: next(iter(value.values())) for name, value in item.items()}
            for item in self.items(TABLES["UsersTable"][0])
        }

    def stored_messages(self) -> list[dict]:
        """The history table's items, each attribute as plain text, in key order."""
        items = [
            {name: next(iter(value.values())) for name, value in item.items()}
            for item in self.items(TABLES["MessagesTable"][0])
        ]
        return sorted(items, key=lambda item: (item["conversation"], item["sent_key"]))

    def _configure_moto(self, *, execute_state_machine: bool) -> None:
        request = urllib.request.Request(
            f"{self.moto_url}/moto-api/config",
            data=json.dumps({"stepfunctions": {"execute_state_machine": execute_state_machine}}).encode(),
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status < 300

    def run(self, workflow: str, execution_input: dict, name: str | None = None) -> Execution:
        """Start an execution (always named: moto needs it), wait for its end, return what it did."""
        name = name or f"test-{next(self._names)}-{uuid.uuid4().hex[:12]}"
        arn = self.stepfunctions.start_execution(
            stateMachineArn=self.state_machine_arns[workflow], name=name, input=json.dumps(execution_input)
        )["executionArn"]
        deadline = time.monotonic() + EXECUTION_DEADLINE_SECONDS
        while True:
            description = self.stepfunctions.describe_execution(executionArn=arn)
            if description["status"] != "RUNNING":
                break
            if time.monotonic() > deadline:
                raise AssertionError(f"{workflow} execution {name} still RUNNING after {EXECUTION_DEADLINE_SECONDS}s")
            time.sleep(0.05)
        output = description.get("output")
        return Execution(
            arn=arn,
            status=description["status"],
            input=execution_input,
            output=json.loads(output) if output else None,
            history=self._history(arn),
        )

    def _execution_arns(self, workflow: str) -> list[str]:
        pages = self.stepfunctions.get_paginator("list_executions").paginate(
            stateMachineArn=self.state_machine_arns[workflow]
        )
        return [execution["executionArn"] for page in pages for execution in page["executions"]]

    def started_by_workflows(self, workflow: str) -> list[Execution]:
        """The executions of ``workflow`` started since the test began (by other workflows: run's own too), once
        every execution has ended."""
        deadline = time.monotonic() + EXECUTION_DEADLINE_SECONDS
        while True:
            arns = [arn for arn in self._execution_arns(workflow) if arn not in self._earlier.get(workflow, ())]
            descriptions = [self.stepfunctions.describe_execution(executionArn=arn) for arn in arns]
            running = any(d["status"] == "RUNNING" for d in descriptions) or self._any_running()
            if not running:
                break
            if time.monotonic() > deadline:
                raise AssertionError(f"executions still RUNNING after {EXECUTION_DEADLINE_SECONDS}s")
            time.sleep(0.05)
        return [
            Execution(
                arn=d["executionArn"],
                status=d["status"],
                input=json.loads(d["input"]),
                output=json.loads(d["output"]) if d.get("output") else None,
                history=self._history(d["executionArn"]),
            )
            for d in descriptions
        ]

    def _any_running(self) -> bool:
        return any(
            self.stepfunctions.list_executions(stateMachineArn=arn, statusFilter="RUNNING")["executions"]
            for arn in self.state_machine_arns.values()
        )

    def _history(self, arn: str) -> list[dict]:
        events, token = [], None
        while True:
            page = self.stepfunctions.get_execution_history(
                executionArn=arn, maxResults=1000, **({"nextToken": token} if token else {})
            )
            events += page["events"]
            token = page.get("nextToken")
            if not token:
                return events

    def definition(self, workflow: str) -> str:
        """The deployed definition with its ${...} placeholders substituted as CloudFormation does (by the
        local runtime's substitution, which refuses a placeholder without a value), the API being the
        local gateway."""
        substitutions = {placeholder: function_arn(name) for placeholder, (name, _) in TASK_FUNCTIONS.items()}
        substitutions |= {"ConnectionsApiEndpoint": self.gateway.origin, "ConnectionsStage": STAGE}
        substitutions |= {placeholder: name for placeholder, (name, _) in TABLES.items()}
        substitutions["UsernameIndex"] = data_model.USERNAME_INDEX.name
        substitutions["MemberIndex"] = data_model.MEMBER_INDEX.name
        substitutions["RoomFanoutArn"] = state_machine_arn("room_fanout")
        substitutions["ConnectionCleanupArn"] = state_machine_arn("connection_cleanup")
        substitutions |= {"MaxMembers": MAX_MEMBERS, "MaxRoomsPerUser": MAX_ROOMS_PER_USER}
        return substitute_definition(deployed_definition(workflow), substitutions, f"{workflow} (as deployed)")


@pytest.fixture(scope="session")
def local_gateway():
    gateway = LocalGateway()
    gateway.start()
    yield gateway
    gateway.stop()


@pytest.fixture(scope="session", params=["tuned", "untuned"])
def workflow_harness(request, local_gateway):
    """The engine with its speed-ups, then without them: every workflow test runs on both."""
    harness = WorkflowHarness(local_gateway, tuned=request.param == "tuned")
    harness.start()
    yield harness
    harness.stop()


@pytest.fixture
def workflows(workflow_harness) -> WorkflowHarness:
    """The harness with no client connected and nothing recorded yet."""
    workflow_harness.reset()
    return workflow_harness


# --- inputs as the route handlers start them -------------------------------------------------


def _started_input(stub_client, module, invoke: Callable[[], dict]) -> dict:
    stub = stub_client(module, "stepfunctions", "stepfunctions")
    stub.stubber.add_response(
        "start_execution",
        {"executionArn": f"arn:aws:states:{REGION}:{ACCOUNT}:execution:x:y", "startDate": "2026-11-29T12:00:00Z"},
    )
    response = invoke()
    assert response["statusCode"] == 200, response
    (params,) = stub.params("StartExecution")
    return json.loads(params["input"])


@pytest.fixture
def handshake_input(events, lambda_context, stub_client) -> Callable[..., dict]:
    """The input on_connect starts connection_handshake with, for a client connecting as ``connection_id``
    (signed in as ``user``, on a stage with sign-in)."""
    import on_connect

    def build(connection_id: str, user: SignedInUser | None = None) -> dict:
        event = events.connect(connection_id=connection_id, user=user)
        return _started_input(stub_client, on_connect, lambda: on_connect.handler(event, lambda_context))

    return build


@pytest.fixture
def fanout_input(events, lambda_context, stub_client) -> Callable[..., dict]:
    """The input send_message starts message_fanout with, for ``body`` sent by ``sender`` (signed in as ``user``,
    on a stage with sign-in: use the ``signed_in`` fixture too)."""
    import send_message

    def build(sender: str, body: dict, user: SignedInUser | None = None) -> dict:
        event = events.send_message({"action": "sendMessage", **body}, connection_id=sender, user=user)
        return _started_input(stub_client, send_message, lambda: send_message.handler(event, lambda_context))

    return build


@pytest.fixture
def history_input(events, lambda_context, stub_client) -> Callable[..., dict]:
    """The input the history handler starts history_page with, for ``body`` sent on ``connection_id`` by
    ``user``."""
    import history

    def build(connection_id: str, body: dict, user: SignedInUser) -> dict:
        event = events.send_message({"action": "history", **body}, connection_id=connection_id, user=user)
        return _started_input(stub_client, history, lambda: history.handler(event, lambda_context))

    return build


@pytest.fixture
def room_input(events, lambda_context, stub_client) -> Callable[..., dict]:
    """The input lambdas/rooms.py starts room_change or room_listing with, for ``body`` (its action included) sent
    on ``connection_id`` by ``user``."""
    import rooms

    def build(connection_id: str, body: dict, user: SignedInUser) -> dict:
        event = events.send_message(body, connection_id=connection_id, user=user)
        return _started_input(stub_client, rooms, lambda: rooms.handler(event, lambda_context))

    return build


@pytest.fixture
def list_conversations_input(events, lambda_context, stub_client) -> Callable[..., dict]:
    """The input the listConversations handler starts list_conversations with, for ``user`` on ``connection_id``."""
    import list_conversations

    def build(connection_id: str, user: SignedInUser) -> dict:
        event = events.send_message({"action": "listConversations"}, connection_id=connection_id, user=user)
        handler = list_conversations.handler
        return _started_input(stub_client, list_conversations, lambda: handler(event, lambda_context))

    return build


@pytest.fixture
def signed_in(workflows, monkeypatch) -> WorkflowHarness:
    """A stage with sign-in: send_message checks recipient users in the engine's users table (which the
    handshake writes) and its moto user pool (``workflows.cognito``, for users who never connected)."""
    import send_message
    from chat.directory import Directory

    directory = Directory(
        dynamodb=workflows.dynamodb,
        cognito=workflows.cognito,
        users_table=TABLES["UsersTable"][0],
        user_pool_id=workflows.user_pool_id,
    )
    monkeypatch.setattr(send_message, "directory", directory)
    return workflows
