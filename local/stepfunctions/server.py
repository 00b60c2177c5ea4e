"""moto's server with Step Functions execution on, in a process of its own.

Run by the runtime (and the workflow tests) as ``python -m local.stepfunctions.server PORT
[--keep-executions N]``: the interpreter's threads then never compete with the WebSocket gateway for
the GIL. moto sends Lambda tasks to http://localhost:$MOTO_PORT, which the runtime sets to the
gateway's port (its Lambda Invoke API); its DynamoDB and AWS SDK tasks reach this process's own server
(moto_patches.own_services), where the runtime creates the stack's tables. Prints ``ready <port>`` once
it serves, then one JSON line per execution start and end (local.stepfunctions.feed); stops on SIGTERM
or when its standard input closes. moto is patched first (local.stepfunctions.moto_patches: repairs, the
runtime's hooks, and speed-ups unless LOCAL_MOTO_TUNING=off); it refuses to start when a patch no longer
fits moto.
"""

import argparse
import logging
import os
import sys

from moto.server import ThreadedMotoServer

from local.stepfunctions import DEFAULT_KEEP_EXECUTIONS, moto_patches
from local.stepfunctions.feed import ExecutionFeed
from local.stepfunctions.moto_patches import own_services
from local.stepfunctions.moto_patches.speedups import tuning_enabled


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.stepfunctions.server")
    parser.add_argument("port", type=int)
    parser.add_argument("--keep-executions", type=int, default=DEFAULT_KEEP_EXECUTIONS)
    args = parser.parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access-log line per API call
    feed = ExecutionFeed(sys.stdout)
    try:
        moto_patches.apply(
            tuned=tuning_enabled(), started=feed.started, ended=feed.ended, keep_executions=args.keep_executions
        )
    except moto_patches.MotoPatchError as error:
        print(f"error: {error}", file=sys.stderr, flush=True)
        return 2
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=args.port, verbose=False)
    server.start()
    own_services.serve_at(server.get_host_and_port()[1])
    print(f"ready {server.get_host_and_port()[1]}", flush=True)
    sys.stdin.read()  # until the runtime closes our stdin (or dies, which closes it too)
    server.stop()
    # Executions still running (their threads are not daemons) would keep the process alive while
    # their Lambda tasks retry against a runtime that has stopped: they end with the runtime.
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
