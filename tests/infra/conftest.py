"""Synthesizes the CDK app once per stage per test run (one synthesis for all parallel workers), as
``npx cdk synth -c stage=<stage>`` does (cdk/synthesis.py: an unacknowledged cdk-nag finding is kept as
``validation_error``, so the nag tests can assert on it and every other test can still read the template)."""

import copy
import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from infra_support import STAGES

from cdk.names import stack_name_for
from cdk.synthesis import Synthesis, synthesize_stage

VALIDATION_ERROR = "validation-error.json"  # beside the cloud assembly: the error its synthesis ended with, or null


@pytest.fixture(scope="session")
def shared_synthesis(once_per_run) -> Callable[[str, Callable[[Path], Synthesis]], Synthesis]:
    """``shared_synthesis(name, synthesize)``: ``synthesize(outdir)`` run once per test run, whichever worker
    asks first; the others read its cloud assembly and the validation error it ended with."""

    def shared(name: str, synthesize: Callable[[Path], Synthesis]) -> Synthesis:
        def build(outdir: Path) -> None:
            error = synthesize(outdir).validation_error
            (outdir / VALIDATION_ERROR).write_text(json.dumps(error), encoding="utf-8")

        outdir = once_per_run(name, build)
        return Synthesis(outdir, json.loads((outdir / VALIDATION_ERROR).read_text(encoding="utf-8")))

    return shared


@pytest.fixture(scope="session")
def synth_stage(shared_synthesis) -> Callable[..., Synthesis]:
    """``synth_stage("prod")`` builds the app as ``cdk synth -c stage=prod`` does; each variant only once."""

    @functools.cache
    def run(stage: str, account: str | None = None, region: str | None = None) -> Synthesis:
        return shared_synthesis(
            f"cdk-{stage}-{account or 'any'}-{region or 'any'}",
            lambda outdir: synthesize_stage(stage, outdir, account=account, region=region),
        )

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
