"""Where each stage is deployed, and what one account and Region can hold only once.

A stage with ``account``/``region`` in cdk.json is deployed there; without them, to the pipeline's own account and
Region (``make pipeline``), or to the credentials' (``make deploy``), as before stages could have their own.

API Gateway's CloudWatch Logs role is a setting of the account and Region (one ``AWS::ApiGateway::Account`` each,
CloudFormation reference), so among the stages that share an environment one creates it (``api_gateway_logs_role``
``"stack"``) and the others rely on it (``"account"``). Stages in accounts of their own each create their own.
"""

import dataclasses
from collections.abc import Sequence

from aws_cdk import Environment

from cdk.stage_config import LOGS_ROLE_FROM_ACCOUNT, LOGS_ROLE_FROM_STACK, StageConfig

PIPELINES = "(the pipeline's)"  # a stage without account or region: the pipeline's
# `-c local=true`: the stage as the local runtime serves it (python -m cdk.synthesis, which `make dev` runs).
LOCAL_CONTEXT = "local"


def stage_environment(config: StageConfig, *, default: Environment | None) -> Environment:
    """The stage's own account and Region where cdk.json names them, ``default``'s otherwise."""
    return Environment(
        account=config.account or (default.account if default else None),
        region=config.region or (default.region if default else None),
    )


def served_locally(config: StageConfig) -> StageConfig:
    """The stage as the local runtime synthesizes it: environment-agnostic, so the runtime names its own account and
    Region, and without the domain, which needs an account and Region and which loopback has no use for."""
    return dataclasses.replace(config, account=None, region=None, domain=None)


def own_accounts(configs: Sequence[StageConfig], *, pipeline_account: str | None) -> list[str]:
    """The stages deployed to an account other than the pipeline's."""
    return [config.stage for config in configs if config.account and config.account != pipeline_account]


def logging_role_problems(promotion: Sequence[StageConfig]) -> list[str]:
    """What is wrong with who creates API Gateway's logging role, for stages deployed in this order: two creating
    it in one environment (the last deployed would take the setting over), or one relying on it before the stage
    that creates it has been deployed (a fresh account refuses its access-logged stage)."""
    problems = []
    by_environment: dict[tuple[str | None, str | None], list[StageConfig]] = {}
    for config in promotion:
        by_environment.setdefault((config.account, config.region), []).append(config)
    for (account, region), configs in by_environment.items():
        where = f"account {account or PIPELINES}, Region {region or PIPELINES}"
        creators = [config.stage for config in configs if config.api_gateway_logs_role == LOGS_ROLE_FROM_STACK]
        if len(creators) > 1:
            problems.append(
                f"stages {', '.join(creators)} all create API Gateway's CloudWatch Logs role in {where}, which has "
                f"one such setting: keep {LOGS_ROLE_FROM_STACK!r} for {creators[0]} and set "
                f'"api_gateway_logs_role": {LOGS_ROLE_FROM_ACCOUNT!r} for the others'
            )
        if creators:
            first_creator = next(index for index, config in enumerate(configs) if config.stage == creators[0])
            early = [config.stage for config in configs[:first_creator]]
            if early:
                problems.append(
                    f"stages {', '.join(early)} rely on API Gateway's CloudWatch Logs role in {where} but are "
                    f"deployed before {creators[0]}, which creates it: let the first of them create it instead"
                )
    return problems
