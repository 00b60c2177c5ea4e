"""How many bytes one message writes to CloudWatch Logs on AWS, measured on the local runtime (docs/cost.md).

Sends one message to one recipient (1 + 1 frames) and one to ten (1 + 10), then counts: SendMessage's own
log lines (as its worker printed them) and the fan-out's history events written as Step Functions writes
them to its log group at level ALL, with execution data (dev, staging) and without (prod), in the form
tests/workflows/test_fanout_log.py checks the metric filters against. Lambda's START/END/REPORT lines and
the API's access log line are not produced locally: docs/cost.md adds them.

    .venv/bin/python bench/log_volume.py
"""

import asyncio
import json
import tempfile
from pathlib import Path
from types import SimpleNamespace

from harness import PROJECT_ROOT, open_client, start_runtime

from local.stepfunctions.client import local_stepfunctions_client

RECIPIENTS = {"1 + 1": 1, "1 + 10": 10}
SETTLE_SECONDS = 3  # the fan-out ends and SendMessage's lines reach the terminal


async def accepted_message_id(client) -> str:
    while (frame := json.loads(await asyncio.wait_for(client.recv(), 60))).get("type") != "accepted":
        pass
    return frame["message_id"]


async def measure(runtime) -> dict[str, dict[str, int]]:
    # Imports aws_cdk (for the metric filters): after start_runtime has silenced jsii's Node banner.
    from tests.workflows.test_fanout_log import log_lines

    clients = [await open_client(runtime.url) for _ in range(1 + max(RECIPIENTS.values()))]
    (sender, _), recipients = clients[0], [connection_id for _, connection_id in clients[1:]]
    state = runtime.state()
    stepfunctions = local_stepfunctions_client(state.stepfunctions_url, state.region)
    fanout = next(arn for arn, name in state.state_machines.items() if name == "MessageFanout")
    figures = {}
    for label, count in RECIPIENTS.items():
        mark = len(runtime.log_text())
        frame = {"action": "sendMessage", "message": "Hello, how are you today?", "recipient_ids": recipients[:count]}
        await sender.send(json.dumps(frame))
        message_id = await accepted_message_id(sender)
        await asyncio.sleep(SETTLE_SECONDS)
        own = [
            line.split(" ", 1)[1] for line in runtime.log_text()[mark:].splitlines() if line.startswith("[SendMessage]")
        ]
        arn = f"{fanout.replace(':stateMachine:', ':execution:')}:{message_id}"
        history = stepfunctions.get_execution_history(executionArn=arn, maxResults=1000)["events"]
        execution = SimpleNamespace(arn=arn, history=history)
        figures[label] = {
            "history events": len(history),
            "fan-out log, with execution data": sum(
                len(line) + 1 for line in log_lines(execution, execution_data=True)
            ),
            "fan-out log, without": sum(len(line) + 1 for line in log_lines(execution, execution_data=False)),
            "SendMessage lines": len(own),
            "SendMessage bytes": sum(len(line) + 1 for line in own),
        }
    await asyncio.gather(*(client.close() for client, _ in clients))
    return figures


def main() -> None:
    with (
        tempfile.TemporaryDirectory(prefix="bench-log-volume-") as work,
        start_runtime(Path(work), "--quiet-history", root=PROJECT_ROOT) as runtime,
    ):
        figures = asyncio.run(measure(runtime))
    for label, values in figures.items():
        print(label)
        for name, value in values.items():
            print(f"  {name:<36}{value:>8,}")


if __name__ == "__main__":
    main()
