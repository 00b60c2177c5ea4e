"""The cloud assembly of a stage: reused while fresh, synthesized again when sources changed."""

import asyncio
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from cdk.names import stack_name_for
from cdk.paths import PROJECT_ROOT

ASSEMBLY_DIR = PROJECT_ROOT / "cdk.out"
SOURCES = ("cdk", "lambdas", "statemachines", "cdk.json")
AGNOSTIC_ENVIRONMENT = "aws://unknown-account/unknown-region"
_USER_FRAME = re.compile(r'File "(?P<path>[^"]+)", line (?P<line>\d+)')


class SynthError(RuntimeError):
    """The CDK app failed to synthesize (its output says why)."""

    def __init__(self, stage: str, output: str):
        super().__init__(f"synthesis of stage {stage} failed:\n{output}")
        self.output = output

    def summary(self) -> str:
        """One line: the last line of the project's own code in the traceback, and the error."""
        lines = [line.strip() for line in self.output.splitlines() if line.strip()]
        error = lines[-1] if lines else "no output"
        frames = [
            match
            for match in _USER_FRAME.finditer(self.output)
            if Path(match["path"]).is_relative_to(PROJECT_ROOT) and ".venv" not in Path(match["path"]).parts
        ]
        if not frames:
            return error
        path = Path(frames[-1]["path"]).relative_to(PROJECT_ROOT)
        return f"{path}, line {frames[-1]['line']}: {error}"


class UnreadableManifest(RuntimeError):
    """cdk.out/manifest.json is not what synthesis writes."""


def template_path(stage: str) -> Path:
    return ASSEMBLY_DIR / f"{stack_name_for(stage)}.template.json"


def is_fresh(template: Path) -> bool:
    """Newer than every source, and environment-agnostic as `local` synthesizes it (a `cdk synth`
    or `cdk deploy` with credentials bakes a real account and region into ARNs and URLs).
    Raises UnreadableManifest when the assembly's manifest is corrupt."""
    if not template.is_file() or not _is_environment_agnostic(template):
        return False
    built = template.stat().st_mtime_ns
    return all(mtime <= built for mtime in source_snapshot().values())


def _is_environment_agnostic(template: Path) -> bool:
    manifest_path = template.parent / "manifest.json"
    if not manifest_path.is_file():
        return False
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        artifact = manifest.get("artifacts", {}).get(template.name[: -len(".template.json")])
    except (OSError, UnicodeDecodeError, ValueError, AttributeError) as error:
        shown = manifest_path.relative_to(PROJECT_ROOT) if manifest_path.is_relative_to(PROJECT_ROOT) else manifest_path
        raise UnreadableManifest(f"{shown} is not a cloud assembly manifest ({error})") from None
    return isinstance(artifact, dict) and artifact.get("environment") == AGNOSTIC_ENVIRONMENT


def source_snapshot(root: Path = PROJECT_ROOT) -> dict[str, int]:
    """Every source file synthesis reads (relative path -> modification time in ns)."""
    snapshot = {}
    for name in SOURCES:
        path = root / name
        files = [path] if path.is_file() else sorted(path.rglob("*")) if path.is_dir() else []
        for file in files:
            if "__pycache__" in file.parts:
                continue
            try:
                if file.is_file():
                    snapshot[str(file.relative_to(root))] = file.stat().st_mtime_ns
            except OSError:  # deleted between listing and stat: the next snapshot sees it gone
                continue
    return snapshot


def synthesize(stage: str, *, log: Callable[[str], None] = print) -> Path:
    """Synthesize ``stage`` into cdk.out (Ctrl-C reaches the CDK app too, and stops both)."""
    log(f"synthesizing stage {stage} into cdk.out …")
    command, environment = _synth_command(stage)
    result = subprocess.run(command, cwd=PROJECT_ROOT, env=environment, capture_output=True, text=True)
    if result.returncode != 0 or not template_path(stage).is_file():
        raise SynthError(stage, f"{result.stdout}{result.stderr}")
    return ASSEMBLY_DIR


async def synthesize_async(stage: str) -> Path:
    """synthesize() without blocking the event loop; cancelling it stops the CDK app."""
    command, environment = _synth_command(stage)
    process = await asyncio.create_subprocess_exec(
        *command,
        cwd=PROJECT_ROOT,
        env=environment,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        output, _ = await process.communicate()
    except asyncio.CancelledError:
        process.kill()
        await asyncio.shield(process.wait())
        raise
    if process.returncode != 0 or not template_path(stage).is_file():
        raise SynthError(stage, output.decode("utf-8", "replace"))
    return ASSEMBLY_DIR


def _synth_command(stage: str) -> tuple[list[str], dict[str, str]]:
    """The app's own synthesis (cdk/synthesis.py, as `cdk synth` runs it), in a process that can be stopped."""
    command = [sys.executable, "-m", "cdk.synthesis", "--stage", stage, "--outdir", str(ASSEMBLY_DIR)]
    environment = {
        **os.environ,
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": os.environ.get(
            "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20"
        ),
    }
    return command, environment
