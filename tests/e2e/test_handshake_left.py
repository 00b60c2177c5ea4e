"""A client that leaves during the handshake (`wscat -x ... < /dev/null` does): the terminal says so in one
line, and the handshake task's failed posts, one error retried by the state machine, in one more."""

import base64
import os
import re
import socket
import time

LOG_DEADLINE_SECONDS = 30  # the handshake's backstop retries wait whole seconds
LEFT = re.compile(r"^\[local\] client (?P<id>\S+) left during the handshake", re.MULTILINE)


def upgrade_then_leave(port: int, stage: str) -> None:
    """Send a WebSocket upgrade request and close the socket before the answer ($connect runs first)."""
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET /{stage} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port)) as client:
        client.sendall(request.encode())


def wait_for(local_runtime, mark: int, pattern: re.Pattern) -> re.Match:
    deadline = time.monotonic() + LOG_DEADLINE_SECONDS
    while not (found := pattern.search(local_runtime.log(), mark)):
        assert time.monotonic() < deadline, f"never logged {pattern.pattern!r}:\n{local_runtime.log()[mark:][-3000:]}"
        time.sleep(0.2)
    return found


def test_client_leaving_during_the_handshake_is_one_line_and_its_handshake_error_one_more(local_runtime):
    mark = len(local_runtime.log())

    upgrade_then_leave(local_runtime.port, local_runtime.stage)

    connection_id = wait_for(local_runtime, mark, LEFT)["id"]
    handshake = re.escape(re.sub(r"[^A-Za-z0-9_-]", "_", connection_id))
    wait_for(local_runtime, mark, re.compile(rf"^\[ConnectionHandshake\] {handshake}\S* ExecutionSucceeded", re.M))
    lines = local_runtime.log()[mark:].splitlines()
    about_it = [line for line in lines if connection_id in line]
    assert len([line for line in about_it if "left during the handshake" in line]) == 1
    errors = [line for line in about_it if line.startswith("[SendConnectionId]") and "ConnectionGone" in line]
    assert len(errors) == 1, "\n".join(about_it)
    assert "lambdas/chat/connections.py" in errors[0]  # where it was raised, in the project's files
    assert '"status":"gone"' in next(line for line in about_it if "ExecutionSucceeded" in line)
    assert not [
        line
        for line in lines
        if line.startswith(("Traceback", "Error handling request", "[SendConnectionId] Traceback"))
    ]
