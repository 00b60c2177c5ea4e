"""`npx cdk` as a developer types it in this checkout (outside make, so without make's environment): it lists
and synthesizes the stage and prints nothing else — no Node end-of-life banner, no unconfigured feature flags."""

import json
import shutil
import tarfile
from pathlib import Path

import aws_cdk
import pytest
from infra_support import CONTEXT, PROJECT_ROOT, npx_cdk

pytestmark = pytest.mark.skipif(
    shutil.which("npx") is None or not (PROJECT_ROOT / "node_modules" / "aws-cdk").exists(),
    reason="npx or the project's CDK CLI is not installed",
)


def test_cdk_ls_lists_the_stage_and_prints_nothing_else(tmp_path):
    result = npx_cdk(PROJECT_ROOT, "ls", "--output", str(tmp_path))

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["Chat-dev"]
    assert result.stderr.strip() == ""


def test_cdk_synth_finds_every_feature_flag_configured(tmp_path):
    result = npx_cdk(PROJECT_ROOT, "synth", "-c", "stage=dev", "--quiet", "--output", str(tmp_path))

    assert result.returncode == 0, result.stderr
    assert "feature flags" not in result.stdout + result.stderr
    # CDK says when it bundles an asset (the authorizer's layer, built locally: cdk/layers.py), and nothing else.
    assert [
        line for line in result.stderr.splitlines() if line.strip() and not line.startswith("Bundling asset ")
    ] == []


def recommended_feature_flags() -> dict[str, object]:
    """What ``cdk init`` writes into a new app's cdk.json for the installed aws-cdk-lib: its
    recommended-feature-flags.json, read from the library's jsii assembly."""
    package = Path(aws_cdk.__file__).parent / "_jsii"
    (assembly,) = package.glob("aws-cdk-lib@*.jsii.tgz")
    with tarfile.open(assembly) as archive:
        return json.load(archive.extractfile("package/recommended-feature-flags.json"))


def test_cdk_json_sets_every_flag_a_new_app_gets_to_its_recommended_value():
    recommended = recommended_feature_flags()

    assert {flag: CONTEXT.get(flag, "<unset>") for flag in recommended} == recommended
