"""moto's server with Step Functions execution on, in a process of its own.

Run by the runtime (and the workflow tests) as ``python -m local.stepfunctions.server PORT``: the
interpreter's threads then never compete with the WebSocket gateway for the GIL. moto sends Lambda
tasks to http://localhost:$MOTO_PORT, which the runtime sets to the gateway's port (its Lambda Invoke
API). Prints ``ready <port>`` once it serves; stops on SIGTERM or when its standard input closes.
The interpreter is tuned (local.stepfunctions.tuning) unless LOCAL_MOTO_TUNING=off.
"""

import logging
import os
import sys

from moto.server import ThreadedMotoServer

from local.stepfunctions.tuning import TuningError, tuning_enabled
from local.stepfunctions.tuning import apply as tune_interpreter


def main(port: int) -> int:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access-log line per API call
    try:
        if tuning_enabled():
            tune_interpreter()
    except TuningError as error:
        print(f"error: {error}", file=sys.stderr, flush=True)
        return 2
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    print(f"ready {server.get_host_and_port()[1]}", flush=True)
    sys.stdin.read()  # until the runtime closes our stdin (or dies, which closes it too)
    server.stop()
    # Executions still running (their threads are not daemons) would keep the process alive while
    # their Lambda tasks retry against a runtime that has stopped: they end with the runtime.
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1])))
