"""moto's server with Step Functions execution on, in a process of its own.

Run by the runtime as ``python -m local.stepfunctions.server PORT [--keep-executions N]``: the
interpreter's threads then never compete with the WebSocket gateway for the GIL. moto sends Lambda
tasks to http://localhost:$MOTO_PORT, which the runtime sets to the gateway's port (its Lambda Invoke
API). Prints ``ready <port>`` once it serves, then one JSON line per execution start and end
(local.stepfunctions.feed); stops on SIGTERM or when its standard input closes.
"""

import argparse
import logging
import sys

from moto.server import ThreadedMotoServer

from local.stepfunctions import DEFAULT_KEEP_EXECUTIONS, tuning
from local.stepfunctions.feed import ExecutionFeed


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m local.stepfunctions.server")
    parser.add_argument("port", type=int)
    parser.add_argument("--keep-executions", type=int, default=DEFAULT_KEEP_EXECUTIONS)
    args = parser.parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access-log line per API call
    tuning.apply()
    tuning.keep_recent_executions(args.keep_executions)
    feed = ExecutionFeed(sys.stdout)
    tuning.report_execution_ends(feed.started, feed.ended)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=args.port, verbose=False)
    server.start()
    print(f"ready {server.get_host_and_port()[1]}", flush=True)
    sys.stdin.read()  # until the runtime closes our stdin (or dies, which closes it too)
    server.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
