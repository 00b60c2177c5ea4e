"""Speed-ups for moto's Step Functions interpreter under bursts of executions; behaviour unchanged.

Measured here, most of an execution's CPU time went to work that does not depend on the execution:
re-parsing the state machine's definition, re-parsing every JSONPath, and building a new boto3
client for every Lambda task. Each is memoized:

- parsed definitions: a parsed program keeps no per-execution state (that lives in the evaluation
  Environment), which is why concurrent Map iterations of one execution can already share it;
- parsed JSONPath expressions are immutable;
- boto3 clients are thread-safe, and every task of the runtime talks to the same local endpoint.

The patches rebind private functions of one moto release. ``apply`` refuses to run on another
release, or when a target is gone, so that the engine never silently runs untuned (or half-tuned):
`make dev` and the workflow tests then stop with a TuningError saying what to re-check.
"""

import functools
import importlib
import importlib.metadata
import os
import sys
import threading
from collections.abc import Mapping
from types import ModuleType
from typing import Any

# The release whose internals the patches below were read from (pinned in pyproject.toml).
MOTO_VERSION = "5.2.5"
# Set to "off" to run moto's interpreter as released: `LOCAL_MOTO_TUNING=off make dev` or
# `LOCAL_MOTO_TUNING=off .venv/bin/python -m pytest tests/workflows`.
TUNING_SWITCH = "LOCAL_MOTO_TUNING"

# Imports the whole interpreter, so that every module importing boto_client_for by name is loaded.
_EXECUTION_MODULE = "moto.stepfunctions.parser.backend.execution"
_PARSER_MODULE = "moto.stepfunctions.parser.asl.parse.asl_parser"
_JSON_PATH_MODULE = "moto.stepfunctions.parser.asl.utils.json_path"
_BOTO_CLIENT_MODULE = "moto.stepfunctions.parser.asl.utils.boto_client"
# Where Lambda tasks build their client: it imports boto_client_for by name, so it needs its own rebinding.
_LAMBDA_TASK_MODULE = "moto.stepfunctions.parser.asl.component.state.exec.state_task.lambda_eval_utils"


class TuningError(RuntimeError):
    """The installed moto is not the one the patches were written for, or a patch target moved."""


def tuning_enabled(environment: Mapping[str, str] = os.environ) -> bool:
    value = environment.get(TUNING_SWITCH, "on")
    if value not in ("on", "off"):
        raise TuningError(f"{TUNING_SWITCH}={value!r}: expected 'on' (the default) or 'off'")
    return value == "on"


def apply() -> None:
    """Patch moto's interpreter in this process, or raise TuningError without patching anything."""
    installed = importlib.metadata.version("moto")
    if installed != MOTO_VERSION:
        raise TuningError(
            f"moto {installed} is installed, but {__name__} patches the internals of moto {MOTO_VERSION}: "
            f"re-check each patch against moto {installed} and update MOTO_VERSION, "
            f"or run untuned with {TUNING_SWITCH}=off"
        )
    parser_class = _target(_PARSER_MODULE, "AmazonStateLanguageParser")
    if not isinstance(parser_class.__dict__.get("parse"), staticmethod):
        raise TuningError(f"{_PARSER_MODULE}.AmazonStateLanguageParser.parse is no longer a static method")
    json_path = _module(_JSON_PATH_MODULE)
    _target(_JSON_PATH_MODULE, "parse")
    _module(_EXECUTION_MODULE)
    boto_client = _module(_BOTO_CLIENT_MODULE)
    original_client_for = _target(_BOTO_CLIENT_MODULE, "boto_client_for")
    if _target(_LAMBDA_TASK_MODULE, "boto_client_for") is not original_client_for:
        raise TuningError(f"{_LAMBDA_TASK_MODULE}.boto_client_for is not {_BOTO_CLIENT_MODULE}.boto_client_for")

    parser_class.parse = staticmethod(functools.lru_cache(maxsize=64)(parser_class.parse))
    json_path.parse = functools.lru_cache(maxsize=4096)(json_path.parse)
    shared_client_for = _shared_clients(original_client_for)
    # Every module that imported the function by name (the Lambda task's among them) gets the shared one.
    for module in list(sys.modules.values()):
        if getattr(module, "boto_client_for", None) is original_client_for:
            module.boto_client_for = shared_client_for
    boto_client.boto_client_for = shared_client_for


def _module(name: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except ImportError as error:
        raise TuningError(f"moto has no module {name} any more ({error})") from error


def _target(module_name: str, attribute: str) -> Any:
    value = getattr(_module(module_name), attribute, None)
    if value is None:
        raise TuningError(f"moto's {module_name} has no {attribute} any more")
    return value


def _shared_clients(original):
    clients = {}
    lock = threading.Lock()

    @functools.wraps(original)
    def shared_client_for(region: str, service: str, state_credentials=None):
        with lock:
            if (region, service) not in clients:
                clients[(region, service)] = original(region, service, state_credentials)
            return clients[(region, service)]

    return shared_client_for
