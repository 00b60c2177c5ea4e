"""The state file of a running runtime: which endpoints it serves, for `python -m local executions`.

Kept free of aiohttp and of the runtime, so that reading it costs nothing.
"""

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from local.synth import PROJECT_ROOT

# Where a running runtime notes its endpoints; tests point it elsewhere.
DEFAULT_STATE_DIR = PROJECT_ROOT / ".local-runtime"


@dataclass(frozen=True)
class RuntimeState:
    stack: str
    region: str
    websocket_url: str
    gateway_url: str
    stepfunctions_url: str  # the primary interpreter's: what the functions call
    state_machines: dict[str, str]  # ARN -> display name
    pid: int = 0  # the process serving it
    # Every interpreter process's (the primary's first): each lists and describes its own executions.
    interpreter_urls: list[str] = field(default_factory=list)
    # On a stage with sign-in: the pool's and app client's ids in moto (user_pool_id, client_id), for `users` and
    # `token`; and the connection registry's, user directory's and memberships' table names (connections, users,
    # memberships).
    cognito: dict[str, str] = field(default_factory=dict)
    tables: dict[str, str] = field(default_factory=dict)


def state_file(state_dir: Path, stage: str) -> Path:
    return state_dir / f"{stage}.json"


def write_state(path: Path, state: RuntimeState) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    partial.write_text(json.dumps(asdict(state), indent=2), encoding="utf-8")
    partial.replace(path)  # readers see the old file or the new one, never half of one


def read_state(path: Path) -> RuntimeState | None:
    """The state a runtime wrote, or None when none is serving."""
    try:
        return RuntimeState(**json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):  # none, or not one a runtime wrote
        return None


def other_instance(path: Path) -> RuntimeState | None:
    """The state of another runtime still serving this stage; None when there is none, or when the
    one that wrote the file is gone (killed without cleaning up)."""
    state = read_state(path)
    if state is None or state.pid in (0, os.getpid()):
        return None
    try:
        os.kill(state.pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:  # alive, another user's
        return state
    return state


def remove_own_state(path: Path) -> None:
    """Remove the state file if this process wrote it: another instance's is never touched."""
    state = read_state(path)
    if state is not None and state.pid == os.getpid():
        path.unlink(missing_ok=True)
