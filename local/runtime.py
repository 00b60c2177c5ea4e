"""Starts and stops the local services of one stage, and serves their APIs until Ctrl-C or SIGTERM.

One aiohttp application on one port serves the stage's WebSocket endpoint (``/<stage>``), the
@connections API under the stage's callback URL (``/<stage>/@connections/{id}``), Lambda's Invoke
API (for Step Functions' Lambda tasks) and the browser client. While it serves, edits to the
sources are synthesized and served without a restart (local.reload).
"""

import argparse
import asyncio
import errno
import os
import resource
import signal
import socket
import tempfile
import time
from pathlib import Path

from aiohttp import web

from cdk.data_model import CONNECTIONS, MEMBERSHIPS, USERS
from cdk.web_config import cognito_auth, page_config
from local.apigateway.limits import TCP_HEADROOM, GatewayLimits
from local.apigateway.listener import CappedListener
from local.apigateway.management_api import ManagementApi
from local.apigateway.open_connections import Connections
from local.apigateway.websocket import WebSocketApi
from local.awslambda.environment import worker_environment
from local.awslambda.invoke_api import MAX_INVOKE_PAYLOAD_BYTES, InvokeApi
from local.awslambda.service import LambdaService
from local.cognito_proxy import PATH as COGNITO_PATH
from local.cognito_proxy import CognitoProxy, self_sign_up
from local.console import Console
from local.refusals import Hints
from local.reload import reload_on_changes
from local.state import RuntimeState, other_instance, remove_own_state, state_file, write_state
from local.static import StaticFiles
from local.stepfunctions.service import StepFunctionsService
from local.synth import (
    PROJECT_ROOT,
    SOURCES,
    UnreadableManifest,
    is_fresh,
    source_snapshot,
    stack_name_for,
    synthesize,
    template_path,
)
from local.template import FunctionSpec, StackModel, load_stack
from local.template_errors import UnreadableTemplate, UnsupportedTemplate

WEB_DIR = PROJECT_ROOT / "web"
# Workers' pipes, Step Functions' and handlers' HTTP connections, log files: beside the clients'.
OPEN_FILES_BESIDES_CONNECTIONS = 512
# What aiohttp waits for request handlers still running once the gateway has closed every socket.
HANDLER_SHUTDOWN_SECONDS = 1


class Refused(Exception):
    """The runtime will not start (the port or the stage is taken): nothing was started."""


class PortInUse(Refused):
    """Something already listens on the port."""


class LocalRuntime:
    def __init__(
        self,
        model: StackModel,
        console: Console,
        *,
        listener: socket.socket,
        host: str,
        max_workers: int,
        async_queue_size: int,
        limits: GatewayLimits,
        print_history: bool,
        keep_executions: int,
        interpreters: int = 1,
    ):
        self.model = model
        self._console = console
        self._host = host
        self._listener = listener  # bound before anything starts, so the port is ours (port 0's too)
        self.port = listener.getsockname()[1]
        self._max_workers = max_workers
        self._async_queue_size = async_queue_size
        self._limits = limits
        self._print_history = print_history
        self._keep_executions = keep_executions
        self._interpreters = interpreters
        self._stepfunctions: StepFunctionsService | None = None
        self._stepfunctions_starting: asyncio.Future | None = None
        self._lambdas: LambdaService | None = None
        self._websocket: WebSocketApi | None = None
        self._cognito: CognitoProxy | None = None
        self._runner: web.AppRunner | None = None
        self._listening: CappedListener | None = None

    @property
    def local_origin(self) -> str:
        host = "127.0.0.1" if self._host in ("0.0.0.0", "") else self._host
        return f"http://{host}:{self.port}"

    @property
    def websocket_url(self) -> str:
        return f"{self.local_origin.replace('http://', 'ws://')}/{self.model.api.stage}"

    @property
    def stepfunctions_url(self) -> str:
        return self._stepfunctions.endpoint_url if self._stepfunctions else ""

    def state(self) -> RuntimeState:
        auth = self.cognito_settings() if self._stepfunctions else None
        return RuntimeState(
            stack=self.model.stack_name,
            region=self.model.region,
            websocket_url=self.websocket_url,
            gateway_url=self.local_origin,
            stepfunctions_url=self.stepfunctions_url,
            interpreter_urls=self._stepfunctions.endpoint_urls if self._stepfunctions else [],
            cognito={key: auth[key] for key in ("user_pool_id", "client_id")} if auth else {},
            tables={
                role: table.name
                for table in self.model.tables.values()
                for role, design in (("connections", CONNECTIONS), ("users", USERS), ("memberships", MEMBERSHIPS))
                if table.design == design
            },
            state_machines={spec.arn: spec.display_name for spec in self.model.state_machines.values()},
            pid=os.getpid(),
        )

    async def start(self) -> None:
        self._stepfunctions = StepFunctionsService(
            self.model,
            self._console,
            lambda_port=self.port,
            api_endpoints={self.model.execute_api_origin.removeprefix("https://"): self.local_origin},
            keep_executions=self._keep_executions,
            interpreters=self._interpreters,
        )
        # A thread cannot be cancelled: stop() waits for it before stopping what it started.
        self._stepfunctions_starting = asyncio.ensure_future(
            asyncio.to_thread(self._stepfunctions.start, print_history=self._print_history)
        )
        await asyncio.shield(self._stepfunctions_starting)

        self._lambdas = LambdaService(
            self._console,
            max_workers_per_function=self._max_workers,
            async_queue_size=self._async_queue_size,
            source_dirs=tuple(PROJECT_ROOT / name for name in SOURCES),
        )
        for spec, environment in self._function_environments(self.model):
            self._lambdas.add(spec, environment)
        await self._lambdas.prewarm()
        await self._serve_http()

    def _function_environments(self, model: StackModel) -> list[tuple[FunctionSpec, dict[str, str]]]:
        aws_origin = model.execute_api_origin
        rewrite = {
            aws_origin: self.local_origin,
            aws_origin.replace("https://", "wss://"): self.local_origin.replace("http://", "ws://"),
            **self._stepfunctions.cognito_ids,  # the template's pool and client ids: moto's
        }
        functions = []
        for spec in model.functions.values():
            environment = worker_environment(
                spec, region=model.region, aws_endpoint_url=self.stepfunctions_url, rewrite=rewrite
            )
            _refuse_aws_endpoints(spec, environment, model.api.api_id)
            functions.append((spec, environment))
        return functions

    async def _serve_http(self) -> None:
        connections = Connections()
        self._websocket = WebSocketApi(
            self.model.api,
            self._lambdas,
            self._console,
            connections,
            limits=self._limits,
            region=self.model.region,
            account=self.model.account,
        )
        # The Invoke API takes Lambda's payload limit; the other APIs check their own, smaller ones.
        app = web.Application(client_max_size=MAX_INVOKE_PAYLOAD_BYTES)
        self._websocket.add_routes(app)
        ManagementApi(self.model.api.stage, connections).add_routes(app)
        InvokeApi(self._lambdas, find_function=lambda name: self.model.function(name)).add_routes(app)
        auth = None
        if self.model.user_pool_clients:  # sign-in: Cognito's JSON API at this origin, and config.json says where
            self._cognito = CognitoProxy(self.stepfunctions_url, self_sign_up=self_sign_up(self.model))
            self._cognito.add_routes(app)
            auth = self.cognito_settings()
        # Last: its GET route catches all. config.json as the stack deploys it, naming this runtime's endpoints.
        settings = page_config(websocket_url=self.websocket_url, auth=auth)
        StaticFiles(WEB_DIR if WEB_DIR.is_dir() else None, settings=settings).add_routes(app)
        self._runner = web.AppRunner(
            app, access_log=None, handle_signals=False, shutdown_timeout=HANDLER_SHUTDOWN_SECONDS
        )
        await self._runner.setup()
        max_open = self._limits.max_connections + TCP_HEADROOM
        # The socket served on is closed when serving stops: it is a duplicate, so that a reload that
        # rebuilds the application keeps the port (connections wait in the backlog meanwhile).
        self._listening = CappedListener(self._runner, self._listener.dup(), max_open=max_open, on_cap=self._say_capped)
        await self._listening.start()

    def _say_capped(self, max_open: int) -> None:
        self._console.info(f"{max_open} TCP connections open: answering new ones 503 until some close")

    async def reload(self, model: StackModel) -> str:
        """Serve ``model`` (the sources changed): new workers and state machine definitions; the open
        WebSocket connections stay unless the API itself (stage, routes, route selection) changed.
        Returns what it did, for the reload line."""
        api_changed = _api_shape(model) != _api_shape(self.model)
        self._function_environments(model)  # refuses an environment naming AWS before anything changes
        if api_changed:
            await self._stop_http()
        # Not when only the functions' code changed.
        if (model.state_machines, model.tables, model.user_pools, model.user_pool_clients) != (
            self.model.state_machines,
            self.model.tables,
            self.model.user_pools,
            self.model.user_pool_clients,
        ):
            await asyncio.to_thread(self._stepfunctions.update_state_machines, model)
        functions = self._function_environments(model)  # again: with the ids of new pools in moto
        self.model = model
        await self._lambdas.replace(functions)
        if api_changed:
            await self._serve_http()
            return "the WebSocket API changed, so open connections were closed (1001)"
        return "open connections kept"

    def cognito_settings(self) -> dict | None:
        """config.json's ``auth`` for the stack's (first) app client and its pool, as moto names them; None
        when the stack has no user pool."""
        client = next(iter(self.model.user_pool_clients.values()), None)
        if client is None:
            return None
        ids = self._stepfunctions.cognito_ids
        return cognito_auth(
            region=self.model.region,
            user_pool_id=ids[self.model.user_pools[client.pool].local_id],
            client_id=ids[client.local_id],
            self_sign_up=self_sign_up(self.model),
            cognito_endpoint=f"{self.local_origin}{COGNITO_PATH}",
        )

    async def _stop_http(self) -> None:
        if self._cognito is not None:
            await self._cognito.close()
            self._cognito = None
        if self._websocket is not None:
            await self._websocket.close()  # within the gateway's shutdown grace
        if self._listening is not None:
            await self._listening.stop()
        if self._runner is not None:
            await self._runner.cleanup()
        self._websocket = self._runner = self._listening = None

    async def stop(self) -> None:
        await self._stop_http()
        self._listener.close()
        if self._lambdas is not None:
            await self._lambdas.close()
        if self._stepfunctions_starting is not None:
            await asyncio.gather(self._stepfunctions_starting, return_exceptions=True)
            await asyncio.to_thread(self._stepfunctions.stop)


def serve(args: argparse.Namespace) -> int:
    """Refuses before starting anything when the port or the stage is taken; synthesizes unless
    cdk.out is fresh; serves until Ctrl-C."""
    path = state_file(args.state_dir, args.stage)
    hints = Hints(stage=args.stage, host=args.host, port=args.port, state_dir=args.state_dir, from_make=args.from_make)
    try:
        listener = _claim_port(args.host, args.port)
    except PortInUse:
        running = other_instance(path)
        raise Refused(hints.stage_served(running) if running else hints.port_in_use()) from None
    try:
        running = other_instance(path)
        if running is not None:
            raise Refused(hints.stage_served(running))
        console = Console()
        try:
            started = time.monotonic()
            sources = source_snapshot()  # what the served version is built from
            model = load_model(args.stage, force=args.resynth, console=console)
            return asyncio.run(_serve(model, console, listener, args, started, sources))
        finally:
            console.close()
    finally:
        listener.close()


def load_model(stage: str, *, force: bool, console: Console) -> StackModel:
    """The stage's stack from cdk.out, synthesized first unless fresh; a cloud assembly that cannot be
    read is named in one line and synthesized again."""
    template = template_path(stage)
    try:
        reuse = not force and is_fresh(template)
    except UnreadableManifest as error:
        console.info(f"error: {error}; synthesizing again")
        reuse = False
    if reuse:
        console.info(f"reusing {template.relative_to(PROJECT_ROOT)} (newer than the sources)")
        try:
            return load_stack(template.parent, stack_name_for(stage))
        except UnreadableTemplate as error:
            console.info(f"error: {error}; synthesizing again")
    synthesize(stage, log=console.info)
    return load_stack(template.parent, stack_name_for(stage))


async def _serve(
    model: StackModel,
    console: Console,
    listener: socket.socket,
    args: argparse.Namespace,
    started: float,
    sources: dict[str, int],
) -> int:
    runtime = LocalRuntime(
        model,
        console,
        listener=listener,
        host=args.host,
        max_workers=args.workers,
        async_queue_size=args.async_queue_size,
        limits=GatewayLimits(
            idle_timeout_seconds=args.idle_timeout,
            max_connection_seconds=args.max_lifetime,
            max_connections=args.max_connections,
            route_concurrency=args.workers,
            stage_throttle=not args.no_throttle,
        ),
        print_history=not args.quiet_history,
        keep_executions=args.keep_executions,
        interpreters=args.interpreters,
    )
    _allow_open_files(args.max_connections, console)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signal_number, stopping.set)
    path = state_file(args.state_dir, args.stage)
    reloading: asyncio.Task | None = None
    snapshots = tempfile.TemporaryDirectory(prefix=f"chat-{args.stage}-code-")  # lambdas/ as served after edits
    try:
        if not await _until_stopped(runtime.start(), stopping):
            console.info("stopped during start-up")
            return 130
        write_state(path, runtime.state())
        console.info(f"{model.stack_name} is serving ({time.monotonic() - started:.1f} s to start):")
        console.info(f"  WebSocket URL   {runtime.websocket_url}")
        console.info(f"  web client      {runtime.local_origin}/")
        console.info(f"  @connections    {runtime.local_origin}/{model.api.stage}/@connections")
        console.info(
            f"  Step Functions  {runtime.stepfunctions_url}  (python -m local executions [an id], while it runs)"
        )
        if runtime.cognito_settings() is not None:
            stage = "" if args.stage == "dev" else f" --stage {args.stage}"
            console.info(
                f"  sign-in         clients connect with ?token=<ID token>; Cognito's API for the page at "
                f"{runtime.local_origin}{COGNITO_PATH}"
            )
            console.info(f"    add a user    .venv/bin/python -m local users add alice{stage}   (list, remove)")
            console.info(f"    get a token   TOKEN=$(.venv/bin/python -m local token alice{stage})")
            console.info(f'    connect       wscat -c "{runtime.websocket_url}?token=$TOKEN"')
        console.info("Edits to cdk/, lambdas/, statemachines/ and cdk.json are served as you save. Ctrl-C stops it.")
        reloading = asyncio.create_task(
            reload_on_changes(
                runtime,
                console,
                args.stage,
                since=sources,
                on_reload=lambda: write_state(path, runtime.state()),
                snapshots=Path(snapshots.name),
            )
        )
        await stopping.wait()
        console.info("shutting down … (execution history lives only while the runtime runs: it goes now)")
    finally:
        if reloading is not None:
            reloading.cancel()
            await asyncio.gather(reloading, return_exceptions=True)
        await runtime.stop()
        remove_own_state(path)
        snapshots.cleanup()  # after the workers that loaded them have stopped
    return 0


async def _until_stopped(work, stopping: asyncio.Event) -> bool:
    """Run ``work`` unless Ctrl-C comes first (then cancel it): whether it finished."""
    task = asyncio.ensure_future(work)
    stopped = asyncio.ensure_future(stopping.wait())
    try:
        await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopped.cancel()
    if task.done():
        task.result()  # its error, if it failed
        return True
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    return False


def _api_shape(model: StackModel) -> tuple:
    """What the clients of the WebSocket API depend on: the stage, the route selection, the routes."""
    api = model.api
    routes = sorted((key, route.function.name, route.returns_response) for key, route in api.routes.items())
    return api.stage, api.route_selection_expression, routes


def _refuse_aws_endpoints(spec: FunctionSpec, environment: dict[str, str], api_id: str) -> None:
    """A value still naming this API's AWS host would send local traffic to AWS: stop instead."""
    for name, value in environment.items():
        if f"{api_id}.execute-api." in value:
            raise UnsupportedTemplate(
                f"resource {spec.logical_id}: {name}={value} points at AWS, not at the local runtime"
            )


def _allow_open_files(max_connections: int, console: Console) -> None:
    """Each connection is an open file: raise the soft limit so the cap, not EMFILE, refuses clients."""
    needed = max_connections + TCP_HEADROOM + OPEN_FILES_BESIDES_CONNECTIONS
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= needed:
        return
    wanted = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    if wanted < needed:
        console.info(f"open files are limited to {wanted}: fewer than {max_connections} connections may fit")


def _claim_port(host: str, port: int) -> socket.socket:
    """The listening socket, bound before anything starts: a second runtime on the same port stops here."""
    family, kind, protocol, _, address = socket.getaddrinfo(
        host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    listener = socket.socket(family, kind, protocol)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as aiohttp's TCPSite does
    try:
        listener.bind(address)
        listener.listen(128)
    except OSError as error:
        listener.close()
        if error.errno == errno.EADDRINUSE:
            raise PortInUse(f"port {port} on {host} is in use") from None
        raise Refused(f"cannot listen on {host}:{port}: {error.strerror}") from None
    return listener
