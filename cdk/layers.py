"""Third-party packages for the arm64 Lambdas, built without Docker: CDK's local bundling (``ILocalBundling``) runs
``pip install`` for the Lambda's platform and Python (wheels only), and the result becomes a layer.

What pip installs is cached per set of pins, outside the project (``$XDG_CACHE_HOME/serverless-chat``, else
``~/.cache/serverless-chat``): every synthesis after the first, in this checkout or any copy of it (the tests
synthesize in temporary directories and project copies), copies from the cache and needs no network. The pins
are pyproject.toml's (cdk/pins.py): the local runtime's workers run the same versions from .venv (x86 wheels).
A cache entry appears whole or not at all (installed beside it, then renamed), so parallel synthesis is safe.
"""

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from cdk.paths import PROJECT_ROOT
from cdk.pins import pinned_requirement

# The wheels of the functions' platform: Graviton (arm64) with glibc 2.17 or newer, as Lambda's runtimes have.
PLATFORM = "manylinux2014_aarch64"
CACHE_DIR = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "serverless-chat" / "lambda-layers"
# PyJWT with its RS256 backend, and what that needs, each pinned once in pyproject.toml.
JWT_REQUIREMENTS = tuple(pinned_requirement(name) for name in ("pyjwt", "cryptography", "cffi", "pycparser"))

# (command) -> None; raises on failure. The one thing the tests replace to stay offline.
Runner = Callable[[Sequence[str]], None]


class LayerBuildError(RuntimeError):
    """pip could not install a layer's packages (the first build needs PyPI)."""


def run_pip(command: Sequence[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise LayerBuildError(result.stderr.strip().splitlines()[-1] if result.stderr.strip() else "pip failed")


@jsii.implements(ILocalBundling)
class PipInstall:
    """Installs ``requirements`` for ``python_version`` on PLATFORM, into a layer's ``python/`` directory."""

    def __init__(
        self,
        *,
        requirements: Sequence[str],
        python_version: str,
        cache_dir: Path = CACHE_DIR,
        run: Runner = run_pip,
    ) -> None:
        self.requirements = tuple(requirements)
        self.python_version = python_version
        self._cache_dir = cache_dir
        self._run = run

    @property
    def key(self) -> str:
        """Names the installed set: the same pins, Python and platform give the same key (and asset hash)."""
        fingerprint = "\n".join([PLATFORM, self.python_version, *sorted(self.requirements)])
        return hashlib.sha256(fingerprint.encode()).hexdigest()[:24]

    def try_bundle(self, output_dir: str, *, image: DockerImage, **_options) -> bool:
        """CDK's local bundling: the layer's content into ``output_dir``; True, so Docker is never tried."""
        shutil.copytree(self.installed(), Path(output_dir) / "python", dirs_exist_ok=True)
        return True

    def installed(self) -> Path:
        """The cache entry of these pins, installed first if it is not there yet."""
        entry = self._cache_dir / self.key
        if entry.is_dir():
            return entry
        self._cache_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{self.key}-", dir=self._cache_dir))
        try:
            self._run(self.pip_command(staging))
            staging.rename(entry)
        except LayerBuildError as error:
            raise LayerBuildError(
                f"could not install {', '.join(self.requirements)} for the Lambda layer ({PLATFORM}, Python "
                f"{self.python_version}): {error}. The first build needs PyPI; later ones use {self._cache_dir}"
            ) from None
        except OSError:  # another synthesis installed the same entry first: theirs is as good
            if not entry.is_dir():
                raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return entry

    def pip_command(self, target: Path) -> list[str]:
        return [
            *(sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile"),
            *("--platform", PLATFORM, "--implementation", "cp", "--python-version", self.python_version),
            *("--only-binary=:all:", "--target", str(target)),
            *self.requirements,
        ]


def pip_layer(
    scope: Construct,
    construct_id: str,
    *,
    bundler: PipInstall,
    runtime: lambda_.Runtime,
    architecture: lambda_.Architecture,
    description: str,
) -> lambda_.LayerVersion:
    return lambda_.LayerVersion(
        scope,
        construct_id,
        description=description,
        compatible_runtimes=[runtime],
        compatible_architectures=[architecture],
        code=lambda_.Code.from_asset(
            str(PROJECT_ROOT / "cdk"),  # not read: the asset is what the bundler makes, named by its key
            asset_hash_type=AssetHashType.CUSTOM,
            asset_hash=bundler.key,
            bundling=BundlingOptions(image=DockerImage.from_registry("docker-is-never-used"), local=bundler),
        ),
    )
