"""The wire format as docs/asyncapi.yaml describes it, for every test that sees a frame.

``server_frame(data)`` / ``client_frame(data)`` parse a frame (JSON text, bytes or an object) and fail
the test, naming the document's message and what is wrong, unless it is one of the frames the
document lists for that direction. The node tests have the same in tests/web/wire-format.mjs.
"""

import functools
import json
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft7Validator, ValidationError, validators
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

DOCUMENT_PATH = Path(__file__).resolve().parents[1] / "docs" / "asyncapi.yaml"
DOCUMENT_URI = "urn:serverless-chat:asyncapi"


@functools.cache
def document() -> dict[str, Any]:
    return yaml.safe_load(DOCUMENT_PATH.read_text(encoding="utf-8"))


def schema(name: str) -> dict[str, Any]:
    """components/schemas/<name>, e.g. for the limits it states."""
    return document()["components"]["schemas"][name]


def _max_utf8_bytes(validator, limit: int, instance: Any, schema: dict) -> Any:
    """The document's own keyword: a string's length in UTF-8 bytes (JSON Schema counts characters)."""
    if isinstance(instance, str) and len(instance.encode("utf-8")) > limit:
        yield ValidationError(f"is {len(instance.encode('utf-8'))} bytes of UTF-8; at most {limit}")


WireFormatValidator = validators.extend(Draft7Validator, {"x-max-utf8-bytes": _max_utf8_bytes})


@functools.cache
def _registry() -> Registry:
    return Registry().with_resource(DOCUMENT_URI, Resource.from_contents(document(), default_specification=DRAFT7))


def _resolve(reference: str) -> Any:
    node: Any = document()
    for part in reference.removeprefix("#/").split("/"):
        node = node[part]
    return node


@functools.cache
def message_names(action: str) -> tuple[str, ...]:
    """The components/messages names of the frames the chat receives (``receive``: client -> server)
    or sends (``send``: server -> client, replies included), as its operations list them."""
    names: list[str] = []
    for operation in document()["operations"].values():
        references = [] if operation["action"] != action else operation["messages"]
        if action == "send":
            references = [*references, *operation.get("reply", {}).get("messages", [])]
        for reference in references:
            name = _component_name(reference["$ref"])
            if name not in names:
                names.append(name)
    return tuple(names)


def _component_name(channel_message_ref: str) -> str:
    """'#/channels/chat/messages/x' -> the components/messages name it refers to."""
    return _resolve(channel_message_ref)["$ref"].rsplit("/", 1)[1]


@functools.cache
def message_validator(name: str) -> Draft7Validator:
    """A validator of components/messages/<name>'s payload, its $refs resolved within the document."""
    payload = {"$ref": f"{DOCUMENT_URI}#/components/messages/{name}/payload"}
    return WireFormatValidator(payload, registry=_registry(), format_checker=Draft7Validator.FORMAT_CHECKER)


def problems(name: str, frame: Any) -> list[str]:
    """Why ``frame`` is not a valid <name> message (empty when it is)."""
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '(frame)'}: {error.message[:200]}"
        for error in message_validator(name).iter_errors(frame)
    ]


def matching_messages(frame: Any, action: str) -> list[str]:
    return [name for name in message_names(action) if not problems(name, frame)]


def _frame(data: Any) -> Any:
    if isinstance(data, bytes | bytearray):
        data = data.decode("utf-8")
    return json.loads(data) if isinstance(data, str) else data


def _check(data: Any, action: str, direction: str) -> dict[str, Any]:
    frame = _frame(data)
    matches = matching_messages(frame, action)
    if len(matches) != 1:
        # The message the frame claims to be (by its type or action), else every one of that direction.
        claimed = [name for name in message_names(action) if _claims(name, frame)] or list(message_names(action))
        details = "; ".join(f"as {name}: {', '.join(problems(name, frame)) or 'valid'}" for name in claimed)
        raise AssertionError(
            f"{direction} frame {json.dumps(frame)[:300]} is not exactly one message of docs/asyncapi.yaml "
            f"(matches: {matches or 'none'}): {details}"
        )
    return frame


def _claims(name: str, frame: Any) -> bool:
    properties = _resolve(document()["components"]["messages"][name]["payload"]["$ref"]).get("properties", {})
    discriminator = properties.get("type", properties.get("action", {})).get("const")
    return isinstance(frame, dict) and discriminator in (frame.get("type"), frame.get("action"))


def server_frame(data: Any) -> dict[str, Any]:
    """A frame the chat (or API Gateway) sent a client, parsed, once checked against the document."""
    return _check(data, "send", "server -> client")


def server_frames(frames: list[Any]) -> list[dict[str, Any]]:
    return [server_frame(frame) for frame in frames]


def client_frame(data: Any) -> dict[str, Any]:
    """A frame a client sends the chat, parsed, once checked against the document."""
    return _check(data, "receive", "client -> server")
