"""The names of the app's stacks, for whatever finds them in a cloud assembly or an account without building
the app (the local runtime, the benchmarks, the preflight): kept free of aws_cdk, so reading them costs nothing."""

PIPELINE_STACK = "Chat-pipeline"


def stack_name_for(stage: str) -> str:
    """Stack Chat-<stage>: its construct id and its CloudFormation name wherever it is built (``make deploy`` or
    a pipeline stage), so the pipeline takes over a stack deployed by hand instead of creating a second one."""
    return f"Chat-{stage}"


def web_certificate_stack_name_for(stage: str) -> str:
    """Stack Chat-<stage>-web-certificate, in us-east-1: the certificate of a stage's web client on its domain."""
    return f"{stack_name_for(stage)}-web-certificate"
