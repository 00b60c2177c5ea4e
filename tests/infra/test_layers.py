"""The authorizer's layer is built without Docker (CDK local bundling running pip for arm64 and Python 3.13) from
pyproject.toml's pins, and cached: after the first build every synthesis copies from the cache, offline.

pip itself is not run here (it needs PyPI): a stand-in writes what pip would, so that these tests stay offline;
the infrastructure tests' real syntheses build the real layer."""

import importlib.metadata
import threading
from pathlib import Path

import aws_cdk
import pytest

from cdk.layers import JWT_REQUIREMENTS, PLATFORM, LayerBuildError, PipInstall
from cdk.pins import pinned_version


class FakePip:
    """Writes a package where pip would (``--target``); counts its runs; can be told to fail."""

    def __init__(self, *, fail: str | None = None):
        self.commands: list[list[str]] = []
        self.fail = fail

    def __call__(self, command) -> None:
        self.commands.append(list(command))
        if self.fail:
            raise LayerBuildError(self.fail)
        target = Path(command[command.index("--target") + 1])
        (target / "jwt").mkdir(parents=True)
        (target / "jwt" / "__init__.py").write_text("__version__ = 'x'\n")


def bundler(tmp_path: Path, pip: FakePip, requirements=JWT_REQUIREMENTS) -> PipInstall:
    return PipInstall(requirements=requirements, python_version="3.13", cache_dir=tmp_path / "cache", run=pip)


def bundle(installer: PipInstall, output: Path) -> bool:
    return installer.try_bundle(str(output), image=aws_cdk.DockerImage.from_registry("never-pulled"))


def test_the_layer_is_pips_install_for_lambdas_platform_from_the_pins(tmp_path):
    pip = FakePip()

    assert bundle(bundler(tmp_path, pip), tmp_path / "out") is True  # True: Docker is never tried

    (command,) = pip.commands
    assert command[command.index("--platform") + 1] == PLATFORM == "manylinux2014_aarch64"
    assert command[command.index("--python-version") + 1] == "3.13"
    assert "--only-binary=:all:" in command and command[-len(JWT_REQUIREMENTS) :] == list(JWT_REQUIREMENTS)
    assert (tmp_path / "out" / "python" / "jwt" / "__init__.py").is_file()  # a layer's Python packages


def test_later_builds_copy_from_the_cache_without_pip(tmp_path):
    pip = FakePip()
    first, second = bundler(tmp_path, pip), bundler(tmp_path, pip)  # e.g. two syntheses, two processes

    bundle(first, tmp_path / "one")
    bundle(second, tmp_path / "two")

    assert len(pip.commands) == 1
    assert (tmp_path / "two" / "python" / "jwt" / "__init__.py").is_file()


def test_parallel_first_builds_leave_one_whole_cache_entry(tmp_path):
    """As test workers synthesizing at once do (each in a process of its own: threads here, around the pure
    Python part; jsii itself is not to be called from several threads)."""
    pip = FakePip()
    entries: list[Path] = []
    threads = [threading.Thread(target=lambda: entries.append(bundler(tmp_path, pip).installed())) for _ in range(4)]

    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert {entry.name for entry in entries} == {bundler(tmp_path, pip).key}
    assert [path.name for path in (tmp_path / "cache").iterdir()] == [bundler(tmp_path, pip).key]  # no staging left
    assert (entries[0] / "jwt" / "__init__.py").is_file()


def test_a_failed_install_says_what_and_leaves_no_cache_entry(tmp_path):
    pip = FakePip(fail="No matching distribution found for pyjwt==2.15.1")

    with pytest.raises(LayerBuildError) as raised:
        bundle(bundler(tmp_path, pip), tmp_path / "out")

    message = str(raised.value)
    assert "No matching distribution" in message and "needs PyPI" in message and PLATFORM in message
    assert list((tmp_path / "cache").iterdir()) == []


def test_other_pins_are_another_cache_entry(tmp_path):
    pip = FakePip()

    one = bundler(tmp_path, pip, requirements=("pyjwt[crypto]==2.15.1",))
    other = bundler(tmp_path, pip, requirements=("pyjwt[crypto]==2.15.0",))

    assert one.key != other.key


def test_the_layer_carries_the_versions_the_tests_and_the_local_runtime_run():
    """The pins are pyproject.toml's, and .venv has exactly those versions (the local runtime's workers import
    PyJWT from there)."""
    for requirement in JWT_REQUIREMENTS:
        name = requirement.split("[")[0].split("==")[0]
        assert requirement.endswith(f"=={pinned_version(name)}")
        assert importlib.metadata.version(name) == pinned_version(name), name
