"""apigateway:invoke's kept-alive transport (a speed-up), against a real HTTP/1.1 server: the requests
and answers are those of the transport through requests, over one kept-alive connection."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
import requests

from local.stepfunctions.moto_patches.kept_alive import KeptAliveTransport
from local.stepfunctions.moto_patches.repairs import ApiGatewayRequests, send_with_requests
from tests.e2e.conftest import answer


class _ConnectionsApi(BaseHTTPRequestHandler):
    """Answers POST /dev/_user_request_/@connections/{id}/ as the gateway does: 200 with no body for
    "alive", 410 with a JSON error otherwise; remembers each request and the client port it came on."""

    protocol_version = "HTTP/1.1"
    seen: ClassVar[list] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.seen.append((self.client_address[1], self.path, dict(self.headers), body))
        if "/@connections/alive/" in self.path:
            status, data, headers = 200, b"", {}
        else:
            status, data = 410, json.dumps({"message": None}).encode()
            headers = {"Content-Type": "application/json", "x-amzn-ErrorType": "GoneException"}
        answer(self, status, data, headers)

    def log_message(self, format: str, *args) -> None:  # quiet
        pass


@pytest.fixture
def connections_url():
    _ConnectionsApi.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ConnectionsApi)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/dev/_user_request_/@connections"
    server.shutdown()
    server.server_close()


def _post(transport, url: str):
    frame = {"message": "héllo", "sender_id": "a"}
    client = ApiGatewayRequests(transport)
    return client.post(url, headers={"Content-Type": "application/json", "Accept": "application/json"}, json=frame)


@pytest.mark.parametrize("connection", ["alive", "gone"])
def test_answers_are_those_requests_gives(connections_url, connection):
    url = f"{connections_url}/{connection}/"

    expected = _post(send_with_requests, url)
    answer = _post(KeptAliveTransport().send, url)

    assert (answer.status_code, answer.reason, answer.text) == (expected.status_code, expected.reason, expected.text)
    assert answer.headers["Content-Length"] == expected.headers["Content-Length"]
    assert answer.headers.get("x-amzn-errortype") == expected.headers.get("x-amzn-errortype")
    if connection == "gone":
        assert answer.json() == expected.json() == {"message": None}
    (_, _, _, expected_body), (_, path, headers, body) = _ConnectionsApi.seen
    assert (path, body, headers["Content-Type"]) == (
        "/dev/_user_request_/@connections/" + connection + "/",
        expected_body,
        "application/json",
    )


def test_posts_from_one_thread_share_one_connection(connections_url):
    transport = KeptAliveTransport().send

    statuses = [_post(transport, f"{connections_url}/{name}/").status_code for name in ("alive", "gone", "alive")]

    assert statuses == [200, 410, 200]
    assert len({port for port, *_ in _ConnectionsApi.seen}) == 1


def test_an_unreachable_gateway_raises_requests_connection_error(connections_url):
    transport = KeptAliveTransport().send
    port = connections_url.split(":")[2].split("/")[0]
    with pytest.raises(requests.ConnectionError):
        _post(transport, connections_url.replace(port, "1") + "/alive/")
