"""Delivery metrics of the direct fan-out, counted from its execution log by CloudWatch Logs metric filters.

No function runs per delivery (message_fanout posts with apigateway:invoke), so no code can count one. The
state machine logs every history event at level ALL, one JSON line per event (Step Functions developer guide,
"Using CloudWatch Logs to log execution history" and "Log levels"), e.g.

    {"id":"12","type":"PassStateEntered","details":{"name":"RecipientGone"},"previous_event_id":"11",
     "event_timestamp":"1764417600123","execution_arn":"arn:aws:states:…:express:…:<message id>:…","redrive_count":"0"}

``details`` holds the event's details as GetExecutionHistory returns them (a state's ``name``; a task
failure's ``error``, ``cause``, ``resource``, ``resourceType``), without input and output where execution data
are not logged (prod): the fields matched here are there on every stage.

Each delivery ends in one Pass state of the Map (statemachines/message_fanout.asl.json): Delivered,
RecipientGone (ApiGateway.410) or DeliveryFailed (any other error after the posting retry policy), so one
PassStateEntered line per delivery outcome. Throttled posts (ApiGateway.429, the delivery or the sender's
notice) are TaskFailed lines, one per attempt, retried or not.

A metric filter's dimensions take their values from fields of the log event (AWS::Logs::MetricFilter,
Dimension), and these events carry no stage: the stage is in the namespace instead, ServerlessChat/<stage>.
"""

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_logs as logs
from constructs import Construct

from cdk.functions import METRICS_NAMESPACE

# metric name -> the Pass state of message_fanout's Map that one delivery with that outcome enters
DELIVERY_OUTCOMES = {
    "Deliveries": "Delivered",
    "GoneRecipients": "RecipientGone",
    "FailedDeliveries": "DeliveryFailed",
}
THROTTLED_POSTS = "ThrottledPosts"
THROTTLED_ERROR = "ApiGateway.429"


def json_equals(*conditions: tuple[str, str]) -> str:
    """A metric filter pattern matching JSON log events whose fields equal these strings, all of them."""
    return "{ " + " && ".join(f'({selector} = "{value}")' for selector, value in conditions) + " }"


FILTER_PATTERNS = {
    **{
        metric: json_equals(("$.type", "PassStateEntered"), ("$.details.name", state))
        for metric, state in DELIVERY_OUTCOMES.items()
    },
    THROTTLED_POSTS: json_equals(("$.type", "TaskFailed"), ("$.details.error", THROTTLED_ERROR)),
}


def delivery_metrics_namespace(stage: str) -> str:
    return f"{METRICS_NAMESPACE}/{stage}"


class DeliveryMetrics(Construct):
    """One metric filter per delivery metric on the fan-out's log group; ``metric(name)`` reads one."""

    def __init__(self, scope: Construct, construct_id: str, *, stage: str, fanout_log_group: logs.ILogGroup) -> None:
        super().__init__(scope, construct_id)
        self.namespace = delivery_metrics_namespace(stage)
        for name, pattern in FILTER_PATTERNS.items():
            logs.MetricFilter(
                self,
                name,
                log_group=fanout_log_group,
                filter_pattern=logs.FilterPattern.literal(pattern),
                metric_namespace=self.namespace,
                metric_name=name,
                metric_value="1",
                unit=cloudwatch.Unit.COUNT,
            )

    def metric(self, name: str, *, label: str, period: Duration) -> cloudwatch.Metric:
        if name not in FILTER_PATTERNS:
            raise KeyError(f"no metric filter counts {name}")
        return cloudwatch.Metric(
            namespace=self.namespace, metric_name=name, statistic="Sum", period=period, label=label
        )
