"""Per-stage settings, read from the ``stages`` context in cdk.json and validated before synth."""

import re
from dataclasses import dataclass
from typing import Any

from aws_cdk import RemovalPolicy
from aws_cdk import aws_logs as logs

from cdk.domain_settings import DomainSettings, load_domain

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
# The stage names the stack (Chat-<stage>), the API Gateway stage and log groups: characters all three accept,
# and short enough for a state machine's log group ARN (at most 256 characters).
STAGE_NAME = re.compile(r"[A-Za-z0-9-]{1,64}")
# Where a stage is deployed (absent: the pipeline's own account and Region, or the credentials' for make deploy).
ACCOUNT_ID = re.compile(r"\d{12}")
REGION_NAME = re.compile(r"[a-z]{2}(-[a-z]+)+-\d")
# Who provides API Gateway's account-level CloudWatch Logs role: this stack creates it, or the account
# already has one (set up by another stack or by hand; `make preflight` checks it is there).
LOGS_ROLE_FROM_STACK = "stack"
LOGS_ROLE_FROM_ACCOUNT = "account"
API_GATEWAY_LOGS_ROLES = (LOGS_ROLE_FROM_STACK, LOGS_ROLE_FROM_ACCOUNT)
# Who may connect: users of the stage's Cognito user pool (a Lambda authorizer on $connect), or anyone.
AUTH_COGNITO = "cognito"
AUTH_NONE = "none"
AUTH_MODES = (AUTH_COGNITO, AUTH_NONE)
# Cognito's own bounds (Amazon Cognito developer guide, "User pool app clients": token expiration; "Adding
# user pool password requirements"): ID and access tokens 5 minutes to 1 day, refresh tokens 60 minutes to
# 10 years, passwords of 6 to 99 characters, of which the chat allows 8 or more: the pools rely on length
# rather than on character classes (NIST SP 800-63B), which is why cdk-nag's COG1 is acknowledged.
ID_ACCESS_TOKEN_MINUTES = (5, 24 * 60)
REFRESH_TOKEN_DAYS = (1, 3650)
PASSWORD_LENGTH = (8, 99)
# History: kept 1 day to 10 years (DynamoDB TTL); a page holds 1 to 100 messages, at most 16 KiB each (chat's
# MAX_MESSAGE_BYTES), so a page is at most ~1.6 MB of frames, answered in frames under 32 KB each.
HISTORY_RETENTION_DAYS = (1, 3650)
HISTORY_PAGE = (1, 100)
# Rooms: members per room and rooms per user. docs/capacity.md says why 100 members by default, and why at most 400:
# above about 420 a room fan-out throttled on every wave may outlast Express's 5 minutes.
ROOM_MEMBERS = (2, 400)
ROOMS_PER_USER = (1, 1000)
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


# A deliberately loose check: one @, something on both sides, a dot in the domain, no spaces.
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


@dataclass(frozen=True, kw_only=True)
class MonitoringSettings:
    """``monitoring`` of a stage: whether alarms notify, who, and each alarm's threshold.

    Counts are per 5-minute period; an alarm fires when its metric is above the threshold.
    """

    notify: bool
    alarm_emails: tuple[str, ...] = ()
    handler_errors: int
    task_errors: int
    lambda_throttles: int
    duration_percent_of_timeout: int
    workflow_failures: int
    integration_errors: int
    client_errors: int
    connects: int
    messages: int
    unsent_messages: int
    gone_recipients: int
    failed_deliveries: int
    rejected_inputs: int

    def problems(self) -> list[str]:
        problems = []
        counts = {name: value for name, value in vars(self).items() if name not in ("notify", "alarm_emails")}
        negative = [name for name, value in counts.items() if not isinstance(value, int) or value < 0]
        if negative:
            problems.append(f"monitoring: {', '.join(negative)} must be whole numbers >= 0")
        if not 1 <= self.duration_percent_of_timeout <= 100:
            problems.append("monitoring: duration_percent_of_timeout must be between 1 and 100")
        bad_emails = [email for email in self.alarm_emails if not _EMAIL.fullmatch(str(email))]
        if bad_emails:
            problems.append(f"monitoring: alarm_emails are not e-mail addresses: {', '.join(map(str, bad_emails))}")
        if self.alarm_emails and not self.notify:
            problems.append("monitoring: alarm_emails are set but notify is false (nobody would be told)")
        return problems


@dataclass(frozen=True, kw_only=True)
class PasswordPolicy:
    min_length: int
    require_lowercase: bool
    require_uppercase: bool
    require_digits: bool
    require_symbols: bool


@dataclass(frozen=True, kw_only=True)
class TokenValidity:
    id_minutes: int
    access_minutes: int
    refresh_days: int


@dataclass(frozen=True, kw_only=True)
class CognitoSettings:
    """``cognito`` of a stage with ``auth: cognito``: its user pool and app client."""

    self_sign_up: bool
    retain_pool: bool
    password_policy: PasswordPolicy
    token_validity: TokenValidity

    def problems(self) -> list[str]:
        problems = [
            f"cognito: {name} must be true or false"
            for name in ("self_sign_up", "retain_pool")
            if not isinstance(getattr(self, name), bool)
        ]
        policy = self.password_policy
        if not _whole_number_within(policy.min_length, PASSWORD_LENGTH):
            problems.append(
                f"cognito: password_policy.min_length must be a whole number from {_range(PASSWORD_LENGTH)}"
            )
        problems += [
            f"cognito: password_policy.{name} must be true or false"
            for name in ("require_lowercase", "require_uppercase", "require_digits", "require_symbols")
            if not isinstance(getattr(policy, name), bool)
        ]
        validity = self.token_validity
        problems += [
            f"cognito: token_validity.{name} must be a whole number from {_range(ID_ACCESS_TOKEN_MINUTES)} "
            "(Cognito's bounds for ID and access tokens)"
            for name in ("id_minutes", "access_minutes")
            if not _whole_number_within(getattr(validity, name), ID_ACCESS_TOKEN_MINUTES)
        ]
        if not _whole_number_within(validity.refresh_days, REFRESH_TOKEN_DAYS):
            problems.append(
                f"cognito: token_validity.refresh_days must be a whole number from {_range(REFRESH_TOKEN_DAYS)}"
            )
        return problems


@dataclass(frozen=True, kw_only=True)
class HistorySettings:
    """``history`` of a stage: how long messages are kept (DynamoDB TTL), the most messages a history request
    may ask for, and whether the messages table outlives the stack (``cdk destroy``)."""

    retention_days: int
    max_page: int
    retain_table: bool

    def problems(self) -> list[str]:
        problems = []
        if not _whole_number_within(self.retention_days, HISTORY_RETENTION_DAYS):
            problems.append(f"history: retention_days must be a whole number from {_range(HISTORY_RETENTION_DAYS)}")
        if not _whole_number_within(self.max_page, HISTORY_PAGE):
            problems.append(f"history: max_page must be a whole number from {_range(HISTORY_PAGE)}")
        if not isinstance(self.retain_table, bool):
            problems.append("history: retain_table must be true or false")
        return problems

    @property
    def removal_policy(self) -> RemovalPolicy:
        return RemovalPolicy.RETAIN if self.retain_table is True else RemovalPolicy.DESTROY


@dataclass(frozen=True, kw_only=True)
class RoomSettings:
    """``rooms`` of a stage: the most members a room may have and the most rooms a user may be a member of, each
    enforced when a member is added (an error frame: ``room_full``, ``too_many_rooms``)."""

    max_members: int = 100
    max_rooms_per_user: int = 50

    def problems(self) -> list[str]:
        problems = []
        if not _whole_number_within(self.max_members, ROOM_MEMBERS):
            problems.append(f"rooms: max_members must be a whole number from {_range(ROOM_MEMBERS)}")
        if not _whole_number_within(self.max_rooms_per_user, ROOMS_PER_USER):
            problems.append(f"rooms: max_rooms_per_user must be a whole number from {_range(ROOMS_PER_USER)}")
        return problems


def _whole_number_within(value: Any, bounds: tuple[int, int]) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and bounds[0] <= value <= bounds[1]


def _range(bounds: tuple[int, int]) -> str:
    return f"{bounds[0]} to {bounds[1]}"


@dataclass(frozen=True, kw_only=True)
class StageConfig:
    stage: str
    log_level: str
    log_execution_data: bool
    throttle_rate_limit: float
    throttle_burst_limit: int
    log_retention_days: int
    retain_logs: bool
    monitoring: MonitoringSettings
    history: HistorySettings
    auth: str
    rooms: RoomSettings = RoomSettings()
    cognito: CognitoSettings | None = None
    api_gateway_logs_role: str = LOGS_ROLE_FROM_STACK
    account: str | None = None
    region: str | None = None
    domain: DomainSettings | None = None

    @property
    def has_users(self) -> bool:
        """Clients sign in (a Cognito user pool, an authorizer on $connect): the chat knows who is talking."""
        return self.auth == AUTH_COGNITO

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
        config = StageConfig(
            stage=stage,
            **{
                **settings,
                "monitoring": _monitoring(settings.get("monitoring")),
                "history": _history(settings.get("history")),
                "rooms": _rooms(settings.get("rooms", {})),
                "domain": load_domain(settings.get("domain")),
                "cognito": _cognito(settings["cognito"]) if settings.get("cognito") is not None else None,
            },
        )
    except TypeError as error:
        raise StageConfigError(f"stage {stage!r}: {error}") from None
    _validate(config)
    return config


def _monitoring(settings: Any) -> MonitoringSettings:
    if not isinstance(settings, dict):
        raise TypeError("'monitoring' must be an object of alarm settings")
    try:
        return MonitoringSettings(**{**settings, "alarm_emails": tuple(settings.get("alarm_emails") or ())})
    except TypeError as error:
        raise TypeError(f"monitoring: {error}") from None


def _history(settings: Any) -> HistorySettings:
    if not isinstance(settings, dict):
        raise TypeError("'history' must be an object of history settings (retention_days, max_page, retain_table)")
    try:
        return HistorySettings(**settings)
    except TypeError as error:
        raise TypeError(f"history: {error}") from None


def _rooms(settings: Any) -> RoomSettings:
    if not isinstance(settings, dict):
        raise TypeError("'rooms' must be an object of room settings (max_members, max_rooms_per_user)")
    try:
        return RoomSettings(**settings)
    except TypeError as error:
        raise TypeError(f"rooms: {error}") from None


def _cognito(settings: Any) -> CognitoSettings:
    if not isinstance(settings, dict):
        raise TypeError("'cognito' must be an object of user pool settings")
    try:
        return CognitoSettings(
            **{
                **settings,
                "password_policy": PasswordPolicy(**_object(settings.get("password_policy"), "password_policy")),
                "token_validity": TokenValidity(**_object(settings.get("token_validity"), "token_validity")),
            }
        )
    except TypeError as error:
        raise TypeError(f"cognito: {error}") from None


def _object(value: Any, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TypeError(f"'{name}' must be an object")
    return value


def _validate(config: StageConfig) -> None:
    problems = config.monitoring.problems()
    problems += config.history.problems()
    problems += config.rooms.problems()
    problems += _auth_problems(config)
    if not STAGE_NAME.fullmatch(config.stage):
        problems.append("the stage name must be 1 to 64 characters of A-Z, a-z, 0-9 and '-'")
    if config.log_level not in LOG_LEVELS:
        problems.append(f"log_level must be one of {', '.join(LOG_LEVELS)}")
    if config.log_retention_days not in _RETENTION:
        problems.append(f"log_retention_days must be one of {sorted(_RETENTION)}")
    if config.throttle_rate_limit <= 0 or config.throttle_burst_limit <= 0:
        problems.append("throttle_rate_limit and throttle_burst_limit must be positive")
    if config.api_gateway_logs_role not in API_GATEWAY_LOGS_ROLES:
        problems.append(
            f"api_gateway_logs_role must be {LOGS_ROLE_FROM_STACK!r} (this stack creates API Gateway's CloudWatch "
            f"Logs role) or {LOGS_ROLE_FROM_ACCOUNT!r} (the account already has one)"
        )
    if config.account is not None and not (isinstance(config.account, str) and ACCOUNT_ID.fullmatch(config.account)):
        problems.append("account must be an AWS account id: 12 digits, as a string")
    if config.region is not None and not REGION_NAME.fullmatch(str(config.region)):
        problems.append("region must be an AWS Region name, like eu-west-1")
    if config.domain is not None:
        problems += config.domain.problems(account=config.account, region=config.region)
    if problems:
        raise StageConfigError(f"stage {config.stage!r}: " + "; ".join(problems))


def _auth_problems(config: StageConfig) -> list[str]:
    if config.auth not in AUTH_MODES:
        return [
            f"auth must be {AUTH_COGNITO!r} (clients sign in with the stage's Cognito user pool) or {AUTH_NONE!r} "
            "(anyone may connect)"
        ]
    if config.auth == AUTH_COGNITO and config.cognito is None:
        return ["auth is 'cognito' but the stage has no 'cognito' settings (its user pool and app client)"]
    if config.auth == AUTH_NONE and config.cognito is not None:
        return ["'cognito' settings are given but auth is 'none': remove them, or set auth to 'cognito'"]
    return config.cognito.problems() if config.cognito else []
