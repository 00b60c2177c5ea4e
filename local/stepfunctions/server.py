"""moto's server with Step Functions execution on, in a process of its own.

Run by the runtime (and the workflow tests) as ``python -m local.stepfunctions.server PORT
[--keep-executions N] [--primary URL]``: the interpreter's threads then never compete with the
WebSocket gateway for the GIL. With ``--primary`` it is a secondary interpreter of the primary at URL
(local.stepfunctions.interpreters). moto sends Lambda tasks to http://localhost:$MOTO_PORT, which the
runtime sets to the gateway's port (its Lambda Invoke API); its DynamoDB and AWS SDK tasks reach this
process's own server (moto_patches.own_services; in the process, without a socket, unless LOCAL_MOTO_TUNING=off:
local.stepfunctions.in_process), where the runtime creates the stack's tables (a
secondary passes them on to the primary). Prints ``ready <port>`` once it serves, then one JSON line per
execution start and end (local.stepfunctions.feed); stops on SIGTERM or when its standard input closes.
moto is patched first (local.stepfunctions.moto_patches: repairs, the runtime's hooks, and speed-ups
unless LOCAL_MOTO_TUNING=off); it refuses to start when a patch no longer fits moto.

moto's WSGI application (every moto service, as ``moto_server`` serves it) is served by cheroot, not
by werkzeug's development server as moto's ThreadedMotoServer does: werkzeug closes the connection
after every answer ("Connection: close", always) and starts a thread per connection, so each
StartExecution of a handler cost a TCP connection and a thread. cheroot keeps connections alive and
serves them from a pool of threads.
"""

import argparse
import logging
import os
import socket
import sys
import threading

from cheroot.wsgi import Server
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

from local.stepfunctions import DEFAULT_KEEP_EXECUTIONS, moto_patches
from local.stepfunctions.backend_apps import backend_app
from local.stepfunctions.feed import ExecutionFeed
from local.stepfunctions.in_process import InProcessTransport
from local.stepfunctions.interpreters import PrimaryForwarder, RunningExecutions, StartExecutionRouter
from local.stepfunctions.moto_patches import own_services
from local.stepfunctions.moto_patches.speedups import tuning_enabled
from local.stepfunctions.start_execution import StartExecutionFastPath

# Threads answering API calls (the interpreter runs executions on threads of its own): one per
# concurrent caller — the functions' workers, the runtime, `executions` — is plenty.
SERVER_THREADS = 16
# Connections waiting to be accepted (a burst of workers connecting at once).
LISTEN_BACKLOG = 128
# An idle kept-alive connection is closed after this long; its client opens a new one.
KEEP_ALIVE_SECONDS = 60
# The primary shares StartExecution out to its secondaries while it runs at least this many executions: a
# message at a time (a handshake, a fan-out) runs where it is started.
BUSY_AT = 1


class _ReusableAddressServer(Server):
    """cheroot's server, its port reusable at once even when it was chosen by the system (port 0).

    cheroot sets SO_REUSEADDR only on a port given to it. A process restarted on the port its killed
    predecessor was given (local.stepfunctions.service) would then fail to bind while that one's
    connections linger in FIN-WAIT or TIME-WAIT."""

    @classmethod
    def prepare_socket(cls, bind_addr, family, type, proto, nodelay, ssl_adapter, reuse_port=False):
        prepared = super().prepare_socket(bind_addr, family, type, proto, nodelay, ssl_adapter, reuse_port)
        prepared.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        return prepared


def moto_server(port: int, app) -> Server:
    """The WSGI ``app`` on 127.0.0.1:``port`` (0: any free port), bound but not yet serving."""
    server = _ReusableAddressServer(
        ("127.0.0.1", port),
        app,
        numthreads=SERVER_THREADS,
        request_queue_size=LISTEN_BACKLOG,
        timeout=KEEP_ALIVE_SECONDS,
    )
    server.prepare()
    return server


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.stepfunctions.server")
    parser.add_argument("port", type=int)
    parser.add_argument("--keep-executions", type=int, default=DEFAULT_KEEP_EXECUTIONS)
    parser.add_argument("--primary", help="the primary's URL: this process is a secondary interpreter")
    args = parser.parse_args(argv)
    logging.getLogger("cheroot").setLevel(logging.WARNING)
    feed = ExecutionFeed(sys.stdout)
    running = RunningExecutions()

    def started(execution) -> None:
        running.started()
        feed.started(execution)

    def ended(execution) -> None:
        running.ended()
        feed.ended(execution)

    try:
        tuned = tuning_enabled()
        moto_patches.apply(tuned=tuned, started=started, ended=ended, keep_executions=args.keep_executions)
    except moto_patches.MotoPatchError as error:
        print(f"error: {error}", file=sys.stderr, flush=True)
        return 2
    app = StartExecutionFastPath(DomainDispatcherApplication(backend_app if tuned else create_backend_app))
    app = PrimaryForwarder(app, args.primary) if args.primary else StartExecutionRouter(app, running, busy_at=BUSY_AT)
    server = moto_server(args.port, app)
    port = server.bind_addr[1]
    own_services.serve_at(port, InProcessTransport(app, port) if tuned else None)
    threading.Thread(target=server.serve, name="moto-server", daemon=True).start()
    print(f"ready {port}", flush=True)
    sys.stdin.read()  # until the runtime closes our stdin (or dies, which closes it too)
    server.stop()
    # Executions still running (their threads are not daemons) would keep the process alive while
    # their Lambda tasks retry against a runtime that has stopped: they end with the runtime.
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
