"""Room names: 1 to 64 characters of [A-Za-z0-9_-], case-insensitive (the key is the lower-case name); anything
else is refused with invalid_room."""

import pytest
from chat.requests import InvalidRequest
from chat.rooms import room_key


@pytest.mark.parametrize(
    ("name", "key"),
    [("General", "general"), ("a", "a"), ("team_42-Ops", "team_42-ops"), ("X" * 64, "x" * 64)],
)
def test_a_room_name_is_keyed_in_lower_case(name, key):
    assert room_key(name) == key


@pytest.mark.parametrize(
    "name",
    ["", "x" * 65, "with space", "dot.ted", "hash#tag", "caf\u00e9", "line\n", None, 42, ["general"], {"room": "a"}],
)
def test_anything_else_is_an_invalid_room(name):
    with pytest.raises(InvalidRequest) as refused:
        room_key(name)

    assert refused.value.code == "invalid_room"
    assert "1 to 64 characters" in str(refused.value)
