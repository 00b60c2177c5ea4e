"""Synthesizes the CDK app in-process, once per stage per test session.

cdk-nag v3 runs as a CDK validation plugin (``Validations.of(app).add_plugins(AwsSolutionsChecks(app))``):
an unacknowledged finding makes ``app.synth()`` raise ``RuntimeError("ValidationFailed: ...")`` after the
templates and ``validation-report.json`` have been written to the output directory. The helper below
keeps that error and the report, so the nag tests can assert on them and every other test can still
read the template.
"""

import copy
import functools
from collections.abc import Callable
from typing import Any

import aws_cdk
import pytest
from infra_support import CDK_JSON, STAGES, Synthesis, cdk_environment, synthesize


@pytest.fixture(scope="session")
def synth_stage(tmp_path_factory) -> Callable[..., Synthesis]:
    """``synth_stage("prod")`` builds the app as ``cdk synth -c stage=prod`` does; each variant only once."""
    from cdk.app import build

    @functools.cache
    def run(stage: str, account: str | None = None, region: str | None = None) -> Synthesis:
        outdir = tmp_path_factory.mktemp(f"cdk-{stage}-{account or 'any'}")
        with cdk_environment(account, region):
            app = aws_cdk.App(context={**CDK_JSON["context"], "stage": stage}, outdir=str(outdir))
            build(app)
            return synthesize(app, outdir)

    return run


@pytest.fixture(scope="session")
def templates(synth_stage) -> Callable[[str], dict[str, Any]]:
    """The synthesized CloudFormation template of stack Chat-<stage>."""

    @functools.cache
    def load(stage: str) -> dict[str, Any]:
        return synth_stage(stage).template(f"Chat-{stage}")

    return lambda stage: copy.deepcopy(load(stage))


@pytest.fixture(params=STAGES)
def stage(request) -> str:
    """Each stage of cdk.json in turn."""
    return request.param


@pytest.fixture
def template(templates, stage) -> dict[str, Any]:
    """The synthesized template of ``stage``."""
    return templates(stage)
