"""Execution names are what Step Functions accepts: 1-80 characters of A-Z, a-z, 0-9, '-' and '_'."""

import re

import pytest
from chat.execution_names import MAX_EXECUTION_NAME_LENGTH, execution_name

VALID = re.compile(r"^[A-Za-z0-9_-]{1,80}$")


@pytest.mark.parametrize(
    "parts",
    [
        ("CfF0ed8QoAMCKxQ=", "CfF0eGh1oAMFpXg="),
        ("a+b/c==",),
        ("x" * 100, "y" * 100),
        ("héllo wörld", "$connect"),
        ("", ""),
        (),
    ],
)
def test_names_are_always_valid(parts):
    assert VALID.match(execution_name(*parts))


def test_allowed_characters_are_kept():
    assert execution_name("Abc-123_x", "req") == "Abc-123_x-req"


def test_rejected_characters_are_replaced_not_dropped():
    assert execution_name("ab=", "c+d") == "ab_-c_d"


def test_long_names_are_cut_to_the_limit():
    assert len(execution_name("x" * 200)) == MAX_EXECUTION_NAME_LENGTH == 80


def test_empty_parts_are_skipped():
    assert execution_name("", "abc", "") == "abc"
