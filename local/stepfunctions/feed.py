"""Execution starts and ends, pushed from the Step Functions process to the runtime as JSON lines.

The interpreter calls back when an execution starts and when it ends; nothing polls the engine. Each
record is one line on this process's standard output (after its ``ready`` line):

    {"started": EXECUTION_ARN, "state_machine": ARN, "name": NAME}
    {"ended": EXECUTION_ARN, "state_machine": ARN, "name": NAME, "status": STATUS, "lines": [...]}

``lines`` are the execution's history events, one text line each. A writer thread of its own writes
them, so an interpreter thread never waits on the pipe.
"""

import json
import queue
import sys
import threading

from local.stepfunctions.history import describe_event
from local.stepfunctions.moto_patches.hooks import history_of_ended


class ExecutionFeed:
    def __init__(self, stream=None):
        self._stream = stream or sys.stdout
        self._records: queue.SimpleQueue = queue.SimpleQueue()
        threading.Thread(target=self._write, name="execution-feed", daemon=True).start()

    def started(self, execution) -> None:
        self._records.put(
            {"started": execution.exec_arn, "state_machine": execution.state_machine_arn, "name": execution.name}
        )

    def ended(self, execution) -> None:
        events = history_of_ended(execution)
        self._records.put(
            {
                "ended": execution.exec_arn,
                "state_machine": execution.state_machine_arn,
                "name": execution.name,
                "status": execution.status,
                "lines": [describe_event(event) for event in events],
            }
        )

    def _write(self) -> None:
        while True:
            record = self._records.get()
            self._stream.write(json.dumps(record) + "\n")
            if self._records.empty():
                self._stream.flush()
