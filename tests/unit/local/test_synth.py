"""cdk.out is reused only when it is newer than the sources and was synthesized environment-agnostic."""

import json

from local.synth import AGNOSTIC_ENVIRONMENT, is_fresh


def write_assembly(tmp_path, environment: str):
    template = tmp_path / "Chat-dev.template.json"
    template.write_text("{}")
    manifest = {"artifacts": {"Chat-dev": {"type": "aws:cloudformation:stack", "environment": environment}}}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    return template


def test_fresh_agnostic_assembly_is_reused(tmp_path):
    assert is_fresh(write_assembly(tmp_path, AGNOSTIC_ENVIRONMENT))


def test_assembly_with_a_real_account_and_region_is_synthesized_again(tmp_path):
    # What `cdk synth` / `cdk deploy` with credentials writes: ARNs and URLs name a real region.
    assert not is_fresh(write_assembly(tmp_path, "aws://111122223333/eu-west-1"))


def test_missing_template_or_manifest_is_not_fresh(tmp_path):
    assert not is_fresh(tmp_path / "Chat-dev.template.json")
    template = write_assembly(tmp_path, AGNOSTIC_ENVIRONMENT)
    (tmp_path / "manifest.json").unlink()
    assert not is_fresh(template)
