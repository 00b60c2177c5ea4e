"""Every reach into aiohttp's private internals, for one aiohttp release, in this one module.

The gateway needs one thing aiohttp offers no public API for: to see each client frame's header before
aiohttp's WebSocket reader assembles messages (local/apigateway/frame_headers.py says why). That takes two
private attributes: the request handler's ``_payload_parser`` (which is fed the client's bytes once
the connection is upgraded) and the WebSocket response's ``_reader`` (the message queue its protocol
errors go to). tests/e2e/test_aiohttp_internals.py has a test of each; on any other aiohttp
release the runtime refuses to start, naming this module, until each is checked again.
"""

import importlib.metadata
from collections.abc import Callable
from typing import Any

from aiohttp import web

# The release whose internals this module was read from (pinned in pyproject.toml).
AIOHTTP_VERSION = "3.14.5"


class AiohttpChanged(RuntimeError):
    """The installed aiohttp is not the release this module's reach-ins were checked against."""


def require_aiohttp(installed: str | None = None) -> None:
    installed = installed or importlib.metadata.version("aiohttp")
    if installed != AIOHTTP_VERSION:
        raise AiohttpChanged(
            f"aiohttp {installed} is installed, but local/apigateway/aiohttp_internals.py reaches into aiohttp "
            f"{AIOHTTP_VERSION}'s internals: check each reach-in against aiohttp {installed} "
            "(tests/e2e/test_aiohttp_internals.py), then update AIOHTTP_VERSION"
        )


require_aiohttp()


def put_before_frame_parser(
    socket: web.WebSocketResponse, request: web.BaseRequest, parser: Callable[[Any, Any], Any]
) -> None:
    """Feed what the client sends to ``parser(frame_parser, reader)`` instead of to the frame parser
    ``socket.prepare(request)`` installed: it hands the bytes on to ``frame_parser`` (``feed_data``,
    ``feed_eof``) and reports a protocol error with ``reader.set_exception``, as aiohttp's parser does."""
    protocol = request.protocol
    protocol._payload_parser = parser(protocol._payload_parser, socket._reader)
