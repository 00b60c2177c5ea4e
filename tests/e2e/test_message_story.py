"""One message, traceable on a laptop: in `make dev`'s terminal every line about a message carries its id
(sendMessage's by correlation id, the fan-out's by its execution name, each delivery being a Map iteration of
that execution), and `python -m local executions <message id>` shows that execution."""

import asyncio
import json
import time

from tests.e2e.test_chat import connect, message_to_self, receive_until, run

LOG_DEADLINE_SECONDS = 15  # the terminal is written by a thread, from several processes
DELIVERED = "PassStateEntered Delivered"  # one per delivery: statemachines/message_fanout.asl.json


def lines_about(local_runtime, message_id: str, *, expected_deliveries: int) -> list[str]:
    """The terminal's lines naming the message id, once every delivery and the execution's end are in."""
    deadline = time.monotonic() + LOG_DEADLINE_SECONDS
    while True:
        lines = [line for line in local_runtime.log().splitlines() if message_id in line]
        delivered = [line for line in lines if line.startswith("[MessageFanout]") and DELIVERED in line]
        ended = any(line.startswith("[MessageFanout]") and "ExecutionSucceeded" in line for line in lines)
        # Each process writes its own lines: the fan-out's end can reach the terminal before sendMessage's.
        sent = any(line.startswith("[SendMessage]") for line in lines)
        if (len(delivered) == expected_deliveries and ended and sent) or time.monotonic() > deadline:
            return lines


def json_of(line: str) -> dict:
    return json.loads(line.split(" ", 1)[1])


def test_every_terminal_line_about_a_message_carries_its_id(local_runtime):
    async def scenario():
        (alice, alice_id), (bob, bob_id) = await asyncio.gather(connect(local_runtime), connect(local_runtime))
        await alice.send(json.dumps({"action": "sendMessage", "message": "trace me", "recipient_id": bob_id}))
        # Both copies in (the sender's own too) before closing: a closed connection would be "gone".
        frame, _ = await asyncio.gather(receive_until(bob, "message"), receive_until(alice, "message"))
        await asyncio.gather(alice.close(), bob.close())
        return alice_id, frame["message_id"]

    alice_id, message_id = run(scenario())
    lines = lines_about(local_runtime, message_id, expected_deliveries=2)

    send_message = [json_of(line) for line in lines if line.startswith("[SendMessage]")]
    fanout = [line for line in lines if line.startswith("[MessageFanout]")]
    assert [(line["message"], line["correlation_id"]) for line in send_message] == [("fan-out started", message_id)]
    assert send_message[0]["connection_id"] == alice_id
    assert any("ExecutionStarted" in line for line in fanout)
    assert sum("MapIterationStarted" in line for line in fanout) == 2, "one iteration per connection"
    assert sum(DELIVERED in line for line in fanout) == 2
    assert any("ExecutionSucceeded" in line for line in fanout)


def test_executions_shows_the_execution_of_one_message_by_its_id(local_runtime):
    _, message_id = message_to_self(local_runtime, "find me")
    lines_about(local_runtime, message_id, expected_deliveries=1)

    shown = local_runtime.local_cli("executions", message_id)

    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines()[0].split() == ["execution", message_id]
    assert "status     SUCCEEDED" in shown.stdout
    assert f'"message_id": "{message_id}"' in shown.stdout.replace('\\"', '"')
