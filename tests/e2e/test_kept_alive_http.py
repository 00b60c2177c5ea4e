"""The runtime's plain HTTP/1.1 client for its own servers (deliveries, Lambda tasks, the interpreters' hops):
what it sends, the answers it reads, and a kept-alive connection the server closed."""

import http.client as http_client
import socket
import threading

import pytest

from local.stepfunctions.moto_patches.kept_alive import KeptAliveHttp


class Unreachable(ConnectionError):
    pass


class ScriptedServer:
    """A TCP server on 127.0.0.1 answering each request read with the next raw answer of ``answers``; an answer of
    None closes the connection instead (without answering), as does an answer saying "Connection: close" once sent.
    Keeps every request's raw bytes and its connection's number."""

    def __init__(self, answers: list[bytes | None]):
        self.answers = list(answers)
        self.requests: list[tuple[int, bytes]] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        number = 0
        while True:
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            number += 1
            threading.Thread(target=self._serve, args=(connection, number), daemon=True).start()

    def _serve(self, connection: socket.socket, number: int) -> None:
        reader = connection.makefile("rb")
        with connection:
            while self.answers:
                head = b""
                while not head.endswith(b"\r\n\r\n"):
                    line = reader.readline()
                    if not line:
                        return
                    head += line
                length = next(
                    (
                        int(line.split(b":")[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length")
                    ),
                    0,
                )
                self.requests.append((number, head + reader.read(length)))
                answer = self.answers.pop(0)
                if answer is None:
                    return
                connection.sendall(answer)
                if b"Connection: close" in answer:
                    return

    def close(self) -> None:
        self._listener.close()


@pytest.fixture
def serve():
    servers = []

    def start(*answers):
        servers.append(ScriptedServer(list(answers)))
        return servers[-1], KeptAliveHttp("127.0.0.1", servers[-1].port, Unreachable)

    yield start
    for server in servers:
        server.close()


OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Thing: a\r\n\r\nhi"


def test_the_request_is_sent_whole_with_host_and_length(serve):
    server, http = serve(OK)

    status, reason, headers, body = http.request("POST", "/dev/@connections/abc", b'{"m":1}', {"Content-Type": "x/y"})

    assert (status, reason, body) == (200, "OK", b"hi")
    assert ("X-Thing", "a") in headers
    (_, sent), *_ = server.requests
    head, _, sent_body = sent.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0] == "POST /dev/@connections/abc HTTP/1.1"
    assert {f"Host: 127.0.0.1:{server.port}", "Content-Length: 7", "Content-Type: x/y"} <= set(lines)
    assert sent_body == b'{"m":1}'


def test_a_host_given_by_the_caller_is_sent_once(serve):
    server, http = serve(OK)

    http.request("GET", "/", b"", {"HOST": "elsewhere:1"})

    (_, sent), *_ = server.requests
    assert [line for line in sent.decode().split("\r\n") if line.lower().startswith("host:")] == ["HOST: elsewhere:1"]


def test_requests_of_one_thread_share_one_connection(serve):
    server, http = serve(OK, OK, OK)

    for _ in range(3):
        assert http.request("GET", "/", b"", {})[3] == b"hi"

    assert {number for number, _ in server.requests} == {1}


def test_a_chunked_answer_is_read_whole_and_the_connection_kept(serve):
    chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;x=y\r\n world\r\n0\r\n\r\n"
    server, http = serve(chunked, OK)

    assert http.request("GET", "/", b"", {})[3] == b"hello world"
    assert http.request("GET", "/", b"", {})[3] == b"hi"
    assert {number for number, _ in server.requests} == {1}


@pytest.mark.parametrize("status", [204, 304])
def test_no_body_is_read_after_204_or_304(serve, status):
    _, http = serve(f"HTTP/1.1 {status} Nothing\r\n\r\n".encode(), OK)

    assert http.request("GET", "/", b"", {})[::3] == (status, b"")
    assert http.request("GET", "/", b"", {})[3] == b"hi"


def test_an_answer_that_closes_the_connection_is_read_to_its_end_and_a_new_one_opened(serve):
    closing = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nto the end"
    server, http = serve(closing, OK)

    assert http.request("GET", "/", b"", {})[3] == b"to the end"
    assert http.request("GET", "/", b"", {})[3] == b"hi"
    assert [number for number, _ in server.requests] == [1, 2]


def test_a_kept_alive_connection_the_server_closed_gets_one_fresh_try(serve):
    server, http = serve(OK, None, OK)

    http.request("GET", "/first", b"", {})
    status, *_ = http.request("POST", "/second", b"x", {})

    assert status == 200
    assert [(number, sent.split(b" ")[1]) for number, sent in server.requests] == [
        (1, b"/first"),
        (1, b"/second"),
        (2, b"/second"),
    ]


def test_a_server_that_never_answers_is_unreachable(serve):
    _, http = serve(None, None)

    with pytest.raises(Unreachable):
        http.request("GET", "/", b"", {})


def test_a_closed_port_is_unreachable():
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()

    with pytest.raises(Unreachable):
        KeptAliveHttp("127.0.0.1", port, Unreachable).request("GET", "/", b"", {})


@pytest.mark.parametrize(
    "cut",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\nConnection: close\r\n\r\nshort",
        b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Le",
    ],
    ids=["in the body", "in the headers"],
)
def test_an_answer_cut_short_is_an_error_and_the_next_request_gets_a_new_connection(serve, cut):
    server, http = serve(cut, OK)

    with pytest.raises(http_client.IncompleteRead) as raised:
        http.request("GET", "/", b"", {})
    assert "IncompleteRead" in repr(raised.value)
    assert http.request("GET", "/", b"", {})[3] == b"hi"
    assert [number for number, _ in server.requests] == [1, 2]
