"""cdk-nag (AwsSolutions rules) passes for every stage: each accepted finding is acknowledged, none is open.

How a finding surfaces in-process: ``app.synth()`` raises ``RuntimeError("ValidationFailed: ...")`` and
``validation-report.json`` in the output directory has the plugin's conclusion "failure" with the
violations listed (see conftest.synthesize).
"""

import aws_cdk
import pytest
from aws_cdk import aws_sqs as sqs
from cdk_nag import AwsSolutionsChecks
from infra_support import STAGES, synthesize


@pytest.mark.parametrize("stage", STAGES)
def test_no_unacknowledged_findings(synth_stage, stage):
    synthesis = synth_stage(stage)

    assert synthesis.validation_error is None
    assert synthesis.findings() == []
    (plugin,) = synthesis.validation_report["pluginReports"]
    assert plugin["pluginName"] == "AwsSolutions"
    assert plugin["conclusion"] == "success"


def test_no_unacknowledged_findings_with_a_concrete_account_and_region(synth_stage):
    """What `cdk deploy` synthesizes: the CLI sets CDK_DEFAULT_ACCOUNT/REGION from the credentials."""
    synthesis = synth_stage("prod", account="111122223333", region="eu-west-1")

    assert synthesis.findings() == []
    assert synthesis.validation_error is None


def test_acknowledgments_are_used(synth_stage):
    """The acknowledged findings exist: an acknowledgment never silences a rule that does not fire."""
    (plugin,) = synth_stage("dev").validation_report["pluginReports"]
    acknowledged = {violation["ruleName"].split("[")[0] for violation in plugin["suppressedViolations"]}

    assert acknowledged == {"AwsSolutions-APIG4", "AwsSolutions-L1", "AwsSolutions-IAM5"}


def test_a_non_compliant_resource_fails_the_synth(tmp_path):
    app = aws_cdk.App(outdir=str(tmp_path))
    stack = aws_cdk.Stack(app, "NonCompliant")
    sqs.Queue(stack, "Queue")  # no DLQ, no SSL enforcement
    aws_cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))

    synthesis = synthesize(app, tmp_path)

    assert synthesis.validation_error is not None
    rules = {rule for rule, path in synthesis.findings() if path == "NonCompliant/Queue/Resource"}
    assert {"AwsSolutions-SQS3", "AwsSolutions-SQS4"} <= rules
    (plugin,) = synthesis.validation_report["pluginReports"]
    assert plugin["conclusion"] == "failure"
