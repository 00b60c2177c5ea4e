"""One Logger, Tracer and Metrics for the whole code asset, configured by POWERTOOLS_* variables."""

from aws_lambda_powertools import Logger, Metrics, Tracer

from chat.settings import require_env

logger = Logger()
tracer = Tracer()
metrics = Metrics()
# Stages that share an account share the metrics namespace: the stage dimension keeps their alarms apart.
metrics.set_default_dimensions(stage=require_env("STAGE"))
