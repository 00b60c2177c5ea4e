"""Plain HTTP/1.1 to the runtime's own servers over kept-alive connections, for the speed-ups: Lambda's
Invoke API for Lambda tasks, and a transport for apigateway:invoke tasks."""

import http.client
import io
import json
import threading
import urllib.parse
from collections.abc import Callable

import requests
from botocore.exceptions import ClientError, EndpointConnectionError

from local.stepfunctions.moto_patches.repairs import send_with_requests


class KeptAliveHttp:
    """Plain HTTP/1.1 requests to one local server, one kept-alive connection per thread (a thread
    waits on one answer at a time). A connection the server had closed gets one fresh try; an
    unreachable server raises ``unreachable(url)``."""

    def __init__(self, host: str, port: int, unreachable: Callable[[str], Exception]):
        self._host = host
        self._port = port
        self._unreachable = unreachable
        self._connections = threading.local()

    def request(self, method: str, path: str, body: bytes, headers: dict) -> tuple[int, str, list, bytes]:
        """(status, reason, headers as sent, body)"""
        for attempt in (1, 2):
            connection = getattr(self._connections, "current", None)
            if connection is None:
                connection = self._connections.current = http.client.HTTPConnection(self._host, self._port)
            try:
                connection.request(method, path, body=body, headers=headers)
                answer = connection.getresponse()
                return answer.status, answer.reason, answer.getheaders(), answer.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as error:
                connection.close()  # a kept-alive connection the server had closed: one fresh try
                self._connections.current = None
                if attempt == 2:
                    raise self._unreachable(f"http://{self._host}:{self._port}") from error
            except OSError as error:
                connection.close()
                self._connections.current = None
                raise self._unreachable(f"http://{self._host}:{self._port}") from error
        raise AssertionError("unreachable")


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
