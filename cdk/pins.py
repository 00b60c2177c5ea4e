"""The dependency versions pyproject.toml pins: read by the stack wherever it deploys one of them, so each
version is stated once (the Powertools layer matches the Powertools the tests and `make dev` run)."""

import re
import tomllib
from pathlib import Path

from cdk.paths import PROJECT_ROOT

PYPROJECT = PROJECT_ROOT / "pyproject.toml"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_PIN = re.compile(r"(?P<name>[A-Za-z0-9][A-Za-z0-9_.-]*)(?:\[[^\]]*\])?==(?P<version>[A-Za-z0-9_.+!-]+)")


class PinError(ValueError):
    """pyproject.toml does not pin the dependency to exactly one version."""


def pinned_requirement(distribution: str, *, pyproject: Path = PYPROJECT) -> str:
    """The requirement pinning ``distribution`` (``name[extras]==version``), from any dependency list."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    extras = project.get("optional-dependencies", {}).values()
    requirements = [*project.get("dependencies", []), *(requirement for extra in extras for requirement in extra)]
    found = [r for r in requirements if _normalized(_NAME.match(r.strip()).group(0)) == _normalized(distribution)]
    if len(found) != 1:
        raise PinError(f"{pyproject.name} must list {distribution} once; it lists it {len(found)} times")
    (requirement,) = found
    if not _PIN.fullmatch(requirement.replace(" ", "")):
        raise PinError(f"{pyproject.name} must pin {distribution} to one version (name==X.Y.Z), not {requirement!r}")
    return requirement.replace(" ", "")


def pinned_version(distribution: str, *, pyproject: Path = PYPROJECT) -> str:
    return _PIN.fullmatch(pinned_requirement(distribution, pyproject=pyproject))["version"]


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()
