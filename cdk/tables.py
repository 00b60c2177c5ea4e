"""The DynamoDB tables of cdk/data_model.py: the connection registry and the user directory, on demand, with
point-in-time recovery. Both hold what can be rebuilt (connections reconnect; users are Cognito's and are
written again on their next connect), so they are deleted with the stack on every stage.

The registry's items expire (DynamoDB TTL) after API Gateway's 2-hour connection lifetime, so that an item
whose $disconnect never came goes. DynamoDB deletes an expired item typically within a few days, and until then
reads still return it ("Working with expired items and time to live (TTL)"): nothing relies on expiry; a post
to a connection that is gone answers 410, and the fan-out removes its item then.
"""

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from cdk.data_model import CONNECTIONS, USERNAME_INDEX, USERS, TableDesign

_TYPES = {"S": dynamodb.AttributeType.STRING, "N": dynamodb.AttributeType.NUMBER, "B": dynamodb.AttributeType.BINARY}


class ChatTables(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.connections = self._table("Connections", CONNECTIONS)
        self.users = self._table("Users", USERS)
        self.username_index = USERNAME_INDEX.name
        self.username_index_arn = f"{self.connections.table_arn}/index/{USERNAME_INDEX.name}"

    def _table(self, construct_id: str, design: TableDesign) -> dynamodb.Table:
        def attribute(name: str) -> dynamodb.Attribute:
            return dynamodb.Attribute(name=name, type=_TYPES[design.attribute_types[name]])

        table = dynamodb.Table(
            self,
            construct_id,
            partition_key=attribute(design.partition_key),
            sort_key=attribute(design.sort_key) if design.sort_key else None,
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            time_to_live_attribute=design.ttl_attribute,
            removal_policy=RemovalPolicy.DESTROY,
        )
        for index in design.indexes:
            table.add_global_secondary_index(
                index_name=index.name,
                partition_key=attribute(index.partition_key),
                sort_key=attribute(index.sort_key) if index.sort_key else None,
                projection_type=dynamodb.ProjectionType(index.projection),
            )
        return table
