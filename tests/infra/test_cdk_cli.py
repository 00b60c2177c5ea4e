"""`npx cdk` as a developer types it in this checkout (outside make, so without make's environment): it lists
the stage and prints nothing else, no Node end-of-life banner."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from infra_support import PROJECT_ROOT

pytestmark = pytest.mark.skipif(
    shutil.which("npx") is None or not (PROJECT_ROOT / "node_modules" / "aws-cdk").exists(),
    reason="npx or the project's CDK CLI is not installed",
)


def npx_cdk(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    """``npx cdk <args>`` in the project, its cloud assembly written to ``tmp_path`` (cdk.out is make dev's)."""
    environment = {
        name: value for name, value in os.environ.items() if name != "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"
    }
    return subprocess.run(
        ["npx", "cdk", *args, "--output", str(tmp_path / "cdk.out")],
        cwd=PROJECT_ROOT,
        env=environment,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_cdk_ls_lists_the_stage_and_prints_nothing_else(tmp_path):
    result = npx_cdk(tmp_path, "ls")

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["Chat-dev"]
    assert result.stderr.strip() == ""
