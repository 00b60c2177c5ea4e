"""Synthesizing the app as ``npx cdk synth`` does, in one place: for the local runtime (``python -m cdk.synthesis``,
into cdk.out), the preflight and the infrastructure tests.

The CDK CLI gives the app cdk.json's context (its stages and feature flags) with each ``-c key=value`` on top, turns
on path and asset metadata (construct paths and asset directories in the template), and tells it the account and
region of the credentials in CDK_DEFAULT_ACCOUNT/REGION (none here: the stack is environment-agnostic). An
unacknowledged cdk-nag finding makes ``app.synth()`` raise ``RuntimeError("ValidationFailed: ...")`` after the
templates and ``validation-report.json`` are written; it is kept as data, so that a caller can read both.
"""

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk

from cdk.app import build_requested
from cdk.environments import LOCAL_CONTEXT
from cdk.paths import CDK_JSON
from cdk.pipeline.source import PipelineConfigError
from cdk.stage_config import StageConfigError

# What the CDK CLI adds to the context (unless told --no-path-metadata / --no-asset-metadata).
CLI_CONTEXT = {"aws:cdk:enable-path-metadata": True, "aws:cdk:enable-asset-metadata": True}
# The app runs inside the program that reads its result: a failed validation's report goes into the error
# (kept as data) instead of being printed on stderr by the CDK's Node process as well.
IN_MEMORY_APP = {"@aws-cdk/core:appMode": "inmemory"}
ENVIRONMENT_VARIABLES = ("CDK_DEFAULT_ACCOUNT", "CDK_DEFAULT_REGION")


@dataclass(frozen=True)
class Synthesis:
    """A cloud assembly, and the cdk-nag validation error that ended its synthesis (None: it passed)."""

    outdir: Path
    validation_error: str | None

    def template_path(self, stack_name: str) -> Path:
        return self.outdir / f"{stack_name}.template.json"

    def template(self, stack_name: str) -> dict[str, Any]:
        return _read_json(self.template_path(stack_name))

    @property
    def manifest(self) -> dict[str, Any]:
        return _read_json(self.outdir / "manifest.json")

    @property
    def validation_report(self) -> dict[str, Any]:
        return _read_json(self.outdir / "validation-report.json")

    def findings(self) -> list[tuple[str, str]]:
        """(rule, construct path) of every unacknowledged finding in the validation report."""
        return [(finding.rule, finding.construct_path) for finding in self.violations()]

    def violations(self) -> list["Finding"]:
        """Every unacknowledged finding in the validation report (cdk-nag's, CloudFormation Validate's)."""
        return [
            Finding(plugin["pluginName"], violation["ruleName"], construct["constructPath"], violation["description"])
            for plugin in self.validation_report["pluginReports"]
            for violation in plugin["violations"]
            for construct in violation["violatingConstructs"]
        ]


@dataclass(frozen=True)
class Finding:
    plugin: str
    rule: str
    construct_path: str
    description: str

    @property
    def line(self) -> str:
        return f"{self.construct_path}: {self.description} ({self.plugin} {self.rule})"


class UnreadableCdkJson(ValueError):
    """cdk.json is not JSON with a context object."""


def cdk_json_context() -> dict[str, Any]:
    """cdk.json's context: its stages, pipeline source and feature flags."""
    try:
        context = _read_json(CDK_JSON)["context"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise UnreadableCdkJson(f"cannot be read: {type(error).__name__}: {error}") from None
    if not isinstance(context, dict):
        raise UnreadableCdkJson("cannot be read: its context is not an object")
    return context


def synthesize_app(
    outdir: Path,
    *,
    context: Mapping[str, Any] | None = None,
    account: str | None = None,
    region: str | None = None,
    build: Callable[[aws_cdk.App], Any] = build_requested,
) -> Synthesis:
    """The app as ``npx cdk synth -c key=value ...`` builds it, with ``context`` as the ``-c`` values, written to
    ``outdir``. ``account`` and ``region`` are what the CLI would find in the credentials."""
    with cdk_environment(account, region):
        app = aws_cdk.App(
            context={**cdk_json_context(), **CLI_CONTEXT, **IN_MEMORY_APP, **(context or {})}, outdir=str(outdir)
        )
        build(app)
        return synthesize(app, outdir)


def synthesize_stage(
    stage: str, outdir: Path, *, context: Mapping[str, Any] | None = None, **options: Any
) -> Synthesis:
    """Stack Chat-<stage> as ``npx cdk synth -c stage=<stage>`` builds it (``context``: more ``-c`` values; options:
    as synthesize_app's)."""
    return synthesize_app(outdir, context={"stage": stage, **(context or {})}, **options)


def synthesize(app: aws_cdk.App, outdir: Path) -> Synthesis:
    """``app.synth()``, a failed validation (a cdk-nag finding) turned into data instead of an exception."""
    try:
        app.synth()
    except RuntimeError as error:
        if "ValidationFailed" not in str(error):
            raise
        return Synthesis(outdir=outdir, validation_error=str(error))
    return Synthesis(outdir=outdir, validation_error=None)


@contextlib.contextmanager
def cdk_environment(account: str | None, region: str | None) -> Iterator[None]:
    """CDK_DEFAULT_ACCOUNT/REGION as the CDK CLI would set them (None: unset, an environment-agnostic stack)."""
    saved = {name: os.environ.get(name) for name in ENVIRONMENT_VARIABLES}
    try:
        _set_environment(dict(zip(ENVIRONMENT_VARIABLES, (account, region), strict=True)))
        yield
    finally:
        _set_environment(saved)


def _set_environment(values: Mapping[str, str | None]) -> None:
    for name, value in values.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def _read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m cdk.synthesis",
        description="Synthesizes one stage as `cdk synth` does, as the local runtime serves it: environment-agnostic, "
        "without its domain.",
    )
    parser.add_argument("--stage", required=True)
    parser.add_argument("--outdir", required=True, type=Path)
    args = parser.parse_args(argv)
    try:
        synthesis = synthesize_stage(args.stage, args.outdir, context={LOCAL_CONTEXT: "true"})
    except (UnreadableCdkJson, StageConfigError, PipelineConfigError) as error:
        print(f"cdk.json: {error}", file=sys.stderr)
        return 1
    if synthesis.validation_error is not None:  # one line per finding, as `cdk synth` lists them
        print(
            "\n".join(finding.line for finding in synthesis.violations()) or synthesis.validation_error, file=sys.stderr
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
