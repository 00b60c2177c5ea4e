"""CloudFormation intrinsics resolve to the local runtime's values; what it cannot resolve is named."""

import pytest

from local.intrinsics import IntrinsicResolver, substitute_definition
from local.template_errors import UnsupportedTemplate

REFS = {"AWS::Region": "us-east-1", "Api": "a1b2c3", "Stage": "dev", "Flag": "on"}
ATTRIBUTES = {("Fn", "Arn"): "arn:aws:lambda:us-east-1:123456789012:function:fn"}


def resolver(conditions=None) -> IntrinsicResolver:
    return IntrinsicResolver(
        ref=lambda name: REFS[name],
        get_att=lambda logical_id, attribute: ATTRIBUTES[(logical_id, attribute)],
        conditions=conditions,
    )


def test_ref_getatt_and_join_build_a_callback_url():
    value = {"Fn::Join": ["", ["https://", {"Ref": "Api"}, ".execute-api.", {"Ref": "AWS::Region"}, "/", "dev"]]}
    assert resolver().resolve(value, "test") == "https://a1b2c3.execute-api.us-east-1/dev"
    assert resolver().resolve({"Fn::GetAtt": ["Fn", "Arn"]}, "test") == ATTRIBUTES[("Fn", "Arn")]
    assert resolver().resolve({"Fn::GetAtt": "Fn.Arn"}, "test") == ATTRIBUTES[("Fn", "Arn")]


def test_sub_handles_refs_attributes_variables_and_escapes():
    text = "${Api}|${Fn.Arn}|${Name}|${!Literal}|${AWS::Region}"
    value = {"Fn::Sub": [text, {"Name": {"Ref": "Stage"}}]}
    assert resolver().resolve(value, "test") == f"a1b2c3|{ATTRIBUTES[('Fn', 'Arn')]}|dev|${{Literal}}|us-east-1"


def test_select_split_and_nested_structures():
    value = {"List": [{"Fn::Select": [1, {"Fn::Split": [",", "a,b,c"]}]}], "Plain": 3}
    assert resolver().resolve(value, "test") == {"List": ["b"], "Plain": 3}


def test_if_follows_template_conditions():
    conditions = {"IsOn": {"Fn::Equals": [{"Ref": "Flag"}, "on"]}, "IsOff": {"Fn::Not": [{"Condition": "IsOn"}]}}
    value = [{"Fn::If": ["IsOn", "yes", "no"]}, {"Fn::If": ["IsOff", "yes", "no"]}]
    assert resolver(conditions).resolve(value, "test") == ["yes", "no"]


def test_unsupported_function_is_a_clear_error_naming_where():
    with pytest.raises(UnsupportedTemplate, match=r"resource Thing, property Env: intrinsic function Fn::ImportValue"):
        resolver().resolve({"Fn::ImportValue": "shared"}, "resource Thing, property Env")


def test_undefined_condition_is_a_clear_error():
    with pytest.raises(UnsupportedTemplate, match="condition 'Missing' is not defined"):
        resolver().resolve({"Fn::If": ["Missing", 1, 2]}, "resource Thing")


def test_definition_substitutions_fill_every_placeholder():
    definition = '{"Resource": "${TaskArn}", "Other": "${TaskArn}"}'
    assert substitute_definition(definition, {"TaskArn": "arn:x"}, "sm") == '{"Resource": "arn:x", "Other": "arn:x"}'


def test_definition_placeholder_without_substitution_is_an_error():
    with pytest.raises(UnsupportedTemplate, match=r"resource Sm: definition placeholder \$\{Missing\}"):
        substitute_definition('{"Resource": "${Missing}"}', {}, "resource Sm")
