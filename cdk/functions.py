"""The Lambda functions: the WebSocket route handlers (the five room actions share one), the handshake's task and
history's packing task, from one code asset (and, on a stage with sign-in, the $connect authorizer, which
cdk/identity.py adds with its layer)."""

from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from cdk.paths import LAMBDAS_DIR
from cdk.pins import pinned_version
from cdk.stage_config import StageConfig

RUNTIME = lambda_.Runtime.PYTHON_3_13
PYTHON_VERSION = RUNTIME.name.removeprefix("python")  # "3.13": what layers are built for (cdk/layers.py)
ARCHITECTURE = lambda_.Architecture.ARM_64
# The aws-lambda-powertools version pyproject.toml pins, so deployed and tested code match.
POWERTOOLS_VERSION = pinned_version("aws-lambda-powertools")
# The layer AWS publishes for this version, runtime and architecture (read by `make preflight` too).
POWERTOOLS_LAYER_PARAMETER = f"/aws/service/powertools/python/{ARCHITECTURE.name}/{RUNTIME.name}/{POWERTOOLS_VERSION}"
METRICS_NAMESPACE = "ServerlessChat"
SERVICE_NAME = "chat"  # POWERTOOLS_SERVICE_NAME: the metrics' "service" dimension
# Every function's timeout, also handed to the function (FUNCTION_TIMEOUT_SECONDS): its AWS clients check
# at cold start that they give up before it (lambdas/chat/clients.py).
FUNCTION_TIMEOUT = Duration.seconds(15)
# The room frames, all routed to lambdas/rooms.py (its chat.rooms.ACTIONS; a unit test keeps the two the same).
ROOM_ACTIONS = ("joinRoom", "leaveRoom", "inviteToRoom", "listRooms", "roomMembers")


class ChatFunctions(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig) -> None:
        super().__init__(scope, construct_id)
        self._config = config
        self._code = lambda_.Code.from_asset(str(LAMBDAS_DIR), exclude=["**/__pycache__", "**/*.pyc"])
        self._powertools = lambda_.LayerVersion.from_layer_version_arn(
            self,
            "PowertoolsLayer",
            ssm.StringParameter.value_for_string_parameter(self, POWERTOOLS_LAYER_PARAMETER),
        )
        self.all: list[lambda_.Function] = []  # every function, as add creates them
        self.on_connect = self.add("OnConnect", "on_connect", "Starts the connection handshake workflow")
        self.on_disconnect = self.add("OnDisconnect", "on_disconnect", "Starts the cleanup of closed connections")
        self.on_default = self.add("OnDefault", "on_default", "Answers frames with no known action")
        self.send_message = self.add("SendMessage", "send_message", "Validates a message, starts its fan-out")
        # The actions a client names in a frame's "action", each routed to its own function (the API gets one
        # route per entry, and $default lists them). A new action: its handler module and one entry here.
        # sendMessage fixes each stored message's expiry before the fan-out starts (a second execution writes the
        # same item); history refuses a page larger than the stage allows.
        self.send_message.add_environment("HISTORY_RETENTION_DAYS", str(config.history.retention_days))
        self.history = self.add("History", "history", "Validates a history request, starts its page's workflow")
        self.history.add_environment("HISTORY_MAX_PAGE", str(config.history.max_page))
        self.list_conversations = self.add(
            "ListConversations", "list_conversations", "Starts the workflow listing a user's direct conversations"
        )
        # The room frames share one function; it starts room_change or room_listing (lambdas/rooms.py).
        self.rooms = self.add("Rooms", "rooms", "Validates a room request, starts its workflow")
        self.actions: dict[str, lambda_.Function] = {
            "sendMessage": self.send_message,
            "history": self.history,
            "listConversations": self.list_conversations,
            **dict.fromkeys(ROOM_ACTIONS, self.rooms),
        }
        self.send_connection_id = self.add(
            "SendConnectionId", "send_connection_id", "Tells a new client its connection id"
        )
        self.pack_history = self.add("PackHistory", "pack_history", "Packs a history page into frames under 32 KB")

    def add(
        self, construct_id: str, module: str, description: str, *, layers: tuple[lambda_.ILayerVersion, ...] = ()
    ) -> lambda_.Function:
        """A function of lambdas/<module>.py (its ``handler``), with a role and a log group of its own; ``layers``
        beside Powertools'."""
        log_group = logs.LogGroup(
            self,
            f"{construct_id}Logs",
            retention=self._config.log_retention,
            removal_policy=self._config.log_removal_policy,
        )
        # A role of its own, writing only to its own log group (instead of AWSLambdaBasicExecutionRole).
        role = iam.Role(
            self,
            f"{construct_id}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"{construct_id}: {description}",
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[log_group.log_group_arn],
            )
        )
        function = lambda_.Function(
            self,
            construct_id,
            description=description,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler=f"{module}.handler",
            code=self._code,
            layers=[self._powertools, *layers],
            role=role,
            log_group=log_group,
            memory_size=256,
            timeout=FUNCTION_TIMEOUT,
            tracing=lambda_.Tracing.ACTIVE,
            environment={
                "STAGE": self._config.stage,
                "POWERTOOLS_SERVICE_NAME": SERVICE_NAME,
                "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
                "POWERTOOLS_LOG_LEVEL": self._config.log_level,
                "FUNCTION_TIMEOUT_SECONDS": str(int(FUNCTION_TIMEOUT.to_seconds())),
            },
        )
        self.all.append(function)
        return function
