"""One message, traceable on a laptop: in `make dev`'s terminal every line about a message carries its id
(sendMessage's by correlation id, the fan-out's by its execution name, each delivery being a Map iteration of
that execution), and `python -m local executions <message id>` shows that execution, `executions <connection id>`
every execution about that connection."""

import asyncio
import json
import re
import subprocess
import sys
import time

from tests.e2e.conftest import runtime_environment
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
    deliveries = [line for line in fanout if "MapIterationStarted DeliverToEachConnection" in line]
    assert len(deliveries) == 2, "one iteration of the delivery Map per connection"
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


def cleaned_up(local_runtime, connection_id: str) -> None:
    """Waits until the terminal shows the end of the connection's cleanup (its $disconnect's workflow)."""
    deadline = time.monotonic() + LOG_DEADLINE_SECONDS
    name = handshake_name(connection_id)
    while time.monotonic() < deadline:
        if any(
            line.startswith(f"[ConnectionCleanup] {name}") and "ExecutionSucceeded" in line
            for line in local_runtime.log().splitlines()
        ):
            return
        time.sleep(0.1)


def handshake_name(connection_id: str) -> str:
    """How a connection's handshake execution name begins (lambdas/chat/execution_names.py)."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", connection_id) + "-"


def test_executions_shows_every_execution_about_one_connection_by_its_id(local_runtime):
    async def scenario():
        (alice, alice_id), (bob, bob_id) = await asyncio.gather(connect(local_runtime), connect(local_runtime))
        await alice.send(json.dumps({"action": "sendMessage", "message": "to bob", "recipient_id": bob_id}))
        to_bob, _ = await asyncio.gather(receive_until(bob, "message"), receive_until(alice, "message"))
        await bob.send(json.dumps({"action": "sendMessage", "message": "to alice", "recipient_id": alice_id}))
        to_alice, _ = await asyncio.gather(receive_until(alice, "message"), receive_until(bob, "message"))
        await asyncio.gather(alice.close(), bob.close())
        return alice_id, bob_id, to_bob["message_id"], to_alice["message_id"]

    alice_id, bob_id, sent, received = run(scenario())
    for message_id in (sent, received):
        lines_about(local_runtime, message_id, expected_deliveries=2)
    cleaned_up(local_runtime, alice_id)

    shown = local_runtime.local_cli("executions", alice_id)

    assert shown.returncode == 0, shown.stderr
    listed = shown.stdout.split("\n\n", 1)[0].splitlines()
    assert listed[0] == f"4 executions about {alice_id}:"
    rows = [line.split() for line in listed[2:]]
    assert [row[0] for row in rows] == ["ConnectionHandshake", "MessageFanout", "MessageFanout", "ConnectionCleanup"]
    assert rows[0][1].startswith(handshake_name(alice_id))
    assert not rows[0][1].startswith(handshake_name(bob_id))  # bob's handshake is not about alice
    assert [row[1] for row in rows[1:3]] == [sent, received]  # the one she sent, the one she received
    assert rows[3][1].startswith(handshake_name(alice_id))  # her $disconnect's cleanup
    assert [line.split()[1] for line in shown.stdout.splitlines() if line.startswith("execution ")] == [
        rows[0][1],
        sent,
        received,
        rows[3][1],
    ]
    assert shown.stdout.count("ExecutionSucceeded") == 4  # each one's history follows


def test_executions_without_a_runtime_says_history_lives_only_while_it_runs(local_runtime, tmp_path):
    shown = subprocess.run(
        [sys.executable, "-m", "local", "executions", "--stage", local_runtime.stage, "--state-dir", str(tmp_path)],
        cwd=local_runtime.project_root,
        capture_output=True,
        text=True,
        timeout=60,
        env=runtime_environment(),
    )
    assert shown.returncode == 1
    assert "history lives only while the runtime runs" in shown.stderr, shown.stderr
    assert "make dev | tee dev.log" in shown.stderr
