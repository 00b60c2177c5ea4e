"""The functions' code asset, served straight from lambdas/ after an edit that changes no infrastructure.

The CDK app packs lambdas/ as the functions' code asset (cdk/functions.py: ``Code.from_asset``, without
``__pycache__`` and ``*.pyc``), and reads lambdas/ for nothing else (tests/infra/test_code_asset.py). So
an edit confined to lambdas/ changes only that asset: new workers can load the new code without a
synthesis. A function counts as built from lambdas/ only when its asset holds, byte for byte, the files
of lambdas/ when the served version was loaded; any other asset (bundled, filtered, or already stale)
leaves every edit to a synthesis.

Workers load a snapshot of lambdas/ taken once the edit settled, not the directory itself: like a
Lambda version, a pool's code never changes under it (a worker it starts later, or a module a handler
imports late, is the same version), and an invocation running during the swap finishes on its own.
"""

import dataclasses
import hashlib
import os
from pathlib import Path

from local.synth import PROJECT_ROOT
from local.template import StackModel

CODE_DIR = PROJECT_ROOT / "lambdas"


def _is_packed(relative: Path) -> bool:
    """What Code.from_asset copies from lambdas/ (cdk/functions.py excludes compiled files)."""
    return "__pycache__" not in relative.parts and relative.suffix != ".pyc"


def code_files(directory: Path) -> dict[str, bytes]:
    """Every packed file under ``directory``: path relative to it -> content."""
    files = {}
    for path in sorted(directory.rglob("*")):
        relative = path.relative_to(directory)
        if not _is_packed(relative):
            continue
        try:
            if path.is_file():
                files[relative.as_posix()] = path.read_bytes()
        except OSError:  # deleted while listed: the watcher reports that change next
            continue
    return files


def functions_built_from(model: StackModel, code_dir: Path = CODE_DIR) -> frozenset[str]:
    """The logical ids of the functions whose code asset is ``code_dir``, file for file."""
    source = code_files(code_dir) if code_dir.is_dir() else {}
    if not source:
        return frozenset()
    same: dict[Path, bool] = {}
    for spec in model.functions.values():
        if spec.code_dir not in same:
            same[spec.code_dir] = spec.code_dir == code_dir or code_files(spec.code_dir) == source
    return frozenset(logical_id for logical_id, spec in model.functions.items() if same[spec.code_dir])


def snapshot(code_dir: Path, into: Path) -> Path:
    """A copy of ``code_dir``'s packed files under ``into``, named by its content (an edit undone
    reuses the earlier copy). Copies are never changed once written."""
    files = code_files(code_dir)
    digest = hashlib.sha256()
    for relative, content in files.items():
        digest.update(f"{relative}\0{len(content)}\0".encode())
        digest.update(content)
    target = into / digest.hexdigest()[:16]
    if target.is_dir():
        return target
    partial = into / f".{target.name}.{os.getpid()}"
    for relative, content in files.items():
        path = partial / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    partial.mkdir(parents=True, exist_ok=True)  # an empty directory is a (failing) version too
    partial.rename(target)
    return target


def serving_code(model: StackModel, logical_ids: frozenset[str], code_dir: Path) -> StackModel:
    """``model`` with the functions ``logical_ids`` loading their code from ``code_dir``."""
    functions = {
        logical_id: dataclasses.replace(spec, code_dir=code_dir) if logical_id in logical_ids else spec
        for logical_id, spec in model.functions.items()
    }
    by_name = {spec.name: spec for spec in functions.values()}
    routes = {
        key: dataclasses.replace(route, function=by_name[route.function.name])
        for key, route in model.api.routes.items()
    }
    return dataclasses.replace(model, functions=functions, api=dataclasses.replace(model.api, routes=routes))


def only_code_changed(changed: list[str], code_dir: Path = CODE_DIR) -> bool:
    """Whether every changed path (relative to the project) lies under ``code_dir``."""
    prefix = code_dir.relative_to(PROJECT_ROOT).as_posix() + "/"
    return bool(changed) and all(path.startswith(prefix) for path in changed)
