"""`npx cdk synth` in a fresh clone, before `make install`: one line saying what to run first, never an
offer to download some `cdk` package, never "/bin/sh: .venv/bin/python: not found"."""

import json
import shutil
from pathlib import Path

import pytest
from infra_support import PROJECT_ROOT, npx_cdk

ENTRY_FILES = ("package.json", "package-lock.json", "cdk.json", "scripts/cdk-cli.js", "scripts/cdk-app")
INSTALL_FIRST = "run `make install` first"

pytestmark = pytest.mark.skipif(shutil.which("npx") is None, reason="npx (Node.js) is not installed")


def clone(tmp_path: Path, *, with_node_modules: bool) -> Path:
    for name in ENTRY_FILES:
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(PROJECT_ROOT / name, target)
    if with_node_modules:
        (tmp_path / "node_modules").symlink_to(PROJECT_ROOT / "node_modules", target_is_directory=True)
    return tmp_path


def test_without_node_modules_npx_cdk_says_to_install_first(tmp_path):
    result = npx_cdk(clone(tmp_path, with_node_modules=False), "synth")

    assert result.returncode != 0
    assert result.stderr.strip() == f"The AWS CDK CLI is not installed in this checkout: {INSTALL_FIRST}."
    assert "Need to install" not in result.stdout + result.stderr


@pytest.mark.skipif(not (PROJECT_ROOT / "node_modules" / "aws-cdk").exists(), reason="node_modules not installed")
def test_npx_cdk_is_the_pinned_cli_and_without_the_venv_the_app_says_to_install_first(tmp_path):
    checkout = clone(tmp_path, with_node_modules=True)
    pinned = json.loads((PROJECT_ROOT / "package.json").read_text())["devDependencies"]["aws-cdk"]

    version = npx_cdk(checkout, "--version")
    synth = npx_cdk(checkout, "synth")

    assert version.returncode == 0 and version.stdout.startswith(pinned), version.stdout + version.stderr
    assert synth.returncode != 0
    assert f"The project's Python environment (.venv) is not installed: {INSTALL_FIRST}." in synth.stderr
    assert "not found" not in synth.stderr
