"""Saved CloudWatch Logs Insights queries (AWS::Logs::QueryDefinition) that tell one message's or one
connection's story, and list the deliveries that did not reach their connection.

What makes them work: every function log line is Powertools JSON whose ``correlation_id`` is the message id
for anything about a message (sendMessage after it made the id, each DeliverMessage) and the connection id
otherwise; the fan-out execution is named after the message id, so each line the state machine logs carries it
in ``execution_arn``. Replace MESSAGE_ID or CONNECTION_ID in the console before running a query.
"""

from collections.abc import Sequence

from aws_cdk import aws_logs as logs
from constructs import Construct

MESSAGE_ID = "MESSAGE_ID"
CONNECTION_ID = "CONNECTION_ID"
# Pass states of statemachines/message_fanout.asl.json entered once per connection not reached.
NOT_REACHED_STATES = ("RecipientGone", "DeliveryFailed")


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
        folder = f"Chat-{stage}"
        self.by_message_id = logs.QueryDefinition(
            self,
            "ByMessageId",
            query_definition_name=f"{folder}/One message by id",
            log_groups=list(message_log_groups),
            query_string=logs.QueryString(
                fields=["@timestamp", "@log", "level", "message", "type", "details.name", "connection_id", "@message"],
                filter_statements=[
                    f'correlation_id = "{MESSAGE_ID}" or message_id = "{MESSAGE_ID}" '
                    f'or execution_arn like ":{MESSAGE_ID}:"'
                ],
                sort="@timestamp asc",
                limit=1000,
            ),
        )
        self.by_connection_id = logs.QueryDefinition(
            self,
            "ByConnectionId",
            query_definition_name=f"{folder}/One connection by id",
            log_groups=list(connection_log_groups),
            query_string=logs.QueryString(
                fields=["@timestamp", "@log", "level", "message", "routeKey", "status", "type", "@message"],
                # Anywhere in the line: the id is a field of the function logs and the access logs, and part
                # of the execution input the state machines log where execution data is logged (not in prod).
                filter_statements=[f'@message like "{CONNECTION_ID}"'],
                sort="@timestamp asc",
                limit=1000,
            ),
        )
        self.failed_deliveries = logs.QueryDefinition(
            self,
            "FailedDeliveries",
            query_definition_name=f"{folder}/Failed deliveries (run over the last hour)",
            log_groups=[fanout_log_group],
            query_string=logs.QueryString(
                # The execution is named after the message: the ARN's name part is the message id.
                parse_statements=[r"execution_arn /:express:[^:]+:(?<message_id>[^:]+):/"],
                filter_statements=[
                    'type = "PassStateEntered" and details.name in '
                    + "["
                    + ", ".join(f'"{state}"' for state in NOT_REACHED_STATES)
                    + "]"
                ],
                sort="@timestamp desc",
                limit=1000,
                display="@timestamp, message_id, details.name, details.input",
            ),
        )
