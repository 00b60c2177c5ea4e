"""What the runtime needs of moto's interpreter for the AWS services a state machine calls itself: its DynamoDB
tasks (``arn:aws:states:::dynamodb:*``), AWS SDK tasks (``arn:aws:states:::aws-sdk:*``) and Step Functions tasks
(``arn:aws:states:::states:startExecution``: a workflow starting another, room_fanout) reach this
process's own moto server, where the runtime creates the stack's tables, while its Lambda tasks keep reaching
the runtime's Lambda service at MOTO_PORT.

moto builds every task's boto3 client with one function, ``boto_client_for``, for
``http://localhost:$MOTO_PORT``: one port for every service, and the runtime's MOTO_PORT is its gateway (the
Lambda Invoke API). The DynamoDB, AWS SDK and Step Functions task modules get a ``boto_client_for`` of their own,
which gives the same client for this process's server once ``serve_at`` has named its port (before that, moto's own).
Each client is built once per service and region and then shared (boto3's clients are thread-safe): moto
builds one per task, and building one (loading the service's model) took about 10 ms of every connect's
handshake, measured with bench/local_runtime.py.
"""

import functools
import threading
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config

from local.stepfunctions.moto_patches.guard import Patch, Target

_SERVICE_TASKS = "moto.stepfunctions.parser.asl.component.state.exec.state_task.service"
_BOTO_CLIENT_FOR = "moto.stepfunctions.parser.asl.utils.boto_client"
_MOTOS_CLIENT = Target(_BOTO_CLIENT_FOR, "boto_client_for", signature="(region, service, state_credentials=None)")
_TIMEOUT = Target(
    "moto.stepfunctions.parser.asl.component.common.timeouts.timeout",
    "TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS",
    expect=("a number of seconds", lambda value: isinstance(value, int | float) and value > 0),
)
# The task modules that call the services a state machine may call on its own (not Lambda, not API Gateway).
_CALLERS = tuple(
    Target(f"{_SERVICE_TASKS}.{module}", "boto_client_for", same_as=f"{_BOTO_CLIENT_FOR}:boto_client_for")
    for module in ("state_task_service_dynamodb", "state_task_service_aws_sdk", "state_task_service_sfn")
)

_own: dict[str, Any] = {"origin": None, "in_process": None}
_clients: dict[tuple[str, str, str], Any] = {}
_building = threading.Lock()


def serve_at(port: int, in_process: Callable[..., Any] | None = None) -> None:
    """This process's moto server listens on ``port``: DynamoDB, AWS SDK and Step Functions tasks go there from now
    on, through ``in_process`` when it is given (botocore's ``before-send`` handler answering them without a socket,
    local.stepfunctions.in_process), else over HTTP."""
    _own["origin"] = f"http://127.0.0.1:{port}"
    _own["in_process"] = in_process


def _route_to_own_server() -> None:
    motos_client = _MOTOS_CLIENT.get()
    timeout = _TIMEOUT.get()

    @functools.wraps(motos_client)
    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        origin = _own["origin"]
        if origin is None:
            return motos_client(region, service, state_credentials)
        key = (origin, service, region)
        with _building:
            if key not in _clients:
                # moto's client (utils/boto_client.py), with this process's server as its endpoint.
                _clients[key] = boto3.session.Session().client(
                    service_name=service,
                    region_name=region,
                    endpoint_url=origin,
                    aws_access_key_id="ak",
                    aws_secret_access_key="sk",
                    config=Config(
                        parameter_validation=False,
                        retries={"max_attempts": 0, "total_max_attempts": 1},
                        connect_timeout=timeout,
                        read_timeout=timeout,
                    ),
                )
                if _own["in_process"] is not None:
                    _clients[key].meta.events.register("before-send", _own["in_process"])
            return _clients[key]

    for caller in _CALLERS:
        caller.replace(boto_client_for)


PATCHES = [
    Patch(
        "DynamoDB, AWS SDK and Step Functions tasks reach this process's own moto; Lambda tasks still reach MOTO_PORT",
        replaces=_CALLERS,
        reads=(_MOTOS_CLIENT, _TIMEOUT),
        install=_route_to_own_server,
    )
]
