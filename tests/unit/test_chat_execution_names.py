"""Execution names are what Step Functions accepts: 1-80 characters of A-Z, a-z, 0-9, '-' and '_' (the
characters CloudWatch Logs needs for an Express workflow's logs), built from the ids they name."""

import pytest
from chat.execution_names import MAX_EXECUTION_NAME_LENGTH, execution_name


@pytest.mark.parametrize(
    ("parts", "name"),
    [
        (("CfF0ed8QoAMCKxQ=", "CfF0eGh1oAMFpXg="), "CfF0ed8QoAMCKxQ_-CfF0eGh1oAMFpXg_"),
        (("a+b/c==",), "a_b_c__"),
        (("héllo wörld", "$connect"), "h_llo_w_rld-_connect"),
        (("Abc-123_x", "req"), "Abc-123_x-req"),
        (("", "abc", ""), "abc"),
        (("", ""), "execution"),
        ((), "execution"),
    ],
    ids=["connection-ids", "base64", "non-ascii", "allowed-kept", "empty-parts-skipped", "all-empty", "none"],
)
def test_rejected_characters_become_underscores_and_empty_parts_are_skipped(parts, name):
    assert execution_name(*parts) == name


def test_long_names_are_cut_to_the_limit():
    name = execution_name("x" * 100, "y" * 100)

    assert len(name) == MAX_EXECUTION_NAME_LENGTH == 80
    assert name == "x" * 80


def test_two_requests_of_one_connection_get_different_names():
    connection = "CfF0ed8QoAMCKxQ="

    assert execution_name(connection, "req-1") != execution_name(connection, "req-2")
