"""The pipeline stack (``cdk synth -c pipeline=true``): dev → staging → approval → prod, each stage the app's
own Chat-<stage> stack followed by its smoke test; source configuration validated; cdk-nag clean; the smoke
step's role allowed nothing beyond CodeBuild's own needs.

Synthesizing a pipeline takes ~20 s, so it is synthesized once per test run (conftest.shared_synthesis).
"""

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import aws_cdk
import pytest
from infra_support import CONTEXT, PROJECT_ROOT, render, resources

from cdk.app import build, pipeline_requested
from cdk.pipeline.source import PipelineConfigError, load_pipeline_source
from cdk.pipeline.stack import PROMOTION_ORDER
from cdk.pipeline.steps import BUILD_IMAGE, RUNTIME_VERSIONS, smoke_requirements
from cdk.smoke_access import SMOKE_USER_ACTIONS, smoke_role_name
from cdk.synthesis import Synthesis, synthesize_app

CONNECTION_ARN = "arn:aws:codestar-connections:eu-west-1:111122223333:connection/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
SOURCE = {"connection_arn": CONNECTION_ARN, "repository": "example-org/serverless-chat", "branch": "release"}
SMOKE_ALLOWED_ACTIONS = {
    # CodeBuild's own log streams and test reports
    "logs:CreateLogGroup",
    "logs:CreateLogStream",
    "logs:PutLogEvents",
    "codebuild:CreateReportGroup",
    "codebuild:CreateReport",
    "codebuild:UpdateReport",
    "codebuild:BatchPutTestCases",
    "codebuild:BatchPutCodeCoverages",
    # reading its input: the source artifact
    "s3:GetObject*",
    "s3:GetBucket*",
    "s3:List*",
}


def pipeline_context(**changes: Any) -> dict[str, Any]:
    return {**CONTEXT, "pipeline": "true", "pipeline_source": {**SOURCE, **changes}}


def synthesize_pipeline(outdir: Path, account: str | None = None, region: str | None = None) -> Synthesis:
    """As ``npx cdk synth -c pipeline=true`` builds it, with a source configured."""
    return synthesize_app(outdir, context=pipeline_context(), account=account, region=region)


@pytest.fixture(scope="module")
def synthesis(shared_synthesis) -> Synthesis:
    return shared_synthesis("cdk-pipeline", synthesize_pipeline)


@pytest.fixture(scope="module")
def template(synthesis) -> dict[str, Any]:
    return synthesis.template("Chat-pipeline")


@pytest.fixture(scope="module")
def stages(template) -> dict[str, list[dict[str, Any]]]:
    """CodePipeline stage name -> its actions in run order, in the pipeline's order."""
    ((pipeline),) = resources(template, "AWS::CodePipeline::Pipeline").values()
    return {
        stage["Name"]: sorted(stage["Actions"], key=lambda action: action.get("RunOrder", 1))
        for stage in pipeline["Stages"]
    }


def category(action: dict[str, Any]) -> str:
    type_id = action["ActionTypeId"]
    return f"{type_id['Category']}/{type_id['Provider']}"


def build_spec(template: dict[str, Any], action: dict[str, Any]) -> dict[str, Any]:
    project = render(action["Configuration"]["ProjectName"]).strip("<>")
    return json.loads(template["Resources"][project]["Properties"]["Source"]["BuildSpec"])


# --- stages, in order ------------------------------------------------------------------------------


def test_the_pipeline_is_of_type_v2(template):
    """The type a new CDK app gets (feature flag @aws-cdk/aws-codepipeline:defaultPipelineTypeToV2); V2 is
    priced per action-execution minute, V1 per active pipeline per month (AWS CodePipeline pricing)."""
    ((pipeline),) = resources(template, "AWS::CodePipeline::Pipeline").values()

    assert pipeline["PipelineType"] == "V2"


def test_the_pipeline_type_is_chosen_in_code_not_by_a_feature_flag(tmp_path):
    """Without the flag a CodePipeline is V1 (with a warning at synth): the type must not depend on cdk.json."""
    context = {**pipeline_context(), "@aws-cdk/aws-codepipeline:defaultPipelineTypeToV2": False}

    template = synthesize_app(tmp_path, context=context).template("Chat-pipeline")

    ((pipeline),) = resources(template, "AWS::CodePipeline::Pipeline").values()
    assert pipeline["PipelineType"] == "V2"


def test_stages_promote_dev_then_staging_then_prod_after_the_build(stages):
    assert list(stages) == ["Source", "Build", "UpdatePipeline", "Assets", *PROMOTION_ORDER]


CODECONNECTIONS_ARN = CONNECTION_ARN.replace("codestar-connections", "codeconnections")


@pytest.mark.parametrize("connection_arn", [CONNECTION_ARN, CODECONNECTIONS_ARN], ids=["codestar", "codeconnections"])
def test_the_source_action_may_use_the_connection_under_its_own_prefix(shared_synthesis, connection_arn):
    """The console has created `arn:aws:codeconnections:` connections since July 2024, and IAM needs the action's
    service prefix to match the resource's ("Connections rename - Summary of changes", AWS Developer Tools console
    user guide): aws-cdk-lib grants only codestar-connections:UseConnection (landing-zone-accelerator-on-aws#828)."""
    prefix = connection_arn.split(":")[2]
    synthesis = shared_synthesis(
        f"cdk-pipeline-{prefix}",
        lambda outdir: synthesize_app(outdir, context=pipeline_context(connection_arn=connection_arn)),
    )
    template = synthesis.template("Chat-pipeline")
    ((source,),) = [
        stage["Actions"]
        for (pipeline,) in [resources(template, "AWS::CodePipeline::Pipeline").values()]
        for stage in pipeline["Stages"]
        if stage["Name"] == "Source"
    ]
    role = render(source["RoleArn"]).strip("<>").removesuffix(".Arn")
    granted = {
        (action, resource)
        for policy in resources(template, "AWS::IAM::Policy").values()
        if {"Ref": role} in policy["Roles"]
        for statement in policy["PolicyDocument"]["Statement"]
        for action in _as_list(statement["Action"])
        for resource in _as_list(render(statement["Resource"]))
    }

    assert (f"{prefix}:UseConnection", connection_arn) in granted
    assert synthesis.findings() == []


def test_the_source_is_the_configured_connection(stages):
    ((source),) = stages["Source"]

    assert category(source) == "Source/CodeStarSourceConnection"
    assert source["Configuration"]["ConnectionArn"] == CONNECTION_ARN
    assert source["Configuration"]["FullRepositoryId"] == "example-org/serverless-chat"
    assert source["Configuration"]["BranchName"] == "release"


@pytest.mark.parametrize("stage", PROMOTION_ORDER)
def test_each_stage_deploys_chat_stack_then_smoke_tests_its_websocket_url(template, stages, stage):
    actions = stages[stage]
    deploys = [action for action in actions if category(action) == "Deploy/CloudFormation"]
    (smoke,) = [action for action in actions if category(action) == "Build/CodeBuild"]

    assert {action["Configuration"]["StackName"] for action in deploys} == {f"Chat-{stage}"}
    (execute,) = [action for action in deploys if action["Configuration"]["ActionMode"] == "CHANGE_SET_EXECUTE"]
    assert smoke["RunOrder"] > max(action["RunOrder"] for action in deploys)
    variables = json.loads(smoke["Configuration"]["EnvironmentVariables"])
    # Every stage of the pipeline signs in (auth cognito): the smoke test makes a throwaway user of its pool.
    outputs = {
        "WEBSOCKET_URL": "WebSocketUrl",
        "USER_POOL_ID": "UserPoolId",
        "USER_POOL_CLIENT_ID": "UserPoolClientId",
        "SMOKE_ROLE_ARN": "SmokeTestRoleArn",
    }
    assert sorted(variables, key=lambda v: v["name"]) == sorted(
        (
            {"name": name, "type": "PLAINTEXT", "value": f"#{{{execute['Namespace']}.{output}}}"}
            for name, output in outputs.items()
        ),
        key=lambda v: v["name"],
    )
    assert build_spec(template, smoke)["phases"]["build"]["commands"] == [
        'python -m smoke "$WEBSOCKET_URL" --user-pool-id "$USER_POOL_ID" --client-id "$USER_POOL_CLIENT_ID"'
        ' --role-arn "$SMOKE_ROLE_ARN"'
    ]


def test_prod_waits_for_a_manual_approval_and_no_other_stage_does(stages):
    approvals = {
        stage: [action for action in stages[stage] if category(action) == "Approval/Manual"]
        for stage in PROMOTION_ORDER
    }

    assert all(approvals[stage] == [] for stage in PROMOTION_ORDER if stage != "prod")
    (approval,) = approvals["prod"]
    deploys = [action for action in stages["prod"] if category(action) == "Deploy/CloudFormation"]
    assert approval["RunOrder"] < min(action["RunOrder"] for action in deploys)


def test_each_stage_deploys_the_stack_make_deploy_deploys(synthesis, synth_stage):
    manifest = json.loads((synthesis.outdir / "manifest.json").read_text(encoding="utf-8"))
    for stage in PROMOTION_ORDER:
        directory = (
            synthesis.outdir / manifest["artifacts"][f"assembly-Chat-pipeline-{stage}"]["properties"]["directoryName"]
        )
        (path,) = directory.glob("*.template.json")
        in_pipeline = json.loads(path.read_text(encoding="utf-8"))

        assert without_metadata(in_pipeline) == without_metadata(synth_stage(stage).template(f"Chat-{stage}")), stage


def test_one_api_gateway_account_setting_among_stages_sharing_an_account(synthesis):
    """One AWS::ApiGateway::Account per account and Region (CloudFormation reference): cdk.json's stages share the
    pipeline's, so only the first deployed, dev, declares it; the others rely on it."""
    declaring = []
    for stage in PROMOTION_ORDER:
        directory = synthesis.outdir / f"assembly-Chat-pipeline-{stage}"
        (path,) = directory.glob("*.template.json")
        if resources(json.loads(path.read_text(encoding="utf-8")), "AWS::ApiGateway::Account"):
            declaring.append(stage)

    assert declaring == ["dev"]


def without_metadata(template: dict[str, Any]) -> dict[str, Any]:
    """The template without what says where each construct and asset sits in its cloud assembly (the pipeline
    nests a stage's: Chat-pipeline/<stage>/Chat-<stage>/..., ../asset.<hash>)."""
    for resource in template["Resources"].values():
        resource.pop("Metadata", None)
        # CDK's BucketDeployment tags its bucket with a hash of the construct's path
        tags = resource.get("Properties", {}).get("Tags")
        if isinstance(tags, list):
            resource["Properties"]["Tags"] = [
                tag for tag in tags if not str(tag.get("Key", "")).startswith("aws-cdk:cr-owned:")
            ]
    return template


# --- what the CodeBuild steps run -------------------------------------------------------------------


def test_synth_runs_make_test_without_the_browser_then_synthesizes_the_pipeline(template, stages):
    """The build's first command, dry-run by make: make test's own recipe, its browser tests deselected."""
    ((synth),) = stages["Build"]
    commands = build_spec(template, synth)["phases"]["build"]["commands"]
    make, *arguments = shlex.split(commands[0])

    dry_run = subprocess.run(
        [make, "--dry-run", "--always-make", "--no-print-directory", *arguments],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()

    assert arguments[0] == "test"
    assert dry_run[-4:-1] == [
        ".venv/bin/python -m ruff check .",
        ".venv/bin/python -m ruff format --check .",
        "node --test tests/web/",
    ]
    assert re.fullmatch(r'\.venv/bin/python -m pytest -n \d+ -m "not browser"', dry_run[-1]), dry_run[-1]
    assert commands[-1].startswith("npx cdk synth -c pipeline=true")


def test_smoke_step_installs_only_websockets_and_boto3_pinned_as_in_pyproject(template, stages):
    websockets, boto3 = smoke_requirements()
    for stage in PROMOTION_ORDER:
        (smoke,) = [action for action in stages[stage] if category(action) == "Build/CodeBuild"]
        install = build_spec(template, smoke)["phases"]["install"]["commands"]

        assert install == [f"python -m pip install --quiet '{websockets}' '{boto3}'"]
    pyproject = (PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert f'"{websockets}"' in pyproject and f'"{boto3}"' in pyproject


ASSET_NAME = re.compile(r"^Assets/(Chat-pipeline_\w+?_Chat-\w+?_)?|(?<=Files_Asset)\d+$")


def test_every_codebuild_project_uses_the_pinned_image_and_runtimes(template):
    projects = resources(template, "AWS::CodeBuild::Project")

    steps = {
        project["Description"].removeprefix("Pipeline step Chat-pipeline/Pipeline/") for project in projects.values()
    }
    # the web files' assets are numbered, and a provider's asset is named by the first stage that has it
    assets = {ASSET_NAME.sub("", step) for step in steps if step.startswith("Assets/")}

    # synth, self-mutation, a smoke test per stage, and one per file asset: the functions' code, the authorizer's
    # layer, and the web client's files and config.json with CDK's deploy-time code to put them in the bucket (its
    # function, the AWS CLI layer, and the provider that empties the log bucket on a stack's deletion)
    assert {step for step in steps if not step.startswith("Assets/")} == {
        "Build/Synth",
        "UpdatePipeline/SelfMutate",
        *(f"{stage}/SmokeTest" for stage in PROMOTION_ORDER),
    }
    assert assets == {
        "Functions_OnConnect_Code",
        "Identity_JwtLayer_Code",
        "WebClient_Files_Asset",
        "WebClient_Files_AwsCliLayer_Code",
        "Custom_CDKBucketDeployment8693BB64968944B69AAFB0CC9EB8756C256MiB_Code",
        "Custom_S3AutoDeleteObjectsCustomResourceProvider_Code",
    }
    for project in projects.values():
        assert project["Environment"]["Image"] == BUILD_IMAGE.image_id
        assert project["Environment"]["PrivilegedMode"] is False
        spec = json.loads(project["Source"]["BuildSpec"])
        assert spec["phases"]["install"]["runtime-versions"] == RUNTIME_VERSIONS
        installs = " ".join(spec["phases"]["install"].get("commands", []))
        assert "@latest" not in installs and "aws-cdk@2 " not in f"{installs} "


# --- cdk-nag and least privilege --------------------------------------------------------------------


def suppressed(synthesis: Synthesis) -> dict[str, set[str]]:
    """Construct path -> rule ids of every acknowledged finding."""
    (plugin,) = synthesis.validation_report["pluginReports"]
    found: dict[str, set[str]] = {}
    for violation in plugin["suppressedViolations"]:
        for construct in violation["violatingConstructs"]:
            found.setdefault(construct["constructPath"], set()).add(violation["ruleName"])
    return found


def test_no_unacknowledged_findings_in_the_pipeline_or_its_stages(synthesis):
    assert synthesis.validation_error is None
    assert synthesis.findings() == []
    paths = suppressed(synthesis)
    for stage in PROMOTION_ORDER:  # the stages' own stacks are checked too, with their own acknowledgments
        assert any(path.startswith(f"Chat-pipeline/{stage}/Chat-{stage}/Functions/") for path in paths)


def test_no_unacknowledged_findings_with_a_concrete_account_and_region(tmp_path):
    """What `make pipeline` synthesizes: the CLI sets CDK_DEFAULT_ACCOUNT/REGION from the credentials."""
    synthesis = synthesize_pipeline(tmp_path, account="111122223333", region="eu-west-1")

    assert synthesis.findings() == []
    assert synthesis.validation_error is None


def test_pipeline_acknowledgments_sit_on_the_generated_constructs_that_need_them(synthesis):
    pipeline_paths = {
        path: rules for path, rules in suppressed(synthesis).items() if path.startswith("Chat-pipeline/Pipeline/")
    }
    smoke_tests = [f"Chat-pipeline/Pipeline/Pipeline/{stage}/SmokeTest/SmokeTest" for stage in PROMOTION_ORDER]

    assert pipeline_paths["Chat-pipeline/Pipeline/Pipeline/ArtifactsBucket/Resource"] == {"AwsSolutions-S1"}
    for smoke_test in smoke_tests:
        assert pipeline_paths[f"{smoke_test}/Resource"] == {"AwsSolutions-CB4"}
        rules = pipeline_paths[f"{smoke_test}/Role/DefaultPolicy/Resource"]
        assert {"AwsSolutions-IAM5[Action::s3:GetObject*]", "AwsSolutions-IAM5[Action::s3:List*]"} <= rules
        assert not any("DeleteObject" in rule or "Abort" in rule or "Resource::*]" in rule for rule in rules)
    assert all(
        path.endswith(("/Resource", "/DefaultPolicy/Resource")) and "/Chat-" not in path for path in pipeline_paths
    )


def test_smoke_step_role_may_do_nothing_beyond_codebuild_logs_reports_and_reading_its_source(template):
    roles = resources(template, "AWS::IAM::Role")
    smoke_roles = {logical_id for logical_id in roles if "SmokeTestRole" in logical_id}
    (bucket,) = resources(template, "AWS::S3::Bucket")

    assert len(smoke_roles) == len(PROMOTION_ORDER)
    for role in smoke_roles:
        assert "ManagedPolicyArns" not in roles[role] and "Policies" not in roles[role]
        (principal,) = [s["Principal"]["Service"] for s in roles[role]["AssumeRolePolicyDocument"]["Statement"]]
        assert principal == "codebuild.amazonaws.com"
        statements = [
            statement
            for policy in resources(template, "AWS::IAM::Policy").values()
            if {"Ref": role} in policy["Roles"]
            for statement in policy["PolicyDocument"]["Statement"]
        ]
        actions = {action for statement in statements for action in _as_list(statement["Action"])}
        assert actions <= SMOKE_ALLOWED_ACTIONS | {"sts:AssumeRole"}, actions - SMOKE_ALLOWED_ACTIONS
        stage = next(stage for stage in PROMOTION_ORDER if f"Pipeline{stage}SmokeTest" in role)
        for statement in statements:
            assert statement["Effect"] == "Allow"
            for resource in _as_list(render(statement["Resource"])):
                if statement["Action"] == "sts:AssumeRole":  # its stage's smoke-test role, and no other
                    assert resource.endswith(f":iam::<AWS::AccountId>:role/{smoke_role_name(stage)}"), resource
                elif any(action.startswith("s3:") for action in _as_list(statement["Action"])):
                    assert resource in (f"<{bucket}.Arn>", f"<{bucket}.Arn>/*")
                else:
                    assert "SmokeTest" in resource, resource  # its own log group or report group


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# --- source configuration ---------------------------------------------------------------------------


def test_a_good_source_loads():
    source = load_pipeline_source(SOURCE)

    assert (source.connection_arn, source.repository, source.branch) == (
        CONNECTION_ARN,
        "example-org/serverless-chat",
        "release",
    )


@pytest.mark.parametrize(
    "changes",
    [
        {"connection_arn": CONNECTION_ARN.replace("codestar-connections", "codeconnections")},
        {"repository": "group/subgroup/project"},
        {"branch": "feature/pipeline-1.2"},
    ],
)
def test_other_valid_forms_are_accepted(changes):
    assert load_pipeline_source({**SOURCE, **changes})


@pytest.mark.parametrize("settings", [None, "arn:aws:codestar-connections:…", []])
def test_a_missing_source_names_the_cdk_json_key(settings):
    with pytest.raises(PipelineConfigError, match="'pipeline_source' with connection_arn, repository, branch"):
        load_pipeline_source(settings)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"connection_arn": None}, "pipeline_source.connection_arn must be the ARN of a CodeStar connection"),
        ({"connection_arn": "arn:aws:iam::111122223333:role/x"}, "pipeline_source.connection_arn must be"),
        ({"connection_arn": CONNECTION_ARN + " "}, "pipeline_source.connection_arn must be"),
        ({"repository": "serverless-chat"}, "pipeline_source.repository must be the repository as owner/name"),
        ({"repository": "https://github.com/o/r"}, "pipeline_source.repository must be"),
        ({"branch": ""}, "pipeline_source.branch must be a branch name"),
        ({"branch": "has space"}, "pipeline_source.branch must be"),
        ({"branch": "a..b"}, "pipeline_source.branch must be"),
        ({"branch": 7}, "pipeline_source.branch must be"),
        ({"region": "eu-west-1"}, "pipeline_source.region is not a known setting"),
    ],
)
def test_a_bad_setting_is_named(changes, message):
    with pytest.raises(PipelineConfigError) as raised:
        load_pipeline_source({**SOURCE, **changes})

    assert message in str(raised.value)


def test_every_problem_is_reported_at_once_as_written_in_cdk_json():
    with pytest.raises(PipelineConfigError) as raised:
        load_pipeline_source({"connection_arn": None, "repository": None, "branch": "main"})

    assert "connection_arn" in str(raised.value) and "repository" in str(raised.value)
    assert "got null" in str(raised.value)


# --- when the pipeline is built ----------------------------------------------------------------------


@pytest.mark.parametrize(("value", "requested"), [(None, False), ("false", False), ("true", True), (True, True)])
def test_the_pipeline_is_built_only_when_requested(value, requested):
    context = {**CONTEXT, **({} if value is None else {"pipeline": value})}

    assert pipeline_requested(aws_cdk.App(context=context)) is requested


def test_a_stage_synth_needs_no_pipeline_source(tmp_path):
    app = aws_cdk.App(context={**CONTEXT, "stage": "dev", "pipeline_source": None}, outdir=str(tmp_path))
    build(app)

    assert [child.node.id for child in app.node.children if isinstance(child, aws_cdk.Stack)] == ["Chat-dev"]


def test_requesting_the_pipeline_without_a_source_fails_the_synth_with_one_line():
    """As `npx cdk synth -c pipeline=true` runs the app (the CLI passes context in CDK_CONTEXT_JSON)."""
    context = pipeline_context(connection_arn=None)
    result = subprocess.run(
        [sys.executable, "-m", "cdk.app"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "CDK_CONTEXT_JSON": json.dumps(context)},
    )

    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("cdk.json: pipeline_source.connection_arn must be the ARN of a CodeStar connection")


# --- the smoke test's throwaway users -----------------------------------------------------------------


def stage_template(synthesis: Synthesis, stage: str) -> dict[str, Any]:
    """Chat-<stage>'s template as the pipeline's stage deploys it (a nested assembly of the pipeline's)."""
    assembly = synthesis.manifest["artifacts"][f"assembly-Chat-pipeline-{stage}"]["properties"]["directoryName"]
    (path,) = (synthesis.outdir / assembly).glob("*.template.json")
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("stage", PROMOTION_ORDER)
def test_each_stages_smoke_test_role_may_only_make_and_delete_users_of_that_stages_pool(synthesis, stage):
    template = stage_template(synthesis, stage)
    roles = resources(template, "AWS::IAM::Role")
    (role_id,) = [logical_id for logical_id, role in roles.items() if role.get("RoleName") == smoke_role_name(stage)]
    (pool_id,) = resources(template, "AWS::Cognito::UserPool")

    (trust,) = roles[role_id]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Action"] == "sts:AssumeRole"
    assert render(trust["Principal"]["AWS"]).endswith(":iam::<AWS::AccountId>:root")  # the pipeline's account
    assert "ManagedPolicyArns" not in roles[role_id] and "Policies" not in roles[role_id]
    statements = [
        statement
        for policy in resources(template, "AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Roles"]
        for statement in policy["PolicyDocument"]["Statement"]
    ]
    assert statements == [
        {"Action": sorted(SMOKE_USER_ACTIONS), "Effect": "Allow", "Resource": {"Fn::GetAtt": [pool_id, "Arn"]}}
    ]
    assert template["Outputs"]["SmokeTestRoleArn"]["Value"] == {"Fn::GetAtt": [role_id, "Arn"]}
