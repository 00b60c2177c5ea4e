"""Per-stage settings, read from the ``stages`` context in cdk.json and validated before synth."""

import re
from dataclasses import dataclass
from typing import Any

from aws_cdk import RemovalPolicy
from aws_cdk import aws_logs as logs

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
# The stage names the stack (Chat-<stage>), the API Gateway stage and log groups: characters all three accept,
# and short enough for a state machine's log group ARN (at most 256 characters).
STAGE_NAME = re.compile(r"[A-Za-z0-9-]{1,64}")
# Who provides API Gateway's account-level CloudWatch Logs role: this stack creates it, or the account
# already has one (set up by another stack or by hand; `make preflight` checks it is there).
LOGS_ROLE_FROM_STACK = "stack"
LOGS_ROLE_FROM_ACCOUNT = "account"
API_GATEWAY_LOGS_ROLES = (LOGS_ROLE_FROM_STACK, LOGS_ROLE_FROM_ACCOUNT)
_RETENTION = {
    1: logs.RetentionDays.ONE_DAY,
    3: logs.RetentionDays.THREE_DAYS,
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    90: logs.RetentionDays.THREE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
}


class StageConfigError(ValueError):
    """cdk.json does not describe the requested stage correctly."""


@dataclass(frozen=True, kw_only=True)
class StageConfig:
    stage: str
    log_level: str
    log_execution_data: bool
    throttle_rate_limit: float
    throttle_burst_limit: int
    log_retention_days: int
    retain_logs: bool
    callback_url_override: str | None = None
    api_gateway_logs_role: str = LOGS_ROLE_FROM_STACK

    @property
    def creates_api_gateway_logs_role(self) -> bool:
        return self.api_gateway_logs_role == LOGS_ROLE_FROM_STACK

    @property
    def log_retention(self) -> logs.RetentionDays:
        return _RETENTION[self.log_retention_days]

    @property
    def log_removal_policy(self) -> RemovalPolicy:
        return RemovalPolicy.RETAIN if self.retain_logs else RemovalPolicy.DESTROY


def load_stage_config(stages: Any, stage: str) -> StageConfig:
    if not isinstance(stages, dict) or not stages:
        raise StageConfigError("cdk.json context must define 'stages'")
    if stage not in stages:
        raise StageConfigError(f"unknown stage {stage!r}; cdk.json defines: {', '.join(sorted(stages))}")
    settings = stages[stage]
    try:
        config = StageConfig(stage=stage, **settings)
    except TypeError as error:
        raise StageConfigError(f"stage {stage!r}: {error}") from None
    _validate(config)
    return config


def _validate(config: StageConfig) -> None:
    problems = []
    if not STAGE_NAME.fullmatch(config.stage):
        problems.append("the stage name must be 1 to 64 characters of A-Z, a-z, 0-9 and '-'")
    if config.log_level not in LOG_LEVELS:
        problems.append(f"log_level must be one of {', '.join(LOG_LEVELS)}")
    if config.log_retention_days not in _RETENTION:
        problems.append(f"log_retention_days must be one of {sorted(_RETENTION)}")
    if config.throttle_rate_limit <= 0 or config.throttle_burst_limit <= 0:
        problems.append("throttle_rate_limit and throttle_burst_limit must be positive")
    if config.callback_url_override and not config.callback_url_override.startswith("https://"):
        problems.append("callback_url_override must be an https:// URL")
    if config.api_gateway_logs_role not in API_GATEWAY_LOGS_ROLES:
        problems.append(
            f"api_gateway_logs_role must be {LOGS_ROLE_FROM_STACK!r} (this stack creates API Gateway's CloudWatch "
            f"Logs role) or {LOGS_ROLE_FROM_ACCOUNT!r} (the account already has one)"
        )
    if problems:
        raise StageConfigError(f"stage {config.stage!r}: " + "; ".join(problems))
