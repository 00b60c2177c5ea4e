"""README's Layout section names every module of the project, so that a newcomer finds each one there: a module
added without a word in Layout fails here."""

import re

import pytest

from cdk.paths import PROJECT_ROOT

README = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
LAYOUT = README.split("## Layout", 1)[1].split("\n## ", 1)[0]
NAMED = set(re.findall(r"[A-Za-z_][\w-]*", LAYOUT))
SOURCES = ("cdk", "lambdas", "local", "bench", "smoke", "web")


def modules() -> list[str]:
    found = []
    for directory in SOURCES:
        for path in sorted((PROJECT_ROOT / directory).rglob("*")):
            if path.suffix in (".py", ".js") and "__pycache__" not in path.parts and path.stem != "__init__":
                found.append(path.relative_to(PROJECT_ROOT).as_posix())
    return found


@pytest.mark.parametrize("module", modules())
def test_layout_names_the_module(module):
    stem = module.rsplit("/", 1)[-1].rsplit(".", 1)[0]

    assert stem in NAMED, f"README's Layout section does not name {module}"
