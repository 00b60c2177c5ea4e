"""The chat stack: composes the functions, the sign-in (on stages with users), the tables, the WebSocket API and
the workflows, and wires them."""

from typing import Any

from aws_cdk import Aws, CfnOutput, Environment, Stack
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_iam as iam
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from cdk.api_gateway_account import ApiGatewayLogsRole
from cdk.custom_domain import ChatDomain, hosted_zone
from cdk.domain_settings import CLOUDFRONT_CERTIFICATE_REGION
from cdk.functions import ChatFunctions
from cdk.iam_propagation import IamPropagationWait
from cdk.identity import Identity
from cdk.log_queries import ChatLogQueries
from cdk.monitoring import ChatMonitoring
from cdk.nag_suppressions import acknowledge_accepted_findings, acknowledge_web_hosting_findings
from cdk.names import stack_name_for, web_certificate_stack_name_for
from cdk.smoke_access import SmokeTestAccess
from cdk.stage_config import StageConfig
from cdk.tables import ChatTables
from cdk.web_certificate import WebCertificateStack
from cdk.web_config import cognito_auth
from cdk.web_hosting import WebClientHosting
from cdk.websocket_api import ChatWebSocketApi
from cdk.workflows import ChatWorkflows

# The one @connections method the chat calls: POST @connections/{id} sends a frame.
CONNECTIONS_METHOD = "POST"


class ChatStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        web_certificate: acm.ICertificate | None = None,
        smoke_test_account: str | None = None,
        **kwargs,
    ) -> None:
        """``web_certificate``: web.<domain>'s (us-east-1), made by Chat-<stage>-web-certificate when the stage's
        domain is in a hosted zone the stack manages. ``smoke_test_account``: the account whose smoke test may make
        throwaway users of the stage's pool (the pipeline's, when it is not the stage's own; None: the stage's)."""
        super().__init__(scope, construct_id, description=f"Serverless real-time chat ({config.stage})", **kwargs)
        functions = ChatFunctions(self, "Functions", config=config)
        identity = Identity(self, "Identity", config=config, functions=functions) if config.has_users else None
        tables = ChatTables(self, "Tables", config=config)
        websocket = ChatWebSocketApi(
            self,
            "WebSocket",
            config=config,
            on_connect=functions.on_connect,
            on_disconnect=functions.on_disconnect,
            on_default=functions.on_default,
            actions=functions.actions,
            connect_authorizer=identity.authorizer if identity else None,
        )
        workflows = ChatWorkflows(
            self,
            "Workflows",
            config=config,
            send_connection_id=functions.send_connection_id,
            pack_history=functions.pack_history,
            connections_api_endpoint=websocket.execute_api_endpoint,
            connections_stage=websocket.stage.stage_name,
            tables=tables,
        )
        logs_role = self._api_gateway_logs_role(config=config, websocket=websocket)
        self._wait_for_new_roles(config=config, workflows=workflows, logs_role=logs_role)
        monitoring = ChatMonitoring(
            self,
            "Monitoring",
            config=config,
            api_id=websocket.api.api_id,
            stage_name=websocket.stage.stage_name,
            route_handlers=[
                *([identity.authorizer_function] if identity else []),
                functions.on_connect,
                functions.on_disconnect,
                functions.on_default,
                *dict.fromkeys(functions.actions.values()),  # a function routed several actions, once
            ],
            task_functions=[functions.send_connection_id, functions.pack_history],
            workflows={
                "ConnectionHandshake": workflows.connection_handshake,
                "MessageFanout": workflows.message_fanout,
                "ConnectionCleanup": workflows.connection_cleanup,
                "HistoryPage": workflows.history_page,
                "RoomFanout": workflows.room_fanout,
                "UserRemoval": workflows.user_removal,
                "ConversationList": workflows.list_conversations,
                "RoomChange": workflows.room_change,
                "RoomListing": workflows.room_listing,
            },
            fanout_log_group=workflows.log_groups["MessageFanout"],
        )
        ChatLogQueries(
            self,
            "LogQueries",
            stage=config.stage,
            message_log_groups=[functions.send_message.log_group, workflows.log_groups["MessageFanout"]],
            connection_log_groups=[
                *(function.log_group for function in functions.all),
                *workflows.log_groups.values(),
                websocket.access_logs,
            ],
            fanout_log_group=workflows.log_groups["MessageFanout"],
        )
        self._wire(functions=functions, websocket=websocket, workflows=workflows, tables=tables, identity=identity)
        self._grant_permissions(
            functions=functions,
            websocket=websocket,
            workflows=workflows,
            tables=tables,
            identity=identity,
            monitoring=monitoring,
        )
        acknowledge_accepted_findings(
            self,
            functions=functions.all,
            routes=websocket.routes,
            user_pool=identity.user_pool if identity else None,
            workflows=workflows.all,
            connections_arn=websocket.connections_arn(CONNECTIONS_METHOD),
            posting_roles=[
                functions.send_connection_id.role,
                workflows.message_fanout.role,
                workflows.history_page.role,
                workflows.room_fanout.role,
                workflows.list_conversations.role,
                workflows.room_change.role,
                workflows.room_listing.role,
            ],
            workflow_tasks={
                workflows.connection_handshake: functions.send_connection_id,
                workflows.history_page: functions.pack_history,
            },
            api_gateway_logs_role=logs_role.role if logs_role else None,
        )

        websocket_url = self._front_door(
            config=config, websocket=websocket, identity=identity, web_certificate=web_certificate
        )

        # Kept: a pipeline stage hands this output to its smoke test.
        self.websocket_url_output = CfnOutput(self, "WebSocketUrl", value=websocket_url)
        CfnOutput(self, "CallbackUrl", value=websocket.callback_url)
        CfnOutput(self, "ConnectionHandshakeArn", value=workflows.connection_handshake.state_machine_arn)
        CfnOutput(self, "MessageFanoutArn", value=workflows.message_fanout.state_machine_arn)
        CfnOutput(self, "ConnectionCleanupArn", value=workflows.connection_cleanup.state_machine_arn)
        CfnOutput(self, "HistoryPageArn", value=workflows.history_page.state_machine_arn)
        CfnOutput(self, "RoomFanoutArn", value=workflows.room_fanout.state_machine_arn)
        # Kept: `python -m cdk.operations.delete_user` starts it after deleting a user from the pool.
        CfnOutput(self, "UserRemovalArn", value=workflows.user_removal.state_machine_arn)
        CfnOutput(self, "RoomChangeArn", value=workflows.room_change.state_machine_arn)
        CfnOutput(self, "RoomListingArn", value=workflows.room_listing.state_machine_arn)
        # Kept too (None on a stage without sign-in): the smoke test signs in a throwaway user of the pool.
        self.identity = identity
        self.user_pool_id_output = self.user_pool_client_id_output = self.smoke_access = None
        if identity is not None:
            self.smoke_access = SmokeTestAccess(
                self,
                "SmokeTest",
                stage=config.stage,
                user_pool=identity.user_pool,
                trusted_account=smoke_test_account or Aws.ACCOUNT_ID,
            )
            # What clients sign in with (`make token`, the web client): InitiateAuth on this pool's app client.
            self.user_pool_id_output = CfnOutput(self, "UserPoolId", value=identity.user_pool.user_pool_id)
            self.user_pool_client_id_output = CfnOutput(
                self, "UserPoolClientId", value=identity.client.user_pool_client_id
            )

    def _front_door(
        self,
        *,
        config: StageConfig,
        websocket: ChatWebSocketApi,
        identity: Identity | None,
        web_certificate: acm.ICertificate | None,
    ) -> str:
        """Where clients come in: the API on the stage's domain when it has one, and the web client hosted with the
        stage (on web.<domain> then). Returns the WebSocket URL clients use."""
        domain = config.domain
        zone = hosted_zone(self, domain) if domain else None
        websocket_url = websocket.stage.url
        if domain:
            front = ChatDomain(self, "Domain", domain=domain, zone=zone, api=websocket.api, stage=websocket.stage)
            websocket_url = front.url
            if not zone:  # the zone is elsewhere: its records must point here
                web_certificate = acm.Certificate.from_certificate_arn(
                    self, "WebCertificate", domain.web_certificate_arn
                )
                CfnOutput(self, "DomainTarget", value=front.dns_target, description=f"CNAME target of {domain.name}")
        auth = (
            cognito_auth(
                region=self.region,
                user_pool_id=identity.user_pool.user_pool_id,
                client_id=identity.client.user_pool_client_id,
                self_sign_up=config.cognito.self_sign_up,
            )
            if identity
            else None
        )
        web = WebClientHosting(
            self,
            "WebClient",
            config=config,
            websocket_url=websocket_url,
            auth=auth,
            certificate=web_certificate,
            zone=zone,
        )
        if domain and not zone:
            CfnOutput(
                self,
                "WebDomainTarget",
                value=web.distribution.distribution_domain_name,
                description=f"CNAME target of {domain.web_name}",
            )
        CfnOutput(self, "WebUrl", value=web.url)
        acknowledge_web_hosting_findings(web, custom_certificate=web_certificate is not None)
        return websocket_url

    def _api_gateway_logs_role(self, *, config: StageConfig, websocket: ChatWebSocketApi) -> ApiGatewayLogsRole | None:
        """The account's API Gateway logging role, unless the stage says the account already has one."""
        if not config.creates_api_gateway_logs_role:
            return None
        logs_role = ApiGatewayLogsRole(self, "ApiGatewayLogsRole", after=websocket.api.node.default_child)
        # An access-logged stage is refused until the account names the role (aws/aws-cdk#10722).
        websocket.stage.node.add_dependency(logs_role.account)
        return logs_role

    def _wait_for_new_roles(
        self, *, config: StageConfig, workflows: ChatWorkflows, logs_role: ApiGatewayLogsRole | None
    ) -> None:
        """What checks a role when it is created waits until the role has propagated (cdk/iam_propagation.py)."""
        state_machines = list(workflows.all)
        roles = [state_machine.role for state_machine in state_machines]
        checking = [state_machine.node.default_child for state_machine in state_machines]
        if logs_role is not None:
            roles.append(logs_role.role)
            checking.append(logs_role.account)
        IamPropagationWait(self, "IamPropagation", config=config, roles=roles).before(*checking)

    @staticmethod
    def _wire(
        *,
        functions: ChatFunctions,
        websocket: ChatWebSocketApi,
        workflows: ChatWorkflows,
        tables: ChatTables,
        identity: Identity | None,
    ) -> None:
        functions.on_connect.add_environment(
            "HANDSHAKE_STATE_MACHINE_ARN", workflows.connection_handshake.state_machine_arn
        )
        functions.on_disconnect.add_environment(
            "CLEANUP_STATE_MACHINE_ARN", workflows.connection_cleanup.state_machine_arn
        )
        functions.send_message.add_environment("FANOUT_STATE_MACHINE_ARN", workflows.message_fanout.state_machine_arn)
        functions.history.add_environment("HISTORY_STATE_MACHINE_ARN", workflows.history_page.state_machine_arn)
        functions.list_conversations.add_environment(
            "CONVERSATIONS_STATE_MACHINE_ARN", workflows.list_conversations.state_machine_arn
        )
        functions.rooms.add_environment("ROOM_CHANGE_STATE_MACHINE_ARN", workflows.room_change.state_machine_arn)
        functions.rooms.add_environment("ROOM_LISTING_STATE_MACHINE_ARN", workflows.room_listing.state_machine_arn)
        functions.send_connection_id.add_environment("CALLBACK_URL", websocket.callback_url)
        functions.on_default.add_environment("VALID_ACTIONS", ",".join(websocket.actions))
        if identity is not None:
            identity.authorizer_function.add_environment("USER_POOL_ID", identity.user_pool.user_pool_id)
            identity.authorizer_function.add_environment("USER_POOL_CLIENT_ID", identity.client.user_pool_client_id)
            # sendMessage checks recipient users (chat/directory.py): only on a stage with users.
            functions.send_message.add_environment("USERS_TABLE_NAME", tables.users.table_name)
            functions.send_message.add_environment("USER_POOL_ID", identity.user_pool.user_pool_id)

    @staticmethod
    def _grant_permissions(
        *,
        functions: ChatFunctions,
        websocket: ChatWebSocketApi,
        workflows: ChatWorkflows,
        tables: ChatTables,
        identity: Identity | None,
        monitoring: ChatMonitoring,
    ) -> None:
        """Every permission between the parts, and nothing broader. The authorizer gets none: it verifies tokens
        with the pool's public keys, fetched over HTTPS, and calls no AWS API."""
        workflows.connection_handshake.grant_start_execution(functions.on_connect)
        workflows.message_fanout.grant_start_execution(functions.send_message)
        workflows.connection_cleanup.grant_start_execution(functions.on_disconnect)
        workflows.history_page.grant_start_execution(functions.history)
        workflows.list_conversations.grant_start_execution(functions.list_conversations)
        workflows.room_change.grant_start_execution(functions.rooms)
        workflows.room_listing.grant_start_execution(functions.rooms)
        functions.send_connection_id.grant_invoke(workflows.connection_handshake)
        functions.pack_history.grant_invoke(workflows.history_page)
        # Each workflow touches only the items (and the index) its steps name; the actions are exact, on the
        # table's own ARN (Table.grant would add its indexes too).
        registry, users = tables.connections.table_arn, tables.users.table_arn
        _allow(workflows.connection_handshake, ["dynamodb:PutItem", "dynamodb:DeleteItem"], registry)
        _allow(workflows.connection_handshake, ["dynamodb:UpdateItem"], users)
        _allow(workflows.message_fanout, ["dynamodb:Query"], tables.username_index_arn)
        _allow(workflows.message_fanout, ["dynamodb:PutItem"], tables.messages.table_arn)
        # A message to a room: the sender's membership, the room's members, their live connections.
        _allow(workflows.message_fanout, ["dynamodb:GetItem", "dynamodb:Query"], tables.memberships.table_arn)
        _allow(workflows.message_fanout, ["dynamodb:BatchGetItem"], users)
        # Presence: a user's first connection opening and last closing (or found gone by the fan-out) are announced.
        _allow_starting(workflows.room_fanout, by=workflows.connection_handshake)
        _allow_starting(workflows.room_fanout, by=workflows.connection_cleanup)
        _allow_starting(workflows.connection_cleanup, by=workflows.message_fanout)
        _allow(workflows.room_fanout, ["dynamodb:Query"], tables.member_index_arn)
        _allow(workflows.room_fanout, ["dynamodb:Query"], tables.memberships.table_arn)
        _allow(workflows.room_fanout, ["dynamodb:BatchGetItem"], users)
        # Deleting a user: each membership with its room's count (one transaction per room), then their items.
        _allow_starting(workflows.room_fanout, by=workflows.user_removal)
        _allow(workflows.user_removal, ["dynamodb:Query"], tables.member_index_arn)
        _allow(workflows.user_removal, ["dynamodb:DeleteItem"], tables.memberships.table_arn)
        _allow(workflows.user_removal, ["dynamodb:UpdateItem"], tables.rooms.table_arn)
        _allow(workflows.user_removal, ["dynamodb:Query"], tables.username_index_arn)
        _allow(workflows.user_removal, ["dynamodb:DeleteItem"], registry)
        _allow(workflows.user_removal, ["dynamodb:DeleteItem"], users)
        # history_page reads one conversation per request (the key condition names it; IAM cannot: it is known
        # at run time only).
        _allow(workflows.history_page, ["dynamodb:Query"], tables.messages.table_arn)
        _allow(workflows.history_page, ["dynamodb:GetItem"], tables.memberships.table_arn)  # a room's: members only
        _allow(workflows.connection_cleanup, ["dynamodb:GetItem", "dynamodb:DeleteItem"], registry)
        _allow(workflows.connection_cleanup, ["dynamodb:UpdateItem"], users)
        # A user's list of direct conversations: only the fan-out moves it forward (UpdateItem, never Put or Delete),
        # only list_conversations reads it (one user's partition per request, named by the key condition).
        _allow(workflows.message_fanout, ["dynamodb:UpdateItem"], tables.conversations.table_arn)
        _allow(workflows.list_conversations, ["dynamodb:Query"], tables.conversations.table_arn)
        # room_change: one transaction per change (TransactWriteItems is authorized per item action: Put and
        # ConditionCheck of a membership, Delete of one, Update of the room's and the user's counts), the room's
        # policy and the invitee read, and the members' live connections (a query, then BatchGetItem).
        rooms, memberships = tables.rooms.table_arn, tables.memberships.table_arn
        _allow(workflows.room_change, ["dynamodb:UpdateItem", "dynamodb:GetItem"], rooms)
        _allow(
            workflows.room_change,
            ["dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:ConditionCheckItem", "dynamodb:Query"],
            memberships,
        )
        _allow(workflows.room_change, ["dynamodb:UpdateItem", "dynamodb:GetItem", "dynamodb:BatchGetItem"], users)
        # room_listing only reads: the caller's rooms (the by_member index), a room's members, and their items.
        _allow(workflows.room_listing, ["dynamodb:Query"], tables.member_index_arn)
        _allow(workflows.room_listing, ["dynamodb:Query", "dynamodb:GetItem"], memberships)
        _allow(workflows.room_listing, ["dynamodb:BatchGetItem"], rooms)
        _allow(workflows.room_listing, ["dynamodb:BatchGetItem"], users)
        if identity is not None:
            # sendMessage checks the names in recipient_users: the directory, then Cognito, in this pool only.
            _allow(functions.send_message, ["dynamodb:BatchGetItem"], users)
            _allow(functions.send_message, ["cognito-idp:AdminGetUser"], identity.user_pool.user_pool_arn)
        # POST only (stage.grant_management_api_access would allow every method: GET, and DELETE, which
        # disconnects a client). Connection ids are known at run time only, hence @connections/*.
        # message_fanout posts with apigateway:invoke signed by its own role; API Gateway authorizes
        # @connections calls with execute-api:ManageConnections, not Invoke (API Gateway developer guide,
        # "Control access to WebSocket APIs with IAM authorization").
        posters = (
            functions.send_connection_id,
            workflows.message_fanout,
            workflows.history_page,
            workflows.room_fanout,
            workflows.list_conversations,
            workflows.room_change,
            workflows.room_listing,
        )
        for poster in posters:
            iam.Grant.add_to_principal(
                grantee=poster,
                actions=["execute-api:ManageConnections"],
                resource_arns=[websocket.connections_arn(CONNECTIONS_METHOD)],
            )
        if monitoring.alarm_topic is not None:
            cloudwatch = iam.ServicePrincipal("cloudwatch.amazonaws.com")
            # enforce_ssl gives the topic a policy of its own, which replaces SNS's default one: CloudWatch may
            # publish only because of this statement, and only for this account's alarms of this stage (SNS
            # developer guide, "Amazon SNS access control case examples": aws:SourceAccount, aws:SourceArn).
            monitoring.alarm_topic.add_to_resource_policy(
                iam.PolicyStatement(
                    principals=[cloudwatch],
                    actions=["sns:Publish"],
                    resources=[monitoring.alarm_topic.topic_arn],
                    conditions={
                        "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
                        "ArnEquals": {"aws:SourceArn": monitoring.alarm_arns},
                    },
                )
            )
            # CloudWatch alarms publish to the encrypted alarm topic: the key statement AWS documents for it (SNS
            # developer guide, "Enable compatibility between event sources from AWS services and encrypted topics").
            monitoring.alarm_key.grant(cloudwatch, "kms:Decrypt", "kms:GenerateDataKey*")


def _allow(grantee: iam.IGrantable, actions: list[str], resource_arn: str) -> None:
    iam.Grant.add_to_principal(grantee=grantee, actions=actions, resource_arns=[resource_arn])


def _allow_starting(started: sfn.StateMachine, *, by: sfn.StateMachine) -> None:
    """A workflow that starts another, in a policy of its own: in the role's default policy, the started state
    machine's ARN would make it wait for the IAM propagation wait, which waits for that policy (a cycle), and starting
    is needed only when executions run, not when the state machines are created."""
    iam.Policy(
        by,
        f"Starts{started.node.id}",
        statements=[iam.PolicyStatement(actions=["states:StartExecution"], resources=[started.state_machine_arn])],
        roles=[by.role],
    )


def add_chat_stack(scope: Construct, config: StageConfig, **kwargs: Any) -> ChatStack:
    """The stack of a stage, built the same way by the app (``make deploy``) and by each pipeline stage; with a domain
    in a hosted zone, after Chat-<stage>-web-certificate in us-east-1 (cdk/web_certificate.py)."""
    name = stack_name_for(config.stage)
    if not (config.domain and config.domain.in_hosted_zone):
        return ChatStack(scope, name, stack_name=name, config=config, **kwargs)
    certificate_name = web_certificate_stack_name_for(config.stage)
    certificate = WebCertificateStack(
        scope,
        certificate_name,
        stack_name=certificate_name,
        domain=config.domain,
        env=Environment(account=config.account, region=CLOUDFRONT_CERTIFICATE_REGION),
    )
    stack = ChatStack(
        scope,
        name,
        stack_name=name,
        config=config,
        web_certificate=certificate.certificate,
        cross_region_references=True,
        **kwargs,
    )
    return stack
