"""Where stages are deployed (cdk.json's account and region), and who creates what an account and Region hold once:
API Gateway's CloudWatch Logs role (cdk/environments.py)."""

import copy

import pytest
from aws_cdk import Environment
from infra_support import CONTEXT

from cdk.environments import logging_role_problems, own_accounts, stage_environment
from cdk.pipeline.stack import PROMOTION_ORDER
from cdk.stage_config import load_stage_config

PIPELINE = Environment(account="111111111111", region="eu-west-1")


def promotion(**settings: dict) -> list:
    """The pipeline's stages as cdk.json has them, with ``settings`` per stage on top."""
    stages = copy.deepcopy(CONTEXT["stages"])
    for stage, changes in settings.items():
        stages[stage].update(changes)
    return [load_stage_config(stages, stage) for stage in PROMOTION_ORDER]


def test_a_stage_without_account_or_region_goes_where_the_pipeline_is():
    dev, staging, prod = promotion(prod={"account": "333333333333", "region": "eu-central-1"})

    assert stage_environment(dev, default=PIPELINE) == PIPELINE
    assert stage_environment(prod, default=PIPELINE) == Environment(account="333333333333", region="eu-central-1")
    assert stage_environment(staging, default=None) == Environment(account=None, region=None)
    assert own_accounts([dev, staging, prod], pipeline_account=PIPELINE.account) == ["prod"]


def test_cdk_json_lets_the_first_stage_create_the_logging_role_and_the_others_rely_on_it():
    stages = promotion()

    assert [config.api_gateway_logs_role for config in stages] == ["stack", "account", "account"]
    assert logging_role_problems(stages) == []


def test_in_accounts_of_their_own_each_stage_creates_its_own():
    stages = promotion(
        dev={"account": "111111111111", "api_gateway_logs_role": "stack"},
        staging={"account": "222222222222", "api_gateway_logs_role": "stack"},
        prod={"account": "333333333333", "api_gateway_logs_role": "stack"},
    )

    assert logging_role_problems(stages) == []


def test_two_stages_creating_it_in_one_account_and_region_are_refused():
    (problem,) = logging_role_problems(promotion(staging={"api_gateway_logs_role": "stack"}))

    assert "stages dev, staging all create API Gateway's CloudWatch Logs role" in problem
    assert "\"api_gateway_logs_role\": 'account' for the others" in problem


def test_a_stage_relying_on_a_role_created_by_a_later_stage_is_refused():
    stages = promotion(dev={"api_gateway_logs_role": "account"}, staging={"api_gateway_logs_role": "stack"})

    (problem,) = logging_role_problems(stages)

    assert "stages dev rely on API Gateway's CloudWatch Logs role" in problem and "before staging" in problem


@pytest.mark.parametrize("region", ["eu-west-1", "us-east-1"])
def test_the_same_account_in_another_region_is_another_setting(region):
    stages = promotion(
        dev={"account": "111111111111", "region": "eu-west-1"},
        staging={"account": "111111111111", "region": region, "api_gateway_logs_role": "stack"},
        prod={"account": "333333333333", "api_gateway_logs_role": "stack"},
    )

    assert bool(logging_role_problems(stages)) == (region == "eu-west-1")
