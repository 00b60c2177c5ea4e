"""The CDK app takes nothing from lambdas/ but the functions' code asset: an edit there (a handler changed,
a module added) changes the synthesized template only by that asset's hash. The local runtime relies on
it to serve such an edit without a synthesis (local/code_assets.py)."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from infra_support import PROJECT_ROOT, chat_functions

PARTS = ("cdk", "lambdas", "statemachines", "web", "cdk.json", "pyproject.toml", "local")
SYNTH_SECONDS = 240  # a loaded machine


def project_copy(root: Path) -> Path:
    root.mkdir(parents=True)
    for part in PARTS:
        if (PROJECT_ROOT / part).is_dir():
            shutil.copytree(PROJECT_ROOT / part, root / part, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(PROJECT_ROOT / part, root / part)
    return root


def start_synth(root: Path) -> subprocess.Popen:
    """`python -m local serve`'s synthesis of stage dev, into the copy's cdk.out."""
    environment = {name: value for name, value in os.environ.items() if not name.startswith("CDK_")}
    return subprocess.Popen(
        [sys.executable, "-c", "from local.synth import synthesize; synthesize('dev', log=lambda _: None)"],
        cwd=root,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def template_and_code_asset(root: Path) -> tuple[str, str]:
    text = (root / "cdk.out" / "Chat-dev.template.json").read_text(encoding="utf-8")
    template = json.loads(text)
    assets = {
        template["Resources"][logical_id]["Metadata"]["aws:asset:path"].removeprefix("asset.")
        for logical_id in chat_functions(template)
    }
    assert len(assets) == 1, assets  # every function shares the one asset of lambdas/
    return text, assets.pop()


def test_an_edit_under_lambdas_changes_the_template_only_by_the_code_asset_hash(tmp_path):
    pristine = project_copy(tmp_path / "pristine")
    edited = project_copy(tmp_path / "edited")
    handler = edited / "lambdas" / "on_default.py"
    handler.write_text(handler.read_text(encoding="utf-8").replace("valid actions:", "try one of:"), encoding="utf-8")
    (edited / "lambdas" / "chat" / "wording.py").write_text('HINT = "choose from"\n', encoding="utf-8")

    synths = [start_synth(pristine), start_synth(edited)]
    for synth in synths:
        output, _ = synth.communicate(timeout=SYNTH_SECONDS)
        assert synth.returncode == 0, output

    before, before_asset = template_and_code_asset(pristine)
    after, after_asset = template_and_code_asset(edited)
    assert before_asset != after_asset
    assert json.loads(after.replace(after_asset, before_asset)) == json.loads(before)
