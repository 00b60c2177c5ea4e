"""cdk.json's per-stage settings are validated before synth, with errors that say what to fix."""

import pytest
from aws_cdk import RemovalPolicy
from aws_cdk import aws_logs as logs
from infra_support import CONTEXT, STAGES

from cdk.stage_config import AUTH_NONE, StageConfigError, load_stage_config

GOOD = {
    "log_level": "INFO",
    "log_execution_data": False,
    "throttle_rate_limit": 10,
    "throttle_burst_limit": 20,
    "log_retention_days": 7,
    "retain_logs": False,
    "auth": "none",
    "history": {"retention_days": 30, "max_page": 50, "retain_table": False},
    "monitoring": {
        "notify": False,
        "alarm_emails": [],
        "handler_errors": 5,
        "task_errors": 50,
        "lambda_throttles": 0,
        "duration_percent_of_timeout": 80,
        "workflow_failures": 0,
        "integration_errors": 10,
        "client_errors": 100,
        "connects": 1000,
        "messages": 10000,
        "unsent_messages": 0,
        "gone_recipients": 100,
        "failed_deliveries": 5,
        "rejected_inputs": 100,
    },
}


def stages_with(**changes) -> dict:
    return {"dev": {**GOOD, **changes}, "prod": dict(GOOD)}


@pytest.mark.parametrize("stage", STAGES)
def test_every_stage_in_cdk_json_loads(stage):
    config = load_stage_config(CONTEXT["stages"], stage)

    assert config.stage == stage


def test_retention_days_and_retain_logs_become_the_log_groups_settings():
    kept = load_stage_config(stages_with(log_retention_days=365, retain_logs=True), "dev")
    discarded = load_stage_config(stages_with(log_retention_days=7, retain_logs=False), "dev")

    assert kept.log_retention == logs.RetentionDays.ONE_YEAR
    assert kept.log_removal_policy == RemovalPolicy.RETAIN
    assert discarded.log_retention == logs.RetentionDays.ONE_WEEK
    assert discarded.log_removal_policy == RemovalPolicy.DESTROY


def test_unknown_stage_lists_the_known_ones():
    with pytest.raises(StageConfigError) as raised:
        load_stage_config(stages_with(), "qa")

    assert "'qa'" in str(raised.value)
    assert "dev, prod" in str(raised.value)


@pytest.mark.parametrize("stages", [None, {}, ["dev"]])
def test_missing_stages_context(stages):
    with pytest.raises(StageConfigError, match="'stages'"):
        load_stage_config(stages, "dev")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"account": "1234"}, "account must be an AWS account id: 12 digits, as a string"),
        ({"account": 111122223333}, "account must be an AWS account id"),
        ({"region": "Ireland"}, "region must be an AWS Region name, like eu-west-1"),
        ({"log_level": "VERBOSE"}, "log_level must be one of DEBUG, INFO, WARNING, ERROR"),
        ({"log_level": "info"}, "log_level must be one of"),
        ({"log_retention_days": 10}, "log_retention_days must be one of"),
        ({"throttle_rate_limit": 0}, "must be positive"),
        ({"throttle_burst_limit": -1}, "must be positive"),
    ],
)
def test_bad_settings_are_named(changes, message):
    with pytest.raises(StageConfigError, match="stage 'dev'") as raised:
        load_stage_config(stages_with(**changes), "dev")

    assert message in str(raised.value)


def test_every_problem_is_reported_at_once():
    with pytest.raises(StageConfigError) as raised:
        load_stage_config(stages_with(log_level="LOUD", log_retention_days=2), "dev")

    assert "log_level" in str(raised.value) and "log_retention_days" in str(raised.value)


@pytest.mark.parametrize("settings", [{**GOOD, "color": "blue"}, {k: v for k, v in GOOD.items() if k != "log_level"}])
def test_unknown_or_missing_keys_are_config_errors(settings):
    with pytest.raises(StageConfigError, match="stage 'dev'"):
        load_stage_config({"dev": settings}, "dev")


def test_the_callback_url_is_no_setting_any_more():
    """@connections is always the API's execute-api endpoint, also behind a domain (README: A domain of its own)."""
    with pytest.raises(StageConfigError, match="callback_url_override"):
        load_stage_config(stages_with(callback_url_override=None), "dev")


ZONE = {"name": "chat.example.com", "hosted_zone_id": "Z0123456789ABC", "hosted_zone_name": "example.com"}
CERTIFICATES = {
    "name": "chat.example.com",
    "certificate_arn": "arn:aws:acm:eu-west-1:111122223333:certificate/0a1b2c3d-1111-2222-3333-444455556666",
    "web_certificate_arn": "arn:aws:acm:us-east-1:111122223333:certificate/0a1b2c3d-1111-2222-3333-777788889999",
}
PLACE = {"account": "111122223333", "region": "eu-west-1"}


@pytest.mark.parametrize("settings", [{**PLACE, "domain": ZONE}, {"domain": CERTIFICATES}, {**PLACE, "domain": None}])
def test_a_domain_in_a_hosted_zone_or_with_its_certificates_loads(settings):
    config = load_stage_config(stages_with(**settings), "dev")

    if settings["domain"]:
        assert config.domain.name == "chat.example.com" and config.domain.web_name == "web.chat.example.com"
        assert config.domain.in_hosted_zone == ("hosted_zone_id" in settings["domain"])
    else:
        assert config.domain is None


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({**PLACE, "domain": {**ZONE, "name": "Chat.Example.com"}}, "domain.name must be a lower-case host name"),
        ({**PLACE, "domain": {**ZONE, "name": "chat.example.org"}}, "not in the hosted zone example.com"),
        ({**PLACE, "domain": {**ZONE, "hosted_zone_id": "example"}}, "domain.hosted_zone_id must be a Route 53 zone"),
        ({"domain": ZONE}, "a domain in a hosted zone needs the stage's account and region"),
        ({**PLACE, "domain": {"name": "chat.example.com"}}, "domain needs either hosted_zone_id and hosted_zone_name"),
        ({**PLACE, "domain": {**ZONE, **CERTIFICATES}}, "domain needs either"),
        ({"domain": {**CERTIFICATES, "certificate_arn": "arn:aws:iam::1:role/x"}}, "certificate_arn must be an ACM"),
        ({**PLACE, "region": "eu-central-1", "domain": CERTIFICATES}, "must be in the stage's region eu-central-1"),
        (
            {"domain": {**CERTIFICATES, "web_certificate_arn": CERTIFICATES["certificate_arn"]}},
            "web_certificate_arn must be in us-east-1",
        ),
        ({"domain": {**ZONE, "zone": "x"}}, "domain: zone is not a known setting"),
        ({"domain": "chat.example.com"}, "'domain' must be an object"),
    ],
)
def test_bad_domain_settings_are_named(settings, message):
    with pytest.raises(StageConfigError, match="stage 'dev'") as raised:
        load_stage_config(stages_with(**settings), "dev")

    assert message in str(raised.value)


def test_api_gateway_logs_role_is_the_stack_or_the_account():
    stages = stages_with(api_gateway_logs_role="account")
    assert not load_stage_config(stages, "dev").creates_api_gateway_logs_role
    assert load_stage_config(stages, "prod").creates_api_gateway_logs_role  # the default: a fresh account works

    with pytest.raises(StageConfigError, match="api_gateway_logs_role must be 'stack'"):
        load_stage_config(stages_with(api_gateway_logs_role="yes"), "dev")


@pytest.mark.parametrize("name", ["dev_alice", "dev alice", "x" * 65, ""])
def test_a_stage_name_must_fit_stack_api_and_log_group_names(name):
    with pytest.raises(StageConfigError, match="stage name must be 1 to 64 characters"):
        load_stage_config({name: dict(GOOD)}, name)


def test_a_personal_stage_name_is_accepted():
    assert load_stage_config({"dev-alice": dict(GOOD)}, "dev-alice").stage == "dev-alice"


def monitoring_with(**changes) -> dict:
    return stages_with(monitoring={**GOOD["monitoring"], **changes})


def test_alarm_emails_are_read_as_a_tuple():
    config = load_stage_config(monitoring_with(notify=True, alarm_emails=["ops@example.com"]), "dev")

    assert config.monitoring.alarm_emails == ("ops@example.com",)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"handler_errors": -1}, "handler_errors must be whole numbers >= 0"),
        ({"connects": 2.5}, "connects must be whole numbers >= 0"),
        ({"duration_percent_of_timeout": 0}, "duration_percent_of_timeout must be between 1 and 100"),
        ({"duration_percent_of_timeout": 120}, "duration_percent_of_timeout must be between 1 and 100"),
        ({"notify": True, "alarm_emails": ["not an address"]}, "not e-mail addresses: not an address"),
        ({"alarm_emails": ["ops@example.com"]}, "alarm_emails are set but notify is false"),
    ],
)
def test_bad_monitoring_settings_are_named(changes, message):
    with pytest.raises(StageConfigError, match="stage 'dev'") as raised:
        load_stage_config(monitoring_with(**changes), "dev")

    assert message in str(raised.value)


@pytest.mark.parametrize(
    "monitoring",
    [None, "on", {"notify": True}, {**GOOD["monitoring"], "pager": "+1 555"}],
    ids=["missing", "not-an-object", "missing-thresholds", "unknown-key"],
)
def test_malformed_monitoring_is_a_config_error(monitoring):
    with pytest.raises(StageConfigError, match=r"stage 'dev'.*monitoring"):
        load_stage_config(stages_with(monitoring=monitoring), "dev")


COGNITO = {
    "self_sign_up": False,
    "retain_pool": True,
    "password_policy": {
        "min_length": 12,
        "require_lowercase": True,
        "require_uppercase": False,
        "require_digits": True,
        "require_symbols": False,
    },
    "token_validity": {"id_minutes": 60, "access_minutes": 60, "refresh_days": 30},
}


def refusal_of(stages: dict) -> str:
    """Why stage dev of ``stages`` is refused (its error names the stage)."""
    with pytest.raises(StageConfigError, match="stage 'dev'") as raised:
        load_stage_config(stages, "dev")
    return str(raised.value)


def cognito_with(**changes) -> dict:
    return stages_with(auth="cognito", cognito={**COGNITO, **changes})


def test_a_cognito_stage_reads_its_pool_settings():
    config = load_stage_config(cognito_with(self_sign_up=True), "dev")

    assert config.has_users
    assert config.cognito.self_sign_up and config.cognito.retain_pool
    assert config.cognito.password_policy.min_length == 12
    assert config.cognito.token_validity.refresh_days == 30


def test_staging_and_prod_sign_in_and_prod_keeps_its_pool_and_open_does_not_sign_in():
    stages = {stage: load_stage_config(CONTEXT["stages"], stage) for stage in STAGES}

    assert stages["staging"].has_users and stages["prod"].has_users and stages["dev"].has_users
    assert stages["prod"].cognito.retain_pool
    assert stages["open"].auth == AUTH_NONE and stages["open"].cognito is None and not stages["open"].has_users


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"auth": "iam"}, "auth must be 'cognito' (clients sign in with the stage's Cognito user pool) or 'none'"),
        ({"auth": "cognito"}, "auth is 'cognito' but the stage has no 'cognito' settings"),
        ({"auth": "none", "cognito": COGNITO}, "'cognito' settings are given but auth is 'none'"),
    ],
)
def test_auth_and_its_settings_must_agree(settings, message):
    assert message in refusal_of(stages_with(**settings))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"self_sign_up": "yes"}, "cognito: self_sign_up must be true or false"),
        ({"retain_pool": 1}, "cognito: retain_pool must be true or false"),
        (
            {"password_policy": {**COGNITO["password_policy"], "min_length": 7}},
            "min_length must be a whole number from 8 to 99",
        ),
        (
            {"password_policy": {**COGNITO["password_policy"], "require_digits": "no"}},
            "require_digits must be true or false",
        ),
        (
            {"token_validity": {**COGNITO["token_validity"], "id_minutes": 4}},
            "token_validity.id_minutes must be a whole number from 5 to 1440",
        ),
        ({"token_validity": {**COGNITO["token_validity"], "access_minutes": 1441}}, "token_validity.access_minutes"),
        (
            {"token_validity": {**COGNITO["token_validity"], "refresh_days": 0}},
            "refresh_days must be a whole number from 1 to 3650",
        ),
        (
            {"token_validity": {**COGNITO["token_validity"], "refresh_days": True}},
            "refresh_days must be a whole number",
        ),
    ],
)
def test_bad_cognito_settings_are_named(changes, message):
    assert message in refusal_of(cognito_with(**changes))


@pytest.mark.parametrize(
    "cognito",
    [
        "on",
        {**COGNITO, "mfa": True},
        {k: v for k, v in COGNITO.items() if k != "token_validity"},
        {**COGNITO, "password_policy": {"min_length": 12}},
    ],
    ids=["not-an-object", "unknown-key", "missing-token-validity", "incomplete-password-policy"],
)
def test_malformed_cognito_settings_are_config_errors(cognito):
    with pytest.raises(StageConfigError, match=r"stage 'dev'.*cognito"):
        load_stage_config(stages_with(auth="cognito", cognito=cognito), "dev")


def rooms_with(**changes) -> dict:
    return stages_with(rooms={**GOOD.get("rooms", {}), **changes})


def test_every_stage_limits_rooms_and_a_stage_without_rooms_settings_gets_the_documented_defaults():
    stages = {stage: load_stage_config(CONTEXT["stages"], stage) for stage in STAGES}
    assert all(config.rooms.max_members == 100 for config in stages.values())
    defaults = load_stage_config(stages_with(), "dev").rooms
    assert (defaults.max_members, defaults.max_rooms_per_user) == (100, 50)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"max_members": 1}, "rooms: max_members must be a whole number from 2 to 400"),
        ({"max_members": 401}, "rooms: max_members must be a whole number from 2 to 400"),
        ({"max_members": "100"}, "rooms: max_members must be a whole number"),
        ({"max_rooms_per_user": 0}, "rooms: max_rooms_per_user must be a whole number from 1 to 1000"),
        ({"max_rooms_per_user": True}, "rooms: max_rooms_per_user must be a whole number"),
    ],
)
def test_bad_room_settings_are_named(changes, message):
    assert message in refusal_of(rooms_with(**changes))


@pytest.mark.parametrize("rooms", ["many", {"max_members": 10, "max_size": 3}])
def test_malformed_room_settings_are_config_errors(rooms):
    with pytest.raises(StageConfigError, match=r"stage 'dev'.*rooms"):
        load_stage_config(stages_with(rooms=rooms), "dev")


def history_with(**changes) -> dict:
    return stages_with(history={**GOOD["history"], **changes})


def test_prod_keeps_its_history_table_and_every_stage_keeps_messages_a_while():
    stages = {stage: load_stage_config(CONTEXT["stages"], stage) for stage in STAGES}

    assert stages["prod"].history.removal_policy == RemovalPolicy.RETAIN
    assert stages["dev"].history.removal_policy == RemovalPolicy.DESTROY
    assert all(config.history.retention_days >= 1 and config.history.max_page >= 1 for config in stages.values())


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"retention_days": 0}, "history: retention_days must be a whole number from 1 to 3650"),
        ({"retention_days": 3651}, "history: retention_days must be a whole number from 1 to 3650"),
        ({"retention_days": 1.5}, "history: retention_days must be a whole number"),
        ({"max_page": 0}, "history: max_page must be a whole number from 1 to 100"),
        ({"max_page": 101}, "history: max_page must be a whole number from 1 to 100"),
        ({"max_page": True}, "history: max_page must be a whole number"),
        ({"retain_table": "yes"}, "history: retain_table must be true or false"),
    ],
)
def test_bad_history_settings_are_named(changes, message):
    assert message in refusal_of(history_with(**changes))


@pytest.mark.parametrize(
    "history",
    ["forever", {"retention_days": 7}, {**GOOD["history"], "max_age": 3}],
    ids=["not-an-object", "incomplete", "unknown-key"],
)
def test_malformed_history_settings_are_config_errors(history):
    with pytest.raises(StageConfigError, match=r"stage 'dev'.*history"):
        load_stage_config(stages_with(history=history), "dev")
