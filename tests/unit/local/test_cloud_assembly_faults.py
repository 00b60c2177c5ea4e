"""A corrupt cloud assembly is named in one clear error (never a traceback); invalid ASL names its state machine."""

import json

import pytest

from local.synth import AGNOSTIC_ENVIRONMENT, UnreadableManifest, is_fresh
from local.template import asl_problem, load_stack
from local.template_errors import UnreadableTemplate

VALID = {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}


@pytest.mark.parametrize(
    ("content", "why"),
    [
        ('{"Resources": {', "is not a CloudFormation template"),
        ("", "is not a CloudFormation template"),
        ("[]", "a JSON list, not an object"),
        ('{"Outputs": {}}', "it has no Resources"),
    ],
    ids=["truncated", "empty", "json-array", "no-resources"],
)
def test_unreadable_template_is_named(tmp_path, content, why):
    (tmp_path / "cdk.out").mkdir()
    (tmp_path / "cdk.out" / "Chat-dev.template.json").write_text(content)
    with pytest.raises(UnreadableTemplate) as raised:
        load_stack(tmp_path / "cdk.out", "Chat-dev")
    assert "cdk.out/Chat-dev.template.json" in str(raised.value) and why in str(raised.value)


def test_corrupt_manifest_is_named_not_a_traceback(tmp_path):
    template = tmp_path / "Chat-dev.template.json"
    template.write_text("{}")
    (tmp_path / "manifest.json").write_text('{"artifacts": ')
    with pytest.raises(UnreadableManifest, match=r"manifest\.json"):
        is_fresh(template)
    (tmp_path / "manifest.json").write_text("[]")
    with pytest.raises(UnreadableManifest, match=r"manifest\.json"):
        is_fresh(template)
    manifest = {"artifacts": {"Chat-dev": {"environment": AGNOSTIC_ENVIRONMENT}}}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    assert isinstance(is_fresh(template), bool)


def _with(**changes) -> str:
    return json.dumps({**VALID, **changes})


@pytest.mark.parametrize(
    ("definition", "problem"),
    [
        ("{not json", "not JSON"),
        ("[]", "has no States"),
        (_with(States={}), "has no States"),
        (_with(StartAt="Missing"), "StartAt 'Missing' names no state"),
        (_with(States={"A": {"End": True}}), "state 'A' has no Type"),
        (_with(States={"A": {"Type": "Pass", "Next": "B"}}), "state 'A': Next 'B' names no state"),
        (
            _with(States={"A": {"Type": "Map", "End": True, "ItemProcessor": {"StartAt": "X", "States": {}}}}),
            "state 'A''s ItemProcessor has no States",
        ),
    ],
)
def test_invalid_asl_is_described(definition, problem):
    assert problem in asl_problem(definition)


def test_valid_asl_has_no_problem():
    assert asl_problem(json.dumps(VALID)) is None


def test_invalid_asl_in_a_template_names_the_file_and_the_state_machine_once(tmp_path):
    (tmp_path / "cdk.out").mkdir()
    machine = {
        "Type": "AWS::StepFunctions::StateMachine",
        "Properties": {"DefinitionString": json.dumps({"StartAt": "Missing", "States": {}}), "RoleArn": "role"},
        "Metadata": {"aws:cdk:path": "Chat-dev/Workflows/Fanout/Resource"},
    }
    template = {"Resources": {"Fanout": machine}}
    (tmp_path / "cdk.out" / "Chat-dev.template.json").write_text(json.dumps(template))
    with pytest.raises(UnreadableTemplate) as raised:
        load_stack(tmp_path / "cdk.out", "Chat-dev")
    assert str(raised.value) == (
        "cdk.out/Chat-dev.template.json: state machine Fanout (Fanout): invalid ASL: the definition has no States"
    )
