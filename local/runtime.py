"""Starts and stops the local services of one stage, and serves their APIs until Ctrl-C or SIGTERM.

One aiohttp application on one port serves the stage's WebSocket endpoint (``/<stage>``), the
@connections API under the stage's callback URL (``/<stage>/@connections/{id}``), Lambda's Invoke
API (for Step Functions' Lambda tasks) and the browser client.
"""

import argparse
import asyncio
import resource
import signal
import socket
import time

from aiohttp import web

from local.apigateway.connections import Connections
from local.apigateway.limits import TCP_HEADROOM, GatewayLimits
from local.apigateway.listener import CappedSockSite
from local.apigateway.management_api import ManagementApi
from local.apigateway.websocket import WebSocketApi
from local.awslambda.environment import worker_environment
from local.awslambda.invoke_api import MAX_INVOKE_PAYLOAD_BYTES, InvokeApi
from local.awslambda.service import LambdaService
from local.console import Console
from local.intrinsics import UnsupportedTemplate
from local.state import RuntimeState, state_file, write_state
from local.static import StaticFiles
from local.stepfunctions.service import StepFunctionsService
from local.synth import PROJECT_ROOT, ensure_assembly, stack_name_for
from local.template import FunctionSpec, StackModel, load_stack

WEB_DIR = PROJECT_ROOT / "web"
# Workers' pipes, Step Functions' and handlers' HTTP connections, log files: beside the clients'.
OPEN_FILES_BESIDES_CONNECTIONS = 512


class LocalRuntime:
    def __init__(
        self,
        model: StackModel,
        console: Console,
        *,
        host: str,
        port: int,
        max_workers: int,
        limits: GatewayLimits,
        print_history: bool,
        keep_executions: int,
    ):
        self.model = model
        self._console = console
        self._host = host
        self.port = port  # 0: the system picks a free one, known once start() has bound it
        self._max_workers = max_workers
        self._limits = limits
        self._print_history = print_history
        self._keep_executions = keep_executions
        self._stepfunctions: StepFunctionsService | None = None
        self._lambdas: LambdaService | None = None
        self._websocket: WebSocketApi | None = None
        self._runner: web.AppRunner | None = None
        self._listener: socket.socket | None = None

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
        return RuntimeState(
            stack=self.model.stack_name,
            region=self.model.region,
            websocket_url=self.websocket_url,
            gateway_url=self.local_origin,
            stepfunctions_url=self.stepfunctions_url,
            state_machines={spec.arn: spec.display_name for spec in self.model.state_machines.values()},
        )

    async def start(self) -> None:
        # Bound first and served last: the port (port 0's too) is known to the services that need it
        # (MOTO_PORT, the functions' callback URL), and held, so nothing else can take it meanwhile.
        self._listener = _bind(self._host, self.port)
        self.port = self._listener.getsockname()[1]
        self._stepfunctions = StepFunctionsService(
            self.model,
            self._console,
            lambda_port=self.port,
            api_endpoints={self.model.execute_api_origin.removeprefix("https://"): self.local_origin},
            keep_executions=self._keep_executions,
        )
        await asyncio.to_thread(self._stepfunctions.start, print_history=self._print_history)

        self._lambdas = LambdaService(self._console, max_workers_per_function=self._max_workers)
        aws_origin = self.model.execute_api_origin
        rewrite = {
            aws_origin: self.local_origin,
            aws_origin.replace("https://", "wss://"): self.local_origin.replace("http://", "ws://"),
        }
        for spec in self.model.functions.values():
            environment = worker_environment(
                spec, region=self.model.region, aws_endpoint_url=self.stepfunctions_url, rewrite=rewrite
            )
            _refuse_aws_endpoints(spec, environment, self.model.api.api_id)
            self._lambdas.add(spec, environment)
        await self._lambdas.prewarm()

        connections = Connections()
        self._websocket = WebSocketApi(self.model.api, self._lambdas, self._console, connections, limits=self._limits)
        # The Invoke API takes Lambda's payload limit; the other APIs check their own, smaller ones.
        app = web.Application(client_max_size=MAX_INVOKE_PAYLOAD_BYTES)
        self._websocket.add_routes(app)
        ManagementApi(self.model.api.stage, connections).add_routes(app)
        InvokeApi(self._lambdas, find_function=self.model.function).add_routes(app)
        StaticFiles(WEB_DIR if WEB_DIR.is_dir() else None).add_routes(app)  # last: its GET route catches all
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        max_open = self._limits.max_connections + TCP_HEADROOM
        await CappedSockSite(self._runner, self._listener, max_open=max_open, on_cap=self._say_capped).start()

    def _say_capped(self, max_open: int) -> None:
        self._console.info(f"{max_open} TCP connections open: answering new ones 503 until some close")

    async def stop(self) -> None:
        if self._websocket is not None:
            await self._websocket.close()
        if self._runner is not None:
            await self._runner.cleanup()
        if self._listener is not None:
            self._listener.close()
        if self._lambdas is not None:
            await self._lambdas.close()
        if self._stepfunctions is not None:
            await asyncio.to_thread(self._stepfunctions.stop)


def serve(args: argparse.Namespace) -> int:
    console = Console()
    started = time.monotonic()
    assembly = ensure_assembly(args.stage, force=args.resynth, log=console.info)
    model = load_stack(assembly, stack_name_for(args.stage))
    return asyncio.run(_serve(model, console, args, started))


async def _serve(model: StackModel, console: Console, args: argparse.Namespace, started: float) -> int:
    runtime = LocalRuntime(
        model,
        console,
        host=args.host,
        port=args.port,
        max_workers=args.workers,
        limits=GatewayLimits(
            idle_timeout_seconds=args.idle_timeout,
            max_connection_seconds=args.max_lifetime,
            max_connections=args.max_connections,
            route_concurrency=args.workers,
            stage_throttle=not args.no_throttle,
        ),
        print_history=not args.quiet_history,
        keep_executions=args.keep_executions,
    )
    _allow_open_files(args.max_connections, console)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signal_number, stopping.set)
    try:
        await runtime.start()
        write_state(state_file(args.state_dir, args.stage), runtime.state())
        console.info(f"{model.stack_name} is serving ({time.monotonic() - started:.1f} s to start):")
        console.info(f"  WebSocket URL   {runtime.websocket_url}")
        console.info(f"  web client      {runtime.local_origin}/")
        console.info(f"  @connections    {runtime.local_origin}/{model.api.stage}/@connections")
        console.info(f"  Step Functions  {runtime.stepfunctions_url}  (python -m local executions)")
        console.info("Ctrl-C stops it.")
        await stopping.wait()
        console.info("shutting down …")
    finally:
        await runtime.stop()
        state_file(args.state_dir, args.stage).unlink(missing_ok=True)
        console.close()
    return 0


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


def _bind(host: str, port: int) -> socket.socket:
    family, kind, protocol, _, address = socket.getaddrinfo(
        host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    listener = socket.socket(family, kind, protocol)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as aiohttp's TCPSite does
    try:
        listener.bind(address)
    except OSError:
        listener.close()
        raise
    return listener
