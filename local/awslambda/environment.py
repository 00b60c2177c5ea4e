"""A function's process environment: the template's variables, what Lambda sets, the local endpoints."""

import os

from local.template import FunctionSpec

_PASSED_THROUGH = ("PATH", "LANG", "LC_ALL", "TZ", "SYSTEMROOT")


def worker_environment(
    spec: FunctionSpec, *, region: str, aws_endpoint_url: str, rewrite: dict[str, str]
) -> dict[str, str]:
    """The function's environment from the template, plus what Lambda sets and the local endpoints.

    ``rewrite`` maps AWS origins (the stack's execute-api URL) to the local ones serving them.
    """
    environment = {name: os.environ[name] for name in _PASSED_THROUGH if name in os.environ}
    environment.update(
        {
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_ENDPOINT_URL": aws_endpoint_url,
            # Where chat.identity fetches a pool's keys (moto serves them at /<pool id>/.well-known/jwks.json).
            "AWS_ENDPOINT_URL_COGNITO_IDP": aws_endpoint_url,
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
            "LAMBDA_TASK_ROOT": str(spec.code_dir),
            "_HANDLER": spec.handler,
            # No X-Ray daemon on a laptop: tracing stays off locally, on in AWS.
            "POWERTOOLS_TRACE_DISABLED": "true",
            "PYTHONUNBUFFERED": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    for name, value in spec.environment.items():
        for aws_origin, local_origin in rewrite.items():
            value = value.replace(aws_origin, local_origin)
        environment[name] = value
    return environment
