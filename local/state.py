"""The state file of a running runtime: which endpoints it serves, for `python -m local executions`.

Kept free of aiohttp and of the runtime, so that reading it costs nothing.
"""

import json
from dataclasses import asdict, dataclass
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
    stepfunctions_url: str
    state_machines: dict[str, str]  # ARN -> display name


def state_file(state_dir: Path, stage: str) -> Path:
    return state_dir / f"{stage}.json"


def write_state(path: Path, state: RuntimeState) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(asdict(state), indent=2), encoding="utf-8")


def read_state(path: Path) -> RuntimeState | None:
    """The state a runtime wrote, or None when none is serving."""
    if not path.is_file():
        return None
    return RuntimeState(**json.loads(path.read_text(encoding="utf-8")))
