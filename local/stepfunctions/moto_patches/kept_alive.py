"""Plain HTTP/1.1 to the runtime's own servers over kept-alive connections, for the speed-ups: Lambda's
Invoke API for Lambda tasks, and a transport for apigateway:invoke tasks."""

import http.client
import io
import json
import socket
import threading
import urllib.parse
from collections.abc import Callable

import requests
from botocore.exceptions import ClientError, EndpointConnectionError

from local.stepfunctions.moto_patches.repairs import send_with_requests


class KeptAliveHttp:
    """Plain HTTP/1.1 requests to one local server, one kept-alive connection per thread (a thread
    waits on one answer at a time). A connection the server had closed gets one fresh try; an
    unreachable server raises ``unreachable(url)``.

    The request is written in one piece and the answer read from a buffered socket file: http.client
    built each request header by header and parsed each answer's headers with the email package, which
    cost twice the CPU of this (about 70 us more a request, measured against the gateway's aiohttp
    server) on every delivery and Lambda task of every execution. Only what the runtime's own servers
    answer is read: a status line, headers, then a body of Content-Length bytes, chunked, or up to the
    close; none after HEAD, 1xx, 204 or 304."""

    def __init__(self, host: str, port: int, unreachable: Callable[[str], Exception]):
        self._host = host
        self._port = port
        self._host_header = f"{host}:{port}"
        self._unreachable = unreachable
        self._connections = threading.local()

    def request(self, method: str, path: str, body: bytes, headers: dict) -> tuple[int, str, list, bytes]:
        """(status, reason, headers as sent, body)"""
        message = self._message(method, path, body, headers)
        for attempt in (1, 2):
            connection = getattr(self._connections, "current", None)
            try:
                if connection is None:
                    connection = self._connections.current = _Connection(self._host, self._port)
                answer = connection.exchange(message, method)
                if connection.closed:  # the answer ended the connection: the next request opens another
                    self._connections.current = None
                return answer
            except _ClosedByServer as error:
                self._drop(connection)  # a kept-alive connection the server had closed: one fresh try
                if attempt == 2:
                    raise self._unreachable(f"http://{self._host_header}") from error
            except OSError as error:
                self._drop(connection)
                raise self._unreachable(f"http://{self._host_header}") from error
            except http.client.HTTPException:  # an answer it could not read: the connection is not reused
                self._drop(connection)
                raise
        raise AssertionError("unreachable")

    def _message(self, method: str, path: str, body: bytes, headers: dict) -> bytes:
        named = {name.lower() for name in headers}
        lines = [f"{method} {path} HTTP/1.1"]
        if "host" not in named:
            lines.append(f"Host: {self._host_header}")
        if "accept-encoding" not in named:
            lines.append("Accept-Encoding: identity")
        if "content-length" not in named and (body or method in _BODY_METHODS):
            lines.append(f"Content-Length: {len(body)}")
        lines.extend(f"{name}: {value}" for name, value in headers.items())
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body

    def _drop(self, connection: "_Connection | None") -> None:
        if connection is not None:
            connection.close()
        self._connections.current = None


# Methods whose empty body is still announced (as http.client does): a server may wait for a length otherwise.
_BODY_METHODS = {"POST", "PUT", "PATCH"}


class _ClosedByServer(ConnectionError):
    """The server closed a kept-alive connection before answering (it timed out idle, or restarted)."""


class _Connection:
    """One TCP connection: a request written whole, its answer read."""

    def __init__(self, host: str, port: int):
        self._socket = socket.create_connection((host, port))
        self._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._file = self._socket.makefile("rb")

    def exchange(self, message: bytes, method: str) -> tuple[int, str, list, bytes]:
        try:
            self._socket.sendall(message)
        except (BrokenPipeError, ConnectionResetError) as error:
            raise _ClosedByServer("the connection was closed before the request was sent") from error
        try:
            status_line = self._file.readline(_LINE_LIMIT)
        except ConnectionResetError as error:
            raise _ClosedByServer("the connection was reset before an answer") from error
        if not status_line:
            raise _ClosedByServer("the connection was closed without an answer")
        version, status, reason = _parse_status(status_line)
        headers = self._read_headers()
        named = {name.lower(): value for name, value in headers}
        body = self._read_body(named, status, method)
        if named.get("connection", "").lower() == "close" or (version == "HTTP/1.0" and "keep-alive" not in named):
            self.close()
        return status, reason, headers, body

    def _read_headers(self) -> list[tuple[str, str]]:
        headers = []
        while True:
            line = self._file.readline(_LINE_LIMIT)
            if line in (b"\r\n", b"\n"):
                return headers
            if not line.endswith(b"\n"):
                raise http.client.IncompleteRead(b"")  # closed before the headers ended
            name, separator, value = line.decode("latin-1").partition(":")
            if not separator:
                raise http.client.BadStatusLine(line.decode("latin-1", "replace"))
            headers.append((name.strip(), value.strip()))

    def _read_body(self, headers: dict[str, str], status: int, method: str) -> bytes:
        if method == "HEAD" or status < 200 or status in (204, 304):
            return b""
        if "chunked" in headers.get("transfer-encoding", "").lower():
            return self._read_chunks()
        if "content-length" in headers:
            return self._read_exactly(int(headers["content-length"]))
        body = self._file.read()  # neither: the body ends where the server closes the connection
        self.close()
        return body

    def _read_chunks(self) -> bytes:
        chunks = []
        while True:
            size = int(self._file.readline(_LINE_LIMIT).split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                while self._file.readline(_LINE_LIMIT) not in (b"\r\n", b"\n", b""):  # trailers
                    pass
                return b"".join(chunks)
            chunks.append(self._read_exactly(size))
            self._file.readline(_LINE_LIMIT)

    def _read_exactly(self, size: int) -> bytes:
        data = self._file.read(size)
        if len(data) < size:
            raise http.client.IncompleteRead(data, size - len(data))
        return data

    @property
    def closed(self) -> bool:
        return self._socket.fileno() == -1

    def close(self) -> None:
        self._file.close()
        self._socket.close()


_LINE_LIMIT = 65537  # http.client's own bound on a status or header line


def _parse_status(line: bytes) -> tuple[str, int, str]:
    version, _, rest = line.decode("latin-1").rstrip("\r\n").partition(" ")
    code, _, reason = rest.partition(" ")
    if not version.startswith("HTTP/") or not code.isdigit():
        raise http.client.BadStatusLine(line.decode("latin-1", "replace"))
    return version, int(code), reason


class LocalLambdaInvoke:
    """Lambda's Invoke API over plain HTTP to the runtime's Lambda service, one kept-alive connection
    per thread. Answers as boto3's ``invoke`` does, for what the interpreter reads: StatusCode,
    FunctionError, ExecutedVersion, LogResult and Payload; an error status raises botocore's
    ClientError with the service's error code, and an unreachable endpoint EndpointConnectionError."""

    def __init__(self, host: str, port: int):
        self._http = KeptAliveHttp(host, port, lambda url: EndpointConnectionError(endpoint_url=url))

    def invoke(self, parameters: dict) -> dict:
        path = f"/2015-03-31/functions/{urllib.parse.quote(parameters['FunctionName'], safe='')}/invocations"
        if parameters.get("Qualifier"):
            path += f"?Qualifier={urllib.parse.quote(parameters['Qualifier'], safe='')}"
        headers = {"Content-Type": "application/octet-stream"}
        for parameter, header in _INVOKE_HEADERS.items():
            if parameters.get(parameter):
                headers[header] = parameters[parameter]
        status, _, header_list, body = self._http.request("POST", path, parameters.get("Payload") or b"", headers)
        answer_headers = {name.lower(): value for name, value in header_list}
        if status >= 300:
            raise self._client_error(status, answer_headers, body)
        response = {"StatusCode": status, "Payload": io.BytesIO(body)}
        for header, key in _INVOKE_ANSWER_HEADERS.items():
            if header in answer_headers:
                response[key] = answer_headers[header]
        return response

    @staticmethod
    def _client_error(status: int, headers: dict, body: bytes) -> ClientError:
        try:
            message = json.loads(body).get("message") or ""
        except (ValueError, AttributeError):
            message = body.decode("utf-8", "replace")
        code = headers.get("x-amzn-errortype", "").split(":")[0] or str(status)
        metadata = {"HTTPStatusCode": status, "HTTPHeaders": headers, "RequestId": headers.get("x-amzn-requestid", "")}
        return ClientError({"Error": {"Code": code, "Message": message}, "ResponseMetadata": metadata}, "Invoke")


_INVOKE_HEADERS = {
    "InvocationType": "X-Amz-Invocation-Type",
    "LogType": "X-Amz-Log-Type",
    "ClientContext": "X-Amz-Client-Context",
}
_INVOKE_ANSWER_HEADERS = {
    "x-amz-function-error": "FunctionError",
    "x-amz-executed-version": "ExecutedVersion",
    "x-amz-log-result": "LogResult",
}


class KeptAliveTransport:
    """Sends apigateway:invoke's requests to http:// URLs over kept-alive plain HTTP (one connection
    per thread and server), answering with a ``requests.Response`` carrying the status, headers, body
    and encoding moto reads; an unreachable server raises requests' ConnectionError. Other URLs go
    through requests."""

    def __init__(self):
        self._servers: dict[tuple[str, int], KeptAliveHttp] = {}
        self._lock = threading.Lock()

    def send(self, method: str, url: str, headers: dict[str, str], body: bytes) -> requests.Response:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            return send_with_requests(method, url, headers, body)
        sent = {"Accept-Encoding": "identity", "Accept": "*/*", **headers}
        path = urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, ""))
        status, reason, header_list, content = self._server(parts.hostname, parts.port or 80).request(
            method, path, body, sent
        )
        response = requests.Response()
        response.status_code, response.reason, response.url, response._content = status, reason, url, content
        for name, value in header_list:
            known = response.headers.get(name)
            response.headers[name] = value if known is None else f"{known}, {value}"
        response.encoding = requests.utils.get_encoding_from_headers(response.headers)
        return response

    def _server(self, host: str, port: int) -> KeptAliveHttp:
        with self._lock:
            if (host, port) not in self._servers:
                self._servers[(host, port)] = KeptAliveHttp(host, port, _connection_error)
            return self._servers[(host, port)]


def _connection_error(url: str) -> Exception:
    return requests.ConnectionError(f"could not reach {url}")
