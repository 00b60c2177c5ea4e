"""The Step Functions process's tasks reach its own moto server in the process, without a socket.

A workflow's DynamoDB, AWS SDK and Step Functions tasks call this process's own server (moto_patches.own_services):
each call went from boto3 through urllib3 and a loopback TCP connection to cheroot, which parsed it back into the
WSGI environ the server's application answers. Here boto3's client hands its prepared request to that same
application directly (botocore's ``before-send`` event: a handler that returns a response ends the send), with the
environ cheroot builds for the request. The application answers exactly as it answers over HTTP; only the socket,
urllib3 and cheroot are left out. They cost about a fifth of the process's CPU under a stream of connects (two
DynamoDB tasks each), measured with py-spy and bench/local_runtime.py.

An exception the application lets out is answered as cheroot answers it: logged, then ``500 Internal Server Error``
with an empty body.
"""

import io
import logging
import sys
import urllib.parse
from collections.abc import Callable, Iterable

from botocore.awsrequest import AWSPreparedRequest, AWSResponse

WsgiApp = Callable[[dict, Callable], Iterable[bytes]]

_LOG = logging.getLogger("cheroot")  # where cheroot logs what an application raised
_SERVER_ERROR = "500 Internal Server Error"


class _Body:
    """An answer's body, as botocore reads a response's raw stream."""

    def __init__(self, data: bytes):
        self._data = data

    def stream(self, **_) -> Iterable[bytes]:
        yield self._data

    def read(self, *_) -> bytes:
        data, self._data = self._data, b""
        return data


class InProcessTransport:
    """botocore's ``before-send`` handler for clients of this process's own server at 127.0.0.1:``port``: the request
    answered by ``app`` in this thread."""

    def __init__(self, app: WsgiApp, port: int):
        self._app = app
        self._port = str(port)

    def __call__(self, request: AWSPreparedRequest, **_) -> AWSResponse:
        status, headers, body = self.answer(request.method, request.url, dict(request.headers), _bytes(request.body))
        return AWSResponse(request.url, status, headers, _Body(body))

    def answer(self, method: str, url: str, headers: dict, body: bytes) -> tuple[int, dict[str, str], bytes]:
        """(status, headers, body) of the application's answer to the request."""
        environ = self._environ(method, url, headers, body)
        started: dict = {}
        written: list[bytes] = []  # what an application gives the write callable (moto's return their body)

        def start_response(status: str, response_headers: list, exc_info=None) -> Callable[[bytes], None]:
            started["status"], started["headers"] = status, response_headers
            return written.append

        try:
            chunks = self._app(environ, start_response)
            try:
                data = b"".join(written) + b"".join(chunks)
            finally:
                if hasattr(chunks, "close"):
                    chunks.close()
        except Exception as error:
            _LOG.error(repr(error), exc_info=True)
            started, data = {"status": _SERVER_ERROR, "headers": [("Content-Type", "text/plain")]}, b""
        answer_headers: dict[str, str] = {}
        for name, value in started["headers"]:
            answer_headers[name] = f"{answer_headers[name]}, {value}" if name in answer_headers else value
        answer_headers.setdefault("Content-Length", str(len(data)))
        return int(started["status"].split(" ", 1)[0]), answer_headers, data

    def _environ(self, method: str, url: str, headers: dict, body: bytes) -> dict:
        """The environ cheroot builds for this request (cheroot.wsgi.Gateway_10.get_environ)."""
        parts = urllib.parse.urlsplit(url)
        target = parts.path or "/"
        environ = {
            "ACTUAL_SERVER_PROTOCOL": "HTTP/1.1",
            "PATH_INFO": urllib.parse.unquote(target, encoding="latin-1"),
            "QUERY_STRING": parts.query,
            "REMOTE_ADDR": "127.0.0.1",
            "REMOTE_PORT": "",
            "REQUEST_METHOD": method,
            "REQUEST_URI": f"{target}?{parts.query}" if parts.query else target,
            "SCRIPT_NAME": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": self._port,
            "SERVER_PROTOCOL": "HTTP/1.1",
            "SERVER_SOFTWARE": "in-process",
            "wsgi.errors": sys.stderr,
            "wsgi.input": io.BytesIO(body),
            "wsgi.input_terminated": False,
            "wsgi.multiprocess": False,
            "wsgi.multithread": True,
            "wsgi.run_once": False,
            "wsgi.url_scheme": parts.scheme or "http",
            "wsgi.version": (1, 0),
            "HTTP_HOST": parts.netloc,
            "HTTP_ACCEPT_ENCODING": "identity",
        }
        for name, value in headers.items():
            text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
            environ[f"HTTP_{name.upper().replace('-', '_')}"] = text
        if "HTTP_CONTENT_TYPE" in environ:
            environ["CONTENT_TYPE"] = environ.pop("HTTP_CONTENT_TYPE")
        environ["CONTENT_LENGTH"] = environ.pop("HTTP_CONTENT_LENGTH", str(len(body)))
        return environ


def _bytes(body) -> bytes:
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode("utf-8")
    if hasattr(body, "read"):
        return body.read()
    return bytes(body)
