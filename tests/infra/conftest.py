"""Synthesizes the CDK app once per stage per test session, as ``npx cdk synth -c stage=<stage>`` does
(cdk/synthesis.py: an unacknowledged cdk-nag finding is kept as ``validation_error``, so the nag tests can
assert on it and every other test can still read the template)."""

import copy
import functools
from collections.abc import Callable
from typing import Any

import pytest
from infra_support import STAGES

from cdk.names import stack_name_for
from cdk.synthesis import Synthesis, synthesize_stage


@pytest.fixture(scope="session")
def synth_stage(tmp_path_factory) -> Callable[..., Synthesis]:
    """``synth_stage("prod")`` builds the app as ``cdk synth -c stage=prod`` does; each variant only once."""

    @functools.cache
    def run(stage: str, account: str | None = None, region: str | None = None) -> Synthesis:
        outdir = tmp_path_factory.mktemp(f"cdk-{stage}-{account or 'any'}")
        return synthesize_stage(stage, outdir, account=account, region=region)

    return run


@pytest.fixture(scope="session")
def templates(synth_stage) -> Callable[[str], dict[str, Any]]:
    """The synthesized CloudFormation template of stack Chat-<stage>."""

    @functools.cache
    def load(stage: str) -> dict[str, Any]:
        return synth_stage(stage).template(stack_name_for(stage))

    return lambda stage: copy.deepcopy(load(stage))


@pytest.fixture(params=STAGES)
def stage(request) -> str:
    """Each stage of cdk.json in turn."""
    return request.param


@pytest.fixture
def template(templates, stage) -> dict[str, Any]:
    """The synthesized template of ``stage``."""
    return templates(stage)
