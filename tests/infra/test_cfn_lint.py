"""cfn-lint finds no errors in any stage's template (warnings are reported, not failed on)."""

import json
from pathlib import Path

import pytest
from cfnlint.api import lint_file
from infra_support import STAGES


def lint(path: Path) -> tuple[list[str], list[str]]:
    """(errors, everything else) as printable lines."""
    errors, others = [], []
    for match in lint_file(path):
        line = f"{match.rule.id} {match.message} ({getattr(match, 'path_string', '')})"
        (errors if match.rule.id.startswith("E") else others).append(line)
    return errors, others


@pytest.mark.parametrize("stage", STAGES)
def test_template_has_no_cfn_lint_errors(synth_stage, stage):
    errors, others = lint(synth_stage(stage).template_path(f"Chat-{stage}"))

    if others:
        print(f"cfn-lint, Chat-{stage}, not failing:", *others, sep="\n  ")
    assert errors == []


def test_cfn_lint_reports_errors(tmp_path):
    broken = {
        "Resources": {
            "Fn": {
                "Type": "AWS::Lambda::Function",
                "Properties": {"Runtime": "python2.1", "Handler": "x.handler", "Code": {"ZipFile": "x"}},
            }
        }
    }
    path = tmp_path / "broken.template.json"
    path.write_text(json.dumps(broken), encoding="utf-8")

    errors, _ = lint(path)

    assert errors
