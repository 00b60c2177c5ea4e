"""The error names the state machines retry and catch on are the exception classes the tasks raise."""

import json
from pathlib import Path

import pytest
from chat import connections

PROJECT_ROOT = Path(__file__).resolve().parents[2]

STATE_MACHINES = sorted((PROJECT_ROOT / "statemachines").glob("*.asl.json"))


def error_names(states: dict) -> set[str]:
    names = set()
    for state in states.values():
        for rule in state.get("Retry", []) + state.get("Catch", []):
            names.update(rule["ErrorEquals"])
        if "ItemProcessor" in state:
            names |= error_names(state["ItemProcessor"]["States"])
    return names


def test_both_state_machines_are_checked():
    assert {path.name for path in STATE_MACHINES} == {"connection_handshake.asl.json", "message_fanout.asl.json"}


@pytest.mark.parametrize("path", STATE_MACHINES, ids=lambda path: path.name)
def test_custom_error_names_are_raised_by_the_tasks(path: Path):
    definition = json.loads(path.read_text(encoding="utf-8"))
    custom = {name for name in error_names(definition["States"]) if not name.startswith(("States.", "Lambda."))}

    assert custom, "the workflow handles no task error by name"
    for name in custom:
        exception = getattr(connections, name, None)
        assert isinstance(exception, type) and issubclass(exception, Exception), f"{name} is not raised by chat"
