"""The Express state machines, from statemachines/*.asl.json (cdk/definitions.py) with definition substitutions."""

from aws_cdk import Aws, Fn, Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from cdk.definitions import deployed_definition
from cdk.stage_config import StageConfig
from cdk.tables import ChatTables

# Step Functions' own prefix for its log groups ("vended logs"), read by `make preflight` too.
STATE_MACHINE_LOGS_PREFIX = "/aws/vendedlogs/states/"


class ChatWorkflows(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        send_connection_id: lambda_.IFunction,
        pack_history: lambda_.IFunction,
        connections_api_endpoint: str,
        connections_stage: str,
        tables: ChatTables,
    ) -> None:
        """``connections_api_endpoint``/``connections_stage``: where message_fanout posts to @connections;
        ``tables``: the connection registry, the user directory and the history the workflows read and write."""
        super().__init__(scope, construct_id)
        self._config = config
        self.log_groups: dict[str, logs.LogGroup] = {}  # construct id of each state machine -> its log group
        registry = {"ConnectionsTable": tables.connections.table_name}
        posting = {"ConnectionsApiEndpoint": connections_api_endpoint, "ConnectionsStage": connections_stage}
        directory = {"UsersTable": tables.users.table_name}
        # Started by the handshake and the cleanup when a user's first connection opens or their last one closes.
        self.room_fanout = self._express_workflow(
            "RoomFanout",
            "room_fanout",
            {
                **posting,
                **directory,
                "MembershipsTable": tables.memberships.table_name,
                "MemberIndex": tables.member_index,
            },
        )
        presence = {"RoomFanoutArn": self.room_fanout.state_machine_arn}
        self.connection_handshake = self._express_workflow(
            "ConnectionHandshake",
            "connection_handshake",
            {
                "SendConnectionIdFunctionArn": send_connection_id.function_arn,
                **registry,
                **directory,
                **presence,
            },
        )
        # Started by $disconnect, and by the fan-out for a connection whose post answered 410.
        self.connection_cleanup = self._express_workflow(
            "ConnectionCleanup", "connection_cleanup", {**registry, **directory, **presence}
        )
        self.message_fanout = self._express_workflow(
            "MessageFanout",
            "message_fanout",
            {
                **posting,
                **registry,
                "UsernameIndex": tables.username_index,
                "MessagesTable": tables.messages.table_name,
                "ConnectionCleanupArn": self.connection_cleanup.state_machine_arn,
                "ConversationsTable": tables.conversations.table_name,
                # a message to a room: its memberships, and its members' live connections in the user directory
                "MembershipsTable": tables.memberships.table_name,
                "UsersTable": tables.users.table_name,
            },
        )
        self.history_page = self._express_workflow(
            "HistoryPage",
            "history_page",
            {
                **posting,
                "MessagesTable": tables.messages.table_name,
                "MembershipsTable": tables.memberships.table_name,  # a room's history: members only
                "PackHistoryFunctionArn": pack_history.function_arn,
            },
        )
        # Started after Cognito's AdminDeleteUser (local: python -m local users remove; AWS: make delete-user).
        self.user_removal = self._express_workflow(
            "UserRemoval",
            "user_removal",
            {
                **registry,
                **directory,
                **presence,
                "UsernameIndex": tables.username_index,
                "MembershipsTable": tables.memberships.table_name,
                "MemberIndex": tables.member_index,
                "RoomsTable": tables.rooms.table_name,
            },
        )
        self.list_conversations = self._express_workflow(
            "ConversationList",
            "list_conversations",
            {**posting, "ConversationsTable": tables.conversations.table_name},
        )
        # Rooms: room_change changes memberships within the stage's limits and announces it; room_listing reads.
        rooms = {
            "RoomsTable": tables.rooms.table_name,
            "MembershipsTable": tables.memberships.table_name,
            **directory,
        }
        self.room_change = self._express_workflow(
            "RoomChange",
            "room_change",
            {
                **posting,
                **rooms,
                "MaxMembers": str(config.rooms.max_members),
                "MaxRoomsPerUser": str(config.rooms.max_rooms_per_user),
            },
        )
        self.room_listing = self._express_workflow(
            "RoomListing", "room_listing", {**posting, **rooms, "MemberIndex": tables.member_index}
        )
        self.all = [
            self.connection_handshake,
            self.message_fanout,
            self.connection_cleanup,
            self.history_page,
            self.room_change,
            self.room_listing,
            self.room_fanout,
            self.user_removal,
            self.list_conversations,
        ]

    def _express_workflow(self, construct_id: str, asl_name: str, substitutions: dict[str, str]) -> sfn.StateMachine:
        # Express executions reach the console's execution history only through CloudWatch Logs.
        log_group = logs.LogGroup(
            self,
            f"{construct_id}Logs",
            log_group_name=self._log_group_name(asl_name),
            retention=self._config.log_retention,
            removal_policy=self._config.log_removal_policy,
        )
        self.log_groups[construct_id] = log_group
        return sfn.StateMachine(
            self,
            construct_id,
            state_machine_type=sfn.StateMachineType.EXPRESS,
            definition_body=sfn.DefinitionBody.from_string(deployed_definition(asl_name)),
            definition_substitutions=substitutions,
            logs=sfn.LogOptions(
                destination=log_group,
                level=sfn.LogLevel.ALL,
                include_execution_data=self._config.log_execution_data,
            ),
            tracing_enabled=True,
        )

    def _log_group_name(self, asl_name: str) -> str:
        """/aws/vendedlogs/states/<stack>-<workflow>-<stack id's UUID>.

        The /aws/vendedlogs/ prefix keeps the account's CloudWatch Logs resource policy under its 5120
        characters (Step Functions guide, "Avoiding Amazon CloudWatch Logs resource policy size
        restrictions"). The UUID of this stack deployment makes the name new on every deployment, so a
        retained group of a destroyed stack, or of another copy of the stage, never collides with it.
        """
        stack_uuid = Fn.select(2, Fn.split("/", Aws.STACK_ID))
        return f"{STATE_MACHINE_LOGS_PREFIX}{Stack.of(self).stack_name}-{asl_name}-{stack_uuid}"
