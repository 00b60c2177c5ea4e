"""Alarms and the Chat-<stage> dashboard, built with cdk-monitoring-constructs; an SNS topic when alarms notify.

cdk-monitoring-constructs has facades for Lambda and Step Functions but none for a WebSocket API (its
API Gateway v2 facade is for HTTP APIs), so the WebSocket widget group is built from the raw AWS/ApiGateway
metrics that AWS documents for WebSocket APIs ("Monitor WebSocket API execution with CloudWatch metrics",
https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-logging.html):
ConnectCount, MessageCount, IntegrationError, ClientError, ExecutionError, IntegrationLatency, by ApiId and Stage.
"""

from collections.abc import Mapping, Sequence

import cdk_monitoring_constructs as cmc
from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from cdk.delivery_metrics import DeliveryMetrics
from cdk.functions import METRICS_NAMESPACE, SERVICE_NAME
from cdk.stage_config import StageConfig

PERIOD = Duration.minutes(5)
ABOVE = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD
NO_DATA_IS_FINE = cloudwatch.TreatMissingData.NOT_BREACHING


class ChatMonitoring(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        api_id: str,
        stage_name: str,
        route_handlers: Sequence[lambda_.Function],
        task_functions: Sequence[lambda_.Function],
        workflows: Mapping[str, sfn.StateMachine],
        fanout_log_group: logs.ILogGroup,
    ) -> None:
        """``fanout_log_group``: message_fanout's execution log, where the delivery metrics are counted."""
        super().__init__(scope, construct_id)
        self._settings = config.monitoring
        self._stage = config.stage
        self.alarm_topic = self._alarm_topic() if self._settings.notify else None
        self.dashboard_name = f"Chat-{config.stage}"
        self.facade = cmc.MonitoringFacade(
            self,
            "Facade",
            alarm_factory_defaults=cmc.AlarmFactoryDefaults(
                alarm_name_prefix=f"Chat-{config.stage}",
                actions_enabled=self._settings.notify,
                action=(
                    cmc.SnsAlarmActionStrategy(on_alarm_topic=self.alarm_topic)
                    if self.alarm_topic
                    else cmc.NoopAlarmActionStrategy()
                ),
                # A chat is judged minute by minute: one bad 5-minute period is worth a look.
                datapoints_to_alarm=1,
                evaluation_periods=1,
            ),
            metric_factory_defaults=cmc.MetricFactoryDefaults(period=PERIOD),
            dashboard_factory=cmc.DefaultDashboardFactory(
                self, "Dashboards", dashboard_name_prefix=self.dashboard_name, create_dashboard=True
            ),
        )
        self.facade.add_large_header(f"Serverless chat ({config.stage})")
        self.delivery_metrics = DeliveryMetrics(
            self, "DeliveryMetrics", stage=config.stage, fanout_log_group=fanout_log_group
        )
        self._business_metrics()
        self._websocket_api(api_id=api_id, stage_name=stage_name)
        for name, state_machine in workflows.items():
            self._workflow(name, state_machine)
        for function in route_handlers:
            self._function(function, max_errors=self._settings.handler_errors)
        # SendConnectionId raises ConnectionGone when a new connection stays unopened for about a second (the
        # handshake's Retry posts again), and Lambda counts each as an error: its threshold allows for it.
        for function in task_functions:
            self._function(function, max_errors=self._settings.task_errors)

    @property
    def alarm_arns(self) -> list[str]:
        """Every alarm of this stage: the only sources CloudWatch may publish to the alarm topic for."""
        return [created.alarm.alarm_arn for created in self.facade.created_alarms()]

    def _alarm_topic(self) -> sns.Topic:
        # A key of our own: CloudWatch alarms cannot publish to a topic encrypted with the AWS managed SNS key,
        # whose policy cannot grant cloudwatch.amazonaws.com (ChatStack grants it on this key).
        self.alarm_key = kms.Key(
            self,
            "AlarmTopicKey",
            description=f"Encrypts the chat's alarm notifications ({self._stage})",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.DESTROY,
        )
        topic = sns.Topic(
            self,
            "AlarmTopic",
            display_name=f"Chat-{self._stage} alarms",
            master_key=self.alarm_key,
            enforce_ssl=True,
        )
        for email in self._settings.alarm_emails:
            topic.add_subscription(subscriptions.EmailSubscription(email))
        return topic

    def _business_metrics(self) -> None:
        def metric(name: str, label: str) -> cloudwatch.Metric:
            return _metric(METRICS_NAMESPACE, name, {"service": SERVICE_NAME, "stage": self._stage}, label)

        def delivery_metric(name: str, label: str) -> cloudwatch.Metric:
            return self.delivery_metrics.metric(name, label=label, period=PERIOD)

        accepted = metric("AcceptedMessages", "Accepted messages")
        deliveries = delivery_metric("Deliveries", "Deliveries")
        # Messages were accepted in a period but not one frame was delivered: the delivery path is broken.
        # Accepted is counted by sendMessage, deliveries from the fan-out's log (cdk/delivery_metrics.py).
        nothing_delivered = cloudwatch.MathExpression(
            expression="IF(FILL(accepted, 0) > 0 AND FILL(deliveries, 0) == 0, 1, 0)",
            using_metrics={"accepted": accepted, "deliveries": deliveries},
            period=PERIOD,
            label="Accepted but none delivered",
        )
        self.facade.monitor_custom(
            alarm_friendly_name="Messages",
            human_readable_name="Messages (sendMessage's metrics; deliveries counted from the fan-out's log)",
            metric_groups=[
                cmc.CustomMetricGroup(
                    title="Messages",
                    metrics=[
                        accepted,
                        self._alarmed(nothing_delivered, "NothingDelivered", 0, "messages accepted, none delivered"),
                        deliveries,
                    ],
                ),
                cmc.CustomMetricGroup(
                    title="Not delivered or refused",
                    metrics=[
                        self._alarmed(
                            metric("UnsentMessages", "Unsent (fan-out not started)"),
                            "UnsentMessages",
                            self._settings.unsent_messages,
                            "sendMessage could not start the fan-out; senders were told not_sent",
                        ),
                        self._alarmed(
                            delivery_metric("GoneRecipients", "Gone recipients (410)"),
                            "GoneRecipients",
                            self._settings.gone_recipients,
                            "many deliveries found their connection gone",
                        ),
                        self._alarmed(
                            delivery_metric("FailedDeliveries", "Failed deliveries (not 410)"),
                            "FailedDeliveries",
                            self._settings.failed_deliveries,
                            "posts to @connections failed with errors other than gone, after retries",
                        ),
                        delivery_metric("ThrottledPosts", "Throttled posts (429, each attempt)"),
                        self._alarmed(
                            metric("RejectedInputs", "Rejected frames"),
                            "RejectedInputs",
                            self._settings.rejected_inputs,
                            "many frames were refused as invalid",
                        ),
                    ],
                ),
                cmc.CustomMetricGroup(
                    title="Connections",
                    metrics=[
                        metric("Connections", "Connections"),
                        metric("Disconnections", "Disconnections"),
                        # The $connect authorizer's refusals (bad or expired tokens), on a stage with sign-in.
                        metric("RefusedConnections", "Refused (bad token)"),
                    ],
                ),
            ],
        )

    def _websocket_api(self, *, api_id: str, stage_name: str) -> None:
        def metric(name: str, label: str, statistic: str = "Sum") -> cloudwatch.Metric:
            return _metric("AWS/ApiGateway", name, {"ApiId": api_id, "Stage": stage_name}, label, statistic=statistic)

        self.facade.monitor_custom(
            alarm_friendly_name="WebSocketApi",
            human_readable_name="WebSocket API (raw AWS/ApiGateway metrics: no facade for WebSocket APIs)",
            metric_groups=[
                cmc.CustomMetricGroup(
                    title="Traffic",
                    metrics=[
                        self._alarmed(
                            metric("ConnectCount", "Connects"), "ConnectCount", self._settings.connects, "connects"
                        ),
                        self._alarmed(
                            metric("MessageCount", "Messages (both ways)"),
                            "MessageCount",
                            self._settings.messages,
                            "messages",
                        ),
                    ],
                ),
                cmc.CustomMetricGroup(
                    title="Errors",
                    metrics=[
                        self._alarmed(
                            metric("IntegrationError", "Integration errors"),
                            "IntegrationError",
                            self._settings.integration_errors,
                            "route handlers failed, or answered not_sent (invalid frames are answered 200)",
                        ),
                        self._alarmed(
                            metric("ClientError", "Client errors"),
                            "ClientError",
                            self._settings.client_errors,
                            "API Gateway refused requests before any handler (4XX, throttling)",
                        ),
                        metric("ExecutionError", "Execution errors"),
                    ],
                ),
                cmc.CustomMetricGroup(
                    title="Integration latency",
                    metrics=[
                        metric("IntegrationLatency", "p50", "p50"),
                        metric("IntegrationLatency", "p99", "p99"),
                    ],
                ),
            ],
        )

    def _workflow(self, name: str, state_machine: sfn.StateMachine) -> None:
        # Express workflows publish the execution metrics of AWS/States by StateMachineArn (Step Functions
        # developer guide, "Monitoring Step Functions metrics using Amazon CloudWatch").
        failures = {"Critical": cmc.ErrorCountThreshold(max_error_count=self._settings.workflow_failures)}
        self.facade.monitor_step_function(
            state_machine=state_machine,
            alarm_friendly_name=name,
            human_readable_name=f"{name} (Express)",
            add_failed_execution_count_alarm=failures,
            add_timed_out_execution_count_alarm=failures,
            add_throttled_execution_count_alarm=failures,
        )

    def _function(self, function: lambda_.Function, *, max_errors: int) -> None:
        name = function.node.id
        self.facade.monitor_lambda_function(
            lambda_function=function,
            alarm_friendly_name=name,
            human_readable_name=name,
            is_iterator=False,  # no event-source mapping: no iterator age to chart
            add_fault_count_alarm={"Critical": cmc.ErrorCountThreshold(max_error_count=max_errors)},
            add_throttles_count_alarm={
                "Critical": cmc.ErrorCountThreshold(max_error_count=self._settings.lambda_throttles)
            },
            add_max_latency_alarm={
                "Critical": cmc.LatencyTimeoutPercentageThreshold(
                    max_latency_percentage_of_timeout=self._settings.duration_percent_of_timeout
                )
            },
        )

    @staticmethod
    def _alarmed(
        metric: cloudwatch.Metric | cloudwatch.MathExpression, name: str, threshold: int, what: str
    ) -> cmc.CustomMetricWithAlarm:
        return cmc.CustomMetricWithAlarm(
            metric=metric,
            alarm_friendly_name=name,
            add_alarm={
                "Critical": cmc.CustomThreshold(
                    threshold=threshold,
                    comparison_operator=ABOVE,
                    treat_missing_data_override=NO_DATA_IS_FINE,
                    additional_description=f"More than {threshold} in 5 minutes: {what}. See README, Operating it.",
                )
            },
        )


def _metric(
    namespace: str, name: str, dimensions: dict[str, str], label: str, *, statistic: str = "Sum"
) -> cloudwatch.Metric:
    """A metric over the alarms' 5-minute period (a sum unless told otherwise)."""
    return cloudwatch.Metric(
        namespace=namespace,
        metric_name=name,
        dimensions_map=dimensions,
        statistic=statistic,
        period=PERIOD,
        label=label,
    )
