"""The DynamoDB tables of cdk/data_model.py: the connection registry, the user directory, the message history, the
rooms with their memberships, and each user's conversations, on demand, with point-in-time recovery. The registry
and the directory hold what can be rebuilt (connections reconnect; users are Cognito's and are written again on
their next connect), so they are deleted with the stack on every stage. The history, the rooms and memberships
and the conversations cannot be rebuilt: a stage's ``history.retain_table`` (true on prod) keeps them when the
stack is destroyed, and messages expire (TTL) ``history.retention_days`` after they were sent. (A user's
``room_count`` is in the directory: after a destroy and redeploy that kept the memberships, it restarts at 0.)

The registry's items expire (DynamoDB TTL) after API Gateway's 2-hour connection lifetime, so that an item
whose $disconnect never came goes. DynamoDB deletes an expired item typically within a few days, and until then
reads still return it ("Working with expired items and time to live (TTL)"): nothing relies on expiry; a post
to a connection that is gone answers 410, and the fan-out removes its item then.
"""

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from cdk.data_model import (
    CONNECTIONS,
    CONVERSATIONS,
    MEMBER_INDEX,
    MEMBERSHIPS,
    MESSAGES,
    ROOMS,
    USERNAME_INDEX,
    USERS,
    TableDesign,
)
from cdk.stage_config import StageConfig

_TYPES = {"S": dynamodb.AttributeType.STRING, "N": dynamodb.AttributeType.NUMBER, "B": dynamodb.AttributeType.BINARY}


class ChatTables(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig) -> None:
        super().__init__(scope, construct_id)
        self.connections = self._table("Connections", CONNECTIONS)
        self.users = self._table("Users", USERS)
        self.messages = self._table("Messages", MESSAGES, removal_policy=config.history.removal_policy)
        self.username_index = USERNAME_INDEX.name
        self.username_index_arn = f"{self.connections.table_arn}/index/{USERNAME_INDEX.name}"
        # Rooms and memberships are what users chose and cannot be rebuilt, as the history: kept as it is kept.
        self.rooms = self._table("Rooms", ROOMS, removal_policy=config.history.removal_policy)
        self.memberships = self._table("Memberships", MEMBERSHIPS, removal_policy=config.history.removal_policy)
        self.member_index = MEMBER_INDEX.name
        self.member_index_arn = f"{self.memberships.table_arn}/index/{MEMBER_INDEX.name}"
        # A user's conversations are rebuilt from nothing but the history: kept as it is kept.
        self.conversations = self._table("Conversations", CONVERSATIONS, removal_policy=config.history.removal_policy)

    def _table(
        self, construct_id: str, design: TableDesign, *, removal_policy: RemovalPolicy = RemovalPolicy.DESTROY
    ) -> dynamodb.Table:
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
            removal_policy=removal_policy,
        )
        for index in design.indexes:
            table.add_global_secondary_index(
                index_name=index.name,
                partition_key=attribute(index.partition_key),
                sort_key=attribute(index.sort_key) if index.sort_key else None,
                projection_type=dynamodb.ProjectionType(index.projection),
            )
        return table
