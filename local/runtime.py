"""Wires the local services together for one stage and runs them until Ctrl-C or SIGTERM."""

import argparse
import asyncio
import json
import signal
import socket
import time
from pathlib import Path

from aiohttp import web

from local.console import Console
from local.gateway import GatewayLimits, WebSocketGateway
from local.intrinsics import UnsupportedTemplate
from local.lambda_service import LambdaService, worker_environment
from local.stepfunctions import StepFunctionsService
from local.synth import PROJECT_ROOT, ensure_assembly, stack_name_for
from local.template import FunctionSpec, StackModel, load_stack

WEB_DIR = PROJECT_ROOT / "web"


def state_file(state_dir: Path, stage: str) -> Path:
    """Where a running runtime says which endpoints it serves (read by `python -m local executions`)."""
    return state_dir / f"{stage}.json"


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
    ):
        self.model = model
        self._console = console
        self._host = host
        self.port = port or _free_port(host)
        self._max_workers = max_workers
        self._limits = limits
        self._print_history = print_history
        self._stepfunctions: StepFunctionsService | None = None
        self._lambdas: LambdaService | None = None
        self._gateway: WebSocketGateway | None = None
        self._runner: web.AppRunner | None = None

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

    async def start(self) -> None:
        self._stepfunctions = StepFunctionsService(self.model, self._console, lambda_port=self.port)
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

        self._gateway = WebSocketGateway(
            self.model.api,
            self._lambdas,
            self._console,
            limits=self._limits,
            web_dir=WEB_DIR if WEB_DIR.is_dir() else None,
            find_function=self.model.function,
        )
        self._runner = web.AppRunner(self._gateway.application(), access_log=None, handle_signals=False)
        await self._runner.setup()
        await web.TCPSite(self._runner, self._host, self.port).start()

    async def stop(self) -> None:
        if self._gateway is not None:
            await self._gateway.close()
        if self._runner is not None:
            await self._runner.cleanup()
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
        limits=GatewayLimits(idle_timeout_seconds=args.idle_timeout, max_connection_seconds=args.max_lifetime),
        print_history=not args.quiet_history,
    )
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signal_number, stopping.set)
    try:
        await runtime.start()
        _write_state(state_file(args.state_dir, args.stage), runtime)
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


def _write_state(path: Path, runtime: LocalRuntime) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {
        "stack": runtime.model.stack_name,
        "region": runtime.model.region,
        "websocket_url": runtime.websocket_url,
        "gateway_url": runtime.local_origin,
        "stepfunctions_url": runtime.stepfunctions_url,
        "state_machines": {spec.arn: spec.display_name for spec in runtime.model.state_machines.values()},
    }
    path.write_text(json.dumps(state, indent=2), encoding="utf-8")


def _free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host or "127.0.0.1", 0))
        return probe.getsockname()[1]
