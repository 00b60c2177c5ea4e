"""Stack Chat-pipeline: one self-mutating CDK pipeline that builds each commit once and promotes it
dev → staging → (manual approval) → prod, every stage gated by its smoke test."""

from collections.abc import Sequence

from aws_cdk import Environment, Stack, pipelines
from aws_cdk import aws_codepipeline as codepipeline
from constructs import Construct

from cdk.environments import own_accounts, stage_environment
from cdk.pipeline.nag_suppressions import acknowledge_pipeline_findings
from cdk.pipeline.source import PipelineConfigError, PipelineSource, allow_connection_use
from cdk.pipeline.stage import ChatStage
from cdk.pipeline.steps import CDK_ASSETS_VERSION, build_defaults, cdk_cli_version, smoke_step, synth_step
from cdk.smoke_access import smoke_role_arn
from cdk.stage_config import StageConfig

PROMOTION_ORDER = ("dev", "staging", "prod")
APPROVED_STAGE = "prod"  # a person approves the commit that passed staging before it reaches prod


class PipelineStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        source: PipelineSource,
        stages: Sequence[StageConfig],
        env: Environment | None = None,
    ) -> None:
        super().__init__(scope, construct_id, description="Serverless chat: dev → staging → prod pipeline", env=env)
        cross_account = own_accounts(stages, pipeline_account=env.account if env else None)
        if cross_account and not (env and env.account):
            raise PipelineConfigError(
                f"stages {', '.join(cross_account)} deploy to accounts of their own, so the pipeline needs its own "
                "account: synthesize it with credentials for that account (make pipeline does)"
            )
        code = pipelines.CodePipelineSource.connection(
            source.repository, source.branch, connection_arn=source.connection_arn
        )
        self.pipeline = pipelines.CodePipeline(
            self,
            "Pipeline",
            pipeline_name="chat",
            # Chosen here, not left to the feature flag: V2 is billed per action-execution minute (100 free a
            # month), V1 $1 per active pipeline-month; V2 also has the QUEUED/PARALLEL modes and triggers (AWS
            # CodePipeline pricing; user guide, "What type of pipeline is right for me?"). docs/cost.md prices it.
            pipeline_type=codepipeline.PipelineType.V2,
            synth=synth_step(code),
            self_mutation=True,
            code_build_defaults=build_defaults(),
            cli_version=cdk_cli_version(),
            cdk_assets_cli_version=CDK_ASSETS_VERSION,
            # Stages in other accounts read the artifacts through a customer-managed key those accounts may be
            # granted (CDK Pipelines, "Cross-account deployments"); a pipeline whose stages all share its account
            # keeps the S3-managed encryption and saves the key's $1 a month.
            cross_account_keys=bool(cross_account),
            enable_key_rotation=bool(cross_account),
        )
        smoke_steps = []
        for config in stages:
            stage_env = stage_environment(config, default=env)
            other_account = env.account if config.stage in cross_account else None
            stage = ChatStage(self, config.stage, config=config, env=stage_env, pipeline_account=other_account)
            approval = (
                [pipelines.ManualApprovalStep(f"PromoteTo{config.stage.title()}", comment=_approval_comment(config))]
                if config.stage == APPROVED_STAGE
                else []
            )
            role_arn = smoke_role_arn(self, stage=config.stage, account=stage_env.account or self.account)
            smoke_steps.append(smoke_step(code, stage, role_arn=role_arn if stage.has_users else None))
            self.pipeline.add_stage(stage, pre=approval, post=[smoke_steps[-1]])
        self.pipeline.build_pipeline()  # now, so that the generated roles and projects exist to be acknowledged
        allow_connection_use(self.pipeline, source)
        acknowledge_pipeline_findings(self, self.pipeline, smoke_steps=smoke_steps)


def _approval_comment(config: StageConfig) -> str:
    return f"This commit passed the smoke test of every earlier stage. Deploy it to {config.stage}?"
