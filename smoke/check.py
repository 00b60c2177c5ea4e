"""What the smoke test checks, over real WebSockets, against any chat stage (deployed or local).

1. Two clients connect; each receives a ``connection`` frame with an id of its own.
2. One sends a message to the other; both receive its ``message`` frame.
3. The recipient disconnects; a message to it answers the sender with ``delivery_failed`` naming it.

On a stage with sign-in both clients connect with the ID token of the smoke test's own user (smoke/users.py):
their ``connection`` frames must name that user, and before step 3 a message to the user by name
(``recipient_users``) must reach both connections, naming the user as its sender.

Frames are matched by type and content, never by arrival order, and frames of any other type (an
``accepted`` acknowledgment, say) are ignored: the stage may add frames without breaking this test.
Every connection is closed before the test returns, whether it passed or not.
"""

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

DEADLINE_SECONDS = 30.0
Frame = dict[str, Any]
Report = Callable[[str], None]


class SmokeFailure(Exception):
    """The stage did not behave as the chat must; the message says what was missing, in one line."""


@dataclass
class Progress:
    """What the test is doing now: named when the deadline passes."""

    step: str


class Client:
    """One connection whose frames are read in the background and kept, so that a check finds a frame
    whatever order it arrived in."""

    def __init__(self, name: str, socket: ClientConnection) -> None:
        self.name = name
        self._socket = socket
        self._frames: list[Frame] = []
        self._arrived = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for raw in self._socket:
                frame = _parse(raw)
                if frame is not None:
                    self._frames.append(frame)
                    self._arrived.set()
        except ConnectionClosed:
            pass  # an abnormal close; wait_for reports it with the close code
        finally:
            self._arrived.set()

    async def send(self, frame: Frame) -> None:
        try:
            await self._socket.send(json.dumps(frame))
        except ConnectionClosed:
            raise SmokeFailure(
                f"{self.name}'s connection closed ({self._close_reason()}) before it could send"
            ) from None

    async def wait_for(
        self, what: str, wanted: Callable[[Frame], bool], *, refused: Callable[[Frame], bool] = lambda _: False
    ) -> Frame:
        """The first frame received so far, or from now on, that is ``wanted``; a ``refused`` one fails."""
        while True:
            for frame in self._frames:
                if refused(frame):
                    raise SmokeFailure(f"{self.name} got {json.dumps(frame)} instead of {what}")
                if wanted(frame):
                    return frame
            if self._reader.done():
                raise SmokeFailure(f"{self.name}'s connection closed ({self._close_reason()}) before {what} arrived")
            self._arrived.clear()
            await self._arrived.wait()

    async def close(self) -> None:
        await self._socket.close()
        await self._reader

    def _close_reason(self) -> str:
        code, reason = self._socket.close_code, self._socket.close_reason
        return f"code {code}" + (f", {reason}" if reason else "") if code is not None else "no close frame"


@dataclass(frozen=True)
class Identity:
    """Who the clients connect as on a stage with sign-in: a username and its Cognito ID token."""

    name: str
    id_token: str


async def run_smoke_test(
    url: str, *, deadline: float = DEADLINE_SECONDS, report: Report = lambda _: None, identity: Identity | None = None
) -> None:
    """Raises SmokeFailure unless the stage at ``url`` passes within ``deadline`` seconds, closing included.
    ``identity``: the user to connect as, on a stage with sign-in (None: a stage without)."""
    started = time.monotonic()
    closing = min(2.0, deadline / 10)  # kept out of the checks' time so that closing fits in the deadline too
    clients: list[Client] = []
    progress = Progress(step=f"connecting to {url}")
    try:
        async with asyncio.timeout(deadline - closing):
            await _check(url, clients, progress, report, close_timeout=closing, identity=identity)
    except TimeoutError:
        raise SmokeFailure(f"{progress.step}: nothing within {deadline:g} s") from None
    finally:
        await asyncio.gather(*(client.close() for client in clients))
    report(f"smoke: PASS {url} in {time.monotonic() - started:.1f} s")


async def _check(
    url: str,
    clients: list[Client],
    progress: Progress,
    report: Report,
    *,
    close_timeout: float,
    identity: Identity | None,
) -> None:
    for name in ("alice", "bob"):
        clients.append(await _connect(url, name, close_timeout=close_timeout, identity=identity))
    alice, bob = clients
    ids = []
    for client in clients:
        progress.step = f"waiting for {client.name}'s connection frame"
        frame = await client.wait_for("a connection frame", lambda f: f.get("type") == "connection")
        ids.append(frame.get("connection_id"))
        if identity is not None and (frame.get("user") or {}).get("name") != identity.name:
            raise SmokeFailure(f"{client.name}'s connection frame names no user {identity.name}: {json.dumps(frame)}")
    alice_id, bob_id = ids
    if not alice_id or alice_id == bob_id:
        raise SmokeFailure(f"the two clients need two connection ids, got {alice_id!r} and {bob_id!r}")
    report(f"smoke: connected alice ({alice_id}) and bob ({bob_id})")

    text, tag = _unique_message()
    await alice.send(_send_message(text, bob_id, tag))
    for client in clients:
        progress.step = f"waiting for {client.name}'s message frame of {tag}"
        await client.wait_for(
            f"the message frame of {tag}", _is_message(text, alice_id, bob_id), refused=_is_error_about(tag)
        )
    report("smoke: the message reached sender and recipient")
    if identity is not None:
        await _check_user_message(clients, progress, identity)
        report(f"smoke: a message to user {identity.name} reached both of their connections")

    progress.step = "closing bob's connection"
    await bob.close()
    text, tag = _unique_message()
    await alice.send(_send_message(text, bob_id, tag))
    progress.step = f"waiting for delivery_failed naming the closed connection {bob_id}"
    failed = await alice.wait_for(
        f"delivery_failed naming {bob_id}",
        lambda f: f.get("type") == "delivery_failed" and bob_id in _unreached(f),
        refused=_is_error_about(tag),
    )
    report(f"smoke: a message to the closed connection answered with delivery_failed ({failed.get('reason')})")


async def _check_user_message(clients: list[Client], progress: Progress, identity: Identity) -> None:
    """Both clients are the one user: a message to them by name reaches each connection, sent by them."""
    text, tag = _unique_message()
    await clients[0].send(
        {"action": "sendMessage", "message": text, "recipient_users": [identity.name], "client_message_id": tag}
    )

    def from_user(frame: Frame) -> bool:
        return (
            frame.get("type") == "message"
            and frame.get("message") == text
            and (frame.get("sender") or {}).get("name") == identity.name
        )

    for client in clients:
        progress.step = f"waiting for {client.name}'s message frame of {tag}, sent to user {identity.name}"
        await client.wait_for(f"the message frame of {tag}", from_user, refused=_is_error_about(tag))


async def _connect(url: str, name: str, *, close_timeout: float, identity: Identity | None) -> Client:
    try:
        socket = await connect(_with_token(url, identity), open_timeout=None, close_timeout=close_timeout)
    except (OSError, InvalidURI, InvalidHandshake) as error:
        # The URL as given, never the one with the token: a token must not reach a log.
        raise SmokeFailure(f"cannot connect to {url}: {error or type(error).__name__}") from None
    return Client(name, socket)


def _with_token(url: str, identity: Identity | None) -> str:
    """``url`` with the ID token in the ``token`` query-string parameter, where the $connect authorizer reads it."""
    if identity is None:
        return url
    parts = urlsplit(url)
    query = "&".join(filter(None, [parts.query, urlencode({"token": identity.id_token})]))
    return urlunsplit(parts._replace(query=query))


def _unique_message() -> tuple[str, str]:
    tag = f"smoke-{uuid.uuid4().hex[:16]}"  # also the client_message_id: 1-64 of [A-Za-z0-9_-]
    return f"smoke test {tag}", tag


def _send_message(text: str, recipient_id: str, tag: str) -> Frame:
    return {"action": "sendMessage", "message": text, "recipient_id": recipient_id, "client_message_id": tag}


def _is_message(text: str, sender_id: str, recipient_id: str) -> Callable[[Frame], bool]:
    def matches(frame: Frame) -> bool:
        recipients = frame.get("recipient_ids") or [frame.get("recipient_id")]
        return (
            frame.get("type") == "message"
            and frame.get("message") == text
            and frame.get("sender_id") == sender_id
            and recipient_id in recipients
        )

    return matches


def _is_error_about(tag: str) -> Callable[[Frame], bool]:
    return lambda frame: frame.get("type") == "error" and frame.get("client_message_id") == tag


def _unreached(frame: Frame) -> list[Any]:
    return frame.get("recipient_ids") or [frame.get("recipient_id")]


def _parse(raw: str | bytes) -> Frame | None:
    try:
        frame = json.loads(raw)
    except ValueError:
        return None
    return frame if isinstance(frame, dict) else None
