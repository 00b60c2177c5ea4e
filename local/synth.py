"""The cloud assembly of a stage: reused while fresh, synthesized again when sources changed."""

import json
import os
import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ASSEMBLY_DIR = PROJECT_ROOT / "cdk.out"
SOURCES = ("cdk", "lambdas", "statemachines", "cdk.json")
AGNOSTIC_ENVIRONMENT = "aws://unknown-account/unknown-region"


class SynthError(RuntimeError):
    """The CDK app failed to synthesize (its output says why)."""


def stack_name_for(stage: str) -> str:
    return f"Chat-{stage}"


def is_fresh(template: Path) -> bool:
    """Newer than every source, and environment-agnostic as `local` synthesizes it (a `cdk synth`
    or `cdk deploy` with credentials bakes a real account and region into ARNs and URLs)."""
    if not template.is_file() or not _is_environment_agnostic(template):
        return False
    built = template.stat().st_mtime
    return all(mtime <= built for mtime in _source_mtimes())


def _is_environment_agnostic(template: Path) -> bool:
    manifest = template.parent / "manifest.json"
    if not manifest.is_file():
        return False
    artifact = (
        json.loads(manifest.read_text(encoding="utf-8"))
        .get("artifacts", {})
        .get(template.name[: -len(".template.json")])
    )
    return bool(artifact) and artifact.get("environment") == AGNOSTIC_ENVIRONMENT


def _source_mtimes():
    for name in SOURCES:
        path = PROJECT_ROOT / name
        if path.is_file():
            yield path.stat().st_mtime
        for file in path.rglob("*") if path.is_dir() else ():
            if file.is_file() and "__pycache__" not in file.parts:
                yield file.stat().st_mtime


def ensure_assembly(stage: str, *, force: bool = False, log=print) -> Path:
    """Synthesize ``stage`` into cdk.out unless its template is newer than every source file."""
    template = ASSEMBLY_DIR / f"{stack_name_for(stage)}.template.json"
    if not force and is_fresh(template):
        log(f"reusing {template.relative_to(PROJECT_ROOT)} (newer than the sources)")
        return ASSEMBLY_DIR
    log(f"synthesizing stage {stage} into cdk.out …")
    context = json.loads((PROJECT_ROOT / "cdk.json").read_text(encoding="utf-8")).get("context", {})
    environment = {
        **{
            name: value
            for name, value in os.environ.items()
            if name not in ("CDK_DEFAULT_ACCOUNT", "CDK_DEFAULT_REGION")
        },
        "CDK_OUTDIR": str(ASSEMBLY_DIR),
        # As the CDK CLI does: construct paths and asset paths in the template's metadata.
        "CDK_CONTEXT_JSON": json.dumps(
            {**context, "stage": stage, "aws:cdk:enable-path-metadata": True, "aws:cdk:enable-asset-metadata": True}
        ),
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": os.environ.get(
            "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20"
        ),
    }
    result = subprocess.run(
        [sys.executable, "-m", "cdk.app"], cwd=PROJECT_ROOT, env=environment, capture_output=True, text=True
    )
    if result.returncode != 0 or not template.is_file():
        raise SynthError(f"synthesis of stage {stage} failed:\n{result.stdout}{result.stderr}")
    return ASSEMBLY_DIR
