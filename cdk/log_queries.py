"""Saved CloudWatch Logs Insights queries (AWS::Logs::QueryDefinition) that tell one message's or one
connection's story, and list the deliveries that did not reach their connection.

What makes them work: sendMessage's log lines are Powertools JSON whose ``correlation_id`` is the message id
once it is made (the connection id before); the fan-out execution is named after the message id, so each
history event the state machine logs (one JSON line per event, cdk/delivery_metrics.py) carries it in
``execution_arn`` — every delivery too, as a Map iteration of that execution. Replace MESSAGE_ID or
CONNECTION_ID in the console before running a query.
"""

from collections.abc import Sequence
from typing import Any

from aws_cdk import aws_logs as logs
from constructs import Construct

from cdk.delivery_metrics import DELIVERY_OUTCOMES

MESSAGE_ID = "MESSAGE_ID"
CONNECTION_ID = "CONNECTION_ID"
# Pass states of statemachines/message_fanout.asl.json entered once per connection not reached.
NOT_REACHED_STATES = (DELIVERY_OUTCOMES["GoneRecipients"], DELIVERY_OUTCOMES["FailedDeliveries"])
# History events of a post to @connections (apigateway:invoke) that failed: each attempt, retried or not.
TASK_FAILURES = ("TaskFailed", "TaskTimedOut")


class ChatLogQueries(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        message_log_groups: Sequence[logs.ILogGroup],
        connection_log_groups: Sequence[logs.ILogGroup],
        fanout_log_group: logs.ILogGroup,
    ) -> None:
        super().__init__(scope, construct_id)
        self._folder = f"Chat-{stage}"
        self.by_message_id = self._query(
            "ByMessageId",
            "One message by id",
            message_log_groups,
            # Function lines: level, message, connection_id. Execution lines: the history event (type, state
            # name, Map iteration index, error) and id/previous_event_id, which thread the concurrent
            # iterations apart as the console does.
            fields=[
                "@timestamp",
                "@log",
                "level",
                "message",
                "connection_id",
                "type",
                "details.name",
                "details.index",
                "details.error",
                "id",
                "previous_event_id",
                "@message",
            ],
            filter_statements=[
                f'correlation_id = "{MESSAGE_ID}" or message_id = "{MESSAGE_ID}" or execution_arn like ":{MESSAGE_ID}:"'
            ],
            sort="@timestamp asc",
        )
        self.by_connection_id = self._query(
            "ByConnectionId",
            "One connection by id",
            connection_log_groups,
            fields=["@timestamp", "@log", "level", "message", "routeKey", "status", "type", "@message"],
            # Anywhere in the line: the id is a field of the function logs and the access logs, and part
            # of the execution input the state machines log where execution data is logged (not in prod).
            filter_statements=[f'@message like "{CONNECTION_ID}"'],
            sort="@timestamp asc",
        )
        not_reached = ", ".join(f'"{state}"' for state in NOT_REACHED_STATES)
        task_failures = ", ".join(f'"{event}"' for event in TASK_FAILURES)
        self.failed_deliveries = self._query(
            "FailedDeliveries",
            "Failed deliveries (run over the last hour)",
            [fanout_log_group],
            # The execution is named after the message: the ARN's name part is the message id.
            parse_statements=[r"execution_arn /:express:[^:]+:(?<message_id>[^:]+):/"],
            filter_statements=[
                f'(type = "PassStateEntered" and details.name in [{not_reached}]) or type in [{task_failures}]'
            ],
            sort="@timestamp desc",
            # details.input (which connection) is logged only where execution data are (not on prod).
            display="@timestamp, message_id, type, details.name, details.error, details.cause, details.input",
        )

    def _query(
        self, construct_id: str, title: str, log_groups: Sequence[logs.ILogGroup], **query: Any
    ) -> logs.QueryDefinition:
        return logs.QueryDefinition(
            self,
            construct_id,
            query_definition_name=f"{self._folder}/{title}",
            log_groups=list(log_groups),
            query_string=logs.QueryString(limit=1000, **query),
        )
