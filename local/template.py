"""What the local runtime serves, read from the synthesized CloudFormation template (what `cdk deploy` ships).

Routes lead to integrations, integrations to functions; functions bring their handler, code asset and
environment; state machines their definition and substitutions; DynamoDB tables their keys, indexes and
TTL; the $connect route its authorizer. Intrinsics resolve to local values: a table's name, a user pool's
and an app client's ids are made up here, the same for every read of the same stack.
"""

import base64
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cdk.data_model import IndexDesign, TableDesign
from cdk.definitions import nested_machines
from local.intrinsics import IntrinsicResolver, substitute_definition
from local.template_errors import UnreadableTemplate, UnsupportedTemplate

DEFAULT_REGION = "us-east-1"
DEFAULT_ACCOUNT = "123456789012"  # moto's default account, so its ARNs match ours
URL_SUFFIX = "amazonaws.com"
_LAMBDA_IN_INTEGRATION = re.compile(r":lambda:path/2015-03-31/functions/(?P<arn>.+)/invocations$")
_NO_VALUE = object()
# Resources whose Ref the local runtime answers with the logical id: names nobody calls locally, and
# the ids that tie routes to integrations and route responses to routes.
_REF_IS_LOGICAL_ID = {
    "AWS::ApiGatewayV2::Integration",
    "AWS::ApiGatewayV2::Route",
    "AWS::ApiGatewayV2::RouteResponse",
    "AWS::IAM::Role",
    "AWS::Logs::LogGroup",
    "AWS::ApiGatewayV2::Authorizer",
}
# The identity sources the gateway models (local.apigateway.authorizer): a query-string parameter, a header.
AUTHORIZER_IDENTITY_SOURCES = ("route.request.querystring.", "route.request.header.")
# What the runtime reads of an authorizer; any other property (caching, credentials, validation, JWT) is refused.
_AUTHORIZER_PROPERTIES = {"ApiId", "AuthorizerType", "AuthorizerUri", "IdentitySource", "Name"}
# What the runtime passes to moto's CreateUserPool and CreateUserPoolClient; the other properties (messages,
# verification, tiers, deletion protection) have no local meaning: no mail or SMS is sent here.
_USER_POOL_SETTINGS = ("Policies", "UsernameConfiguration", "AdminCreateUserConfig", "AccountRecoverySetting")
_USER_POOL_CLIENT_SETTINGS = (
    "ExplicitAuthFlows",
    "GenerateSecret",
    "PreventUserExistenceErrors",
    "EnableTokenRevocation",
    "IdTokenValidity",
    "AccessTokenValidity",
    "RefreshTokenValidity",
    "TokenValidityUnits",
)
# What the runtime reads of a table; any other property would change its behaviour, so it is refused.
_TABLE_PROPERTIES = {"KeySchema", "AttributeDefinitions", "GlobalSecondaryIndexes", "TimeToLiveSpecification"}
# Properties with no local meaning (billing, backups, encryption at rest, tags).
_TABLE_PROPERTIES_WITHOUT_LOCAL_MEANING = {
    "TableName",
    "BillingMode",
    "PointInTimeRecoverySpecification",
    "SSESpecification",
    "DeletionProtectionEnabled",
    "Tags",
    "TableClass",
}


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    display_name: str
    name: str
    arn: str
    handler: str
    runtime: str
    code_dir: Path
    environment: dict[str, str]
    timeout_seconds: int
    memory_mb: int


@dataclass(frozen=True)
class StateMachineSpec:
    logical_id: str
    display_name: str
    name: str
    arn: str
    definition: str
    type: str
    role_arn: str


@dataclass(frozen=True)
class AuthorizerSpec:
    """A Lambda REQUEST authorizer (WebSocket APIs authorize $connect only)."""

    logical_id: str
    function: FunctionSpec
    identity_sources: tuple[str, ...]  # route.request.querystring.token, ...


@dataclass(frozen=True)
class RouteSpec:
    route_key: str
    function: FunctionSpec
    returns_response: bool
    authorizer: AuthorizerSpec | None = None


@dataclass(frozen=True)
class TableSpec:
    """An AWS::DynamoDB::Table: what the runtime creates in the Step Functions process's moto."""

    logical_id: str
    display_name: str
    name: str
    arn: str
    design: TableDesign  # keys (AttributeDefinitions' types), indexes, time to live


@dataclass(frozen=True)
class UserPoolSpec:
    """An AWS::Cognito::UserPool: created in the Step Functions process's moto (local.stepfunctions.user_pools).
    ``local_id`` is the id the template's Ref resolves to here; moto gives the pool an id of its own, which the
    runtime puts in its place wherever a function's environment names it."""

    logical_id: str
    display_name: str
    local_id: str
    settings: dict[str, Any]  # CreateUserPool's parameters the template sets that moto models


@dataclass(frozen=True)
class UserPoolClientSpec:
    """An AWS::Cognito::UserPoolClient of one of the stack's pools (``pool`` is its logical id)."""

    logical_id: str
    display_name: str
    local_id: str
    pool: str
    settings: dict[str, Any]  # CreateUserPoolClient's parameters the template sets


@dataclass(frozen=True)
class ThrottleSpec:
    rate_limit: float
    burst_limit: int


@dataclass(frozen=True)
class WebSocketApiSpec:
    logical_id: str
    api_id: str
    name: str
    route_selection_expression: str
    stage: str
    routes: dict[str, RouteSpec] = field(default_factory=dict)
    # The stage's DefaultRouteSettings and RouteSettings throttles (None: the account's defaults).
    throttle: ThrottleSpec | None = None
    route_throttles: dict[str, ThrottleSpec] = field(default_factory=dict)


@dataclass(frozen=True)
class StackModel:
    stack_name: str
    region: str
    account: str
    functions: dict[str, FunctionSpec]
    state_machines: dict[str, StateMachineSpec]
    api: WebSocketApiSpec
    tables: dict[str, TableSpec] = field(default_factory=dict)
    user_pools: dict[str, UserPoolSpec] = field(default_factory=dict)
    user_pool_clients: dict[str, UserPoolClientSpec] = field(default_factory=dict)

    def function(self, name_or_arn: str) -> FunctionSpec | None:
        """Find a function as Lambda's Invoke API does: by name, ARN or partial ARN (qualifier ignored)."""
        name = name_or_arn.split(":function:", 1)[-1].split(":", 1)[0]
        return next((spec for spec in self.functions.values() if spec.name == name), None)

    @property
    def execute_api_origin(self) -> str:
        """Where AWS would serve this API; environment values pointing there are served locally."""
        return f"https://{self.api.api_id}.execute-api.{self.region}.{URL_SUFFIX}"


def load_stack(
    assembly_dir: Path, stack_name: str, *, region: str = DEFAULT_REGION, account: str = DEFAULT_ACCOUNT
) -> StackModel:
    template_path = assembly_dir / f"{stack_name}.template.json"
    if not template_path.is_file():
        raise UnreadableTemplate(f"no template for stack {stack_name} in {assembly_dir}")
    template = _read_json_object(template_path, "a CloudFormation template")
    if not isinstance(template.get("Resources"), dict):
        raise UnreadableTemplate(f"{_shown(template_path)} is not a CloudFormation template: it has no Resources")
    assets = _file_assets(assembly_dir / f"{stack_name}.assets.json")
    try:
        return _TemplateReader(template, stack_name, assembly_dir, assets, region, account).read()
    except UnreadableTemplate as error:
        raise UnreadableTemplate(f"{_shown(template_path)}: {error}") from None
    except UnsupportedTemplate:
        raise
    except (KeyError, TypeError, AttributeError, ValueError) as error:  # a shape synthesis never writes
        raise UnreadableTemplate(f"{_shown(template_path)} cannot be read: {type(error).__name__}: {error}") from None


def _read_json_object(path: Path, what: str) -> dict[str, Any]:
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise UnreadableTemplate(f"{_shown(path)} is not {what}: {error}") from None
    if not isinstance(content, dict):
        raise UnreadableTemplate(f"{_shown(path)} is not {what}: a JSON {type(content).__name__}, not an object")
    return content


def _shown(path: Path) -> str:
    """A path as the user knows it: relative to the project (cdk.out/...), else absolute."""
    try:
        return str(path.relative_to(path.parent.parent))
    except ValueError:
        return str(path)


def _file_assets(manifest_path: Path) -> dict[str, str]:
    """S3 object key of each file asset -> its path in the cloud assembly."""
    if not manifest_path.is_file():
        return {}
    manifest = _read_json_object(manifest_path, "an asset manifest")
    keys = {}
    try:
        for asset in manifest.get("files", {}).values():
            for destination in asset.get("destinations", {}).values():
                keys[destination["objectKey"]] = asset["source"]["path"]
    except (KeyError, TypeError, AttributeError) as error:
        raise UnreadableTemplate(f"{_shown(manifest_path)} cannot be read: {type(error).__name__}: {error}") from None
    return keys


class _TemplateReader:
    def __init__(
        self,
        template: dict[str, Any],
        stack_name: str,
        assembly_dir: Path,
        assets: dict[str, str],
        region: str,
        account: str,
    ):
        self._resources: dict[str, dict[str, Any]] = template.get("Resources", {})
        self._parameters: dict[str, dict[str, Any]] = template.get("Parameters", {})
        self._stack_name = stack_name
        self._assembly_dir = assembly_dir
        self._assets = assets
        self._region = region
        self._account = account
        self._resolver = IntrinsicResolver(
            ref=self._ref, get_att=self._get_att, conditions=template.get("Conditions", {})
        )

    # -- physical ids of resources, as the local runtime names them

    def _function_name(self, logical_id: str) -> str:
        return self._properties(logical_id).get("FunctionName") or f"{self._stack_name}-{logical_id}"[:64]

    def _state_machine_name(self, logical_id: str) -> str:
        return self._properties(logical_id).get("StateMachineName") or f"{self._stack_name}-{logical_id}"[:80]

    def _api_id(self, logical_id: str) -> str:
        digest = hashlib.sha256(f"{self._stack_name}/{logical_id}".encode()).hexdigest()
        return digest[:10]

    def _table_name(self, logical_id: str) -> str:
        return self._properties(logical_id).get("TableName") or f"{self._stack_name}-{logical_id}"[:255]

    def _made_up_id(self, logical_id: str, length: int) -> str:
        """Letters and digits, as Cognito's ids are, the same for every read of this stack."""
        digest = hashlib.sha256(f"{self._stack_name}/{logical_id}".encode()).digest()
        return base64.b32encode(digest).decode("ascii").rstrip("=")[:length]

    def _user_pool_id(self, logical_id: str) -> str:
        return f"{self._region}_{self._made_up_id(logical_id, 9)}"

    def _arn(self, service: str, resource: str, *, region: bool = True) -> str:
        return f"arn:aws:{service}:{self._region if region else ''}:{self._account}:{resource}"

    def _ref(self, name: str) -> Any:
        pseudo = {
            "AWS::Region": self._region,
            "AWS::AccountId": self._account,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": URL_SUFFIX,
            "AWS::StackName": self._stack_name,
            "AWS::StackId": self._arn("cloudformation", f"stack/{self._stack_name}/local"),
            "AWS::NoValue": _NO_VALUE,
        }
        if name in pseudo:
            return pseudo[name]
        if name in self._parameters:
            if "Default" not in self._parameters[name]:
                raise UnsupportedTemplate(f"parameter {name} has no default; the local runtime cannot ask for it")
            return self._parameters[name]["Default"]
        resource_type = self._type(name)
        if resource_type == "AWS::Lambda::Function":
            return self._function_name(name)
        if resource_type == "AWS::StepFunctions::StateMachine":
            return self._arn("states", f"stateMachine:{self._state_machine_name(name)}")
        if resource_type == "AWS::ApiGatewayV2::Api":
            return self._api_id(name)
        if resource_type == "AWS::ApiGatewayV2::Stage":
            return self._properties(name)["StageName"]
        if resource_type == "AWS::DynamoDB::Table":
            return self._table_name(name)
        if resource_type == "AWS::Cognito::UserPool":
            return self._user_pool_id(name)
        if resource_type == "AWS::Cognito::UserPoolClient":
            return self._made_up_id(name, 26).lower()
        if resource_type in _REF_IS_LOGICAL_ID:
            return name
        raise UnsupportedTemplate(f"Ref to resource {name} ({resource_type}) is not supported by the local runtime")

    def _get_att(self, logical_id: str, attribute: str) -> Any:
        resource_type = self._type(logical_id)
        attributes = {
            ("AWS::Lambda::Function", "Arn"): lambda: self._arn(
                "lambda", f"function:{self._function_name(logical_id)}"
            ),
            ("AWS::StepFunctions::StateMachine", "Arn"): lambda: self._ref(logical_id),
            ("AWS::StepFunctions::StateMachine", "Name"): lambda: self._state_machine_name(logical_id),
            ("AWS::IAM::Role", "Arn"): lambda: self._arn("iam", f"role/{logical_id}", region=False),
            ("AWS::Logs::LogGroup", "Arn"): lambda: self._arn("logs", f"log-group:{logical_id}:*"),
            ("AWS::ApiGatewayV2::Api", "ApiId"): lambda: self._api_id(logical_id),
            ("AWS::ApiGatewayV2::Api", "ApiEndpoint"): lambda: (
                f"wss://{self._api_id(logical_id)}.execute-api.{self._region}.{URL_SUFFIX}"
            ),
            ("AWS::DynamoDB::Table", "Arn"): lambda: self._arn("dynamodb", f"table/{self._table_name(logical_id)}"),
            ("AWS::Cognito::UserPool", "Arn"): lambda: self._arn(
                "cognito-idp", f"userpool/{self._user_pool_id(logical_id)}"
            ),
        }
        if (resource_type, attribute) not in attributes:
            raise UnsupportedTemplate(
                f"resource {logical_id} ({resource_type}): Fn::GetAtt {attribute} is not supported by the local runtime"
            )
        return attributes[(resource_type, attribute)]()

    def _type(self, logical_id: str) -> str:
        if logical_id not in self._resources:
            raise UnsupportedTemplate(f"reference to {logical_id!r}, which is not a resource or parameter")
        return self._resources[logical_id]["Type"]

    def _display_name(self, logical_id: str) -> str:
        """The construct's own name (Chat-dev/Functions/OnConnect/Resource -> OnConnect), for log prefixes."""
        path = self._resources[logical_id].get("Metadata", {}).get("aws:cdk:path", "")
        parts = path.split("/")
        return parts[-2] if len(parts) >= 3 and parts[-1] == "Resource" else logical_id

    def _properties(self, logical_id: str) -> dict[str, Any]:
        return self._resources[logical_id].get("Properties", {})

    def _resolve(self, logical_id: str, property_name: str) -> Any:
        value = self._properties(logical_id).get(property_name)
        return _drop_no_value(self._resolver.resolve(value, f"resource {logical_id}, property {property_name}"))

    def _of_type(self, resource_type: str) -> list[str]:
        return [logical_id for logical_id, resource in self._resources.items() if resource["Type"] == resource_type]

    # -- the model

    def read(self) -> StackModel:
        deploy_time = custom_resource_providers(self._resources)
        functions = {
            logical_id: self._function(logical_id)
            for logical_id in self._of_type("AWS::Lambda::Function")
            if logical_id not in deploy_time
        }
        state_machines = {
            logical_id: self._state_machine(logical_id)
            for logical_id in self._of_type("AWS::StepFunctions::StateMachine")
        }
        return StackModel(
            stack_name=self._stack_name,
            region=self._region,
            account=self._account,
            functions=functions,
            state_machines=state_machines,
            api=self._websocket_api(functions),
            tables={logical_id: self._table(logical_id) for logical_id in self._of_type("AWS::DynamoDB::Table")},
            user_pools={
                logical_id: UserPoolSpec(
                    logical_id=logical_id,
                    display_name=self._display_name(logical_id),
                    local_id=self._ref(logical_id),
                    settings=self._settings(logical_id, _USER_POOL_SETTINGS),
                )
                for logical_id in self._of_type("AWS::Cognito::UserPool")
            },
            user_pool_clients={
                logical_id: self._user_pool_client(logical_id)
                for logical_id in self._of_type("AWS::Cognito::UserPoolClient")
            },
        )

    def _settings(self, logical_id: str, names: tuple[str, ...]) -> dict[str, Any]:
        return {name: self._resolve(logical_id, name) for name in names if name in self._properties(logical_id)}

    def _user_pool_client(self, logical_id: str) -> UserPoolClientSpec:
        pool = (self._properties(logical_id).get("UserPoolId") or {}).get("Ref")
        if pool not in self._resources or self._type(pool) != "AWS::Cognito::UserPool":
            raise UnsupportedTemplate(f"user pool client {logical_id}: its UserPoolId names no user pool of this stack")
        return UserPoolClientSpec(
            logical_id=logical_id,
            display_name=self._display_name(logical_id),
            local_id=self._ref(logical_id),
            pool=pool,
            settings=self._settings(logical_id, _USER_POOL_CLIENT_SETTINGS),
        )

    def _function(self, logical_id: str) -> FunctionSpec:
        runtime = self._resolve(logical_id, "Runtime") or ""
        if not runtime.startswith("python3"):
            raise UnsupportedTemplate(f"resource {logical_id}: runtime {runtime!r} is not supported (Python only)")
        environment = (self._resolve(logical_id, "Environment") or {}).get("Variables", {})
        return FunctionSpec(
            logical_id=logical_id,
            display_name=self._display_name(logical_id),
            name=self._function_name(logical_id),
            arn=self._get_att(logical_id, "Arn"),
            handler=self._resolve(logical_id, "Handler"),
            runtime=runtime,
            code_dir=self._code_dir(logical_id),
            environment={key: str(value) for key, value in environment.items()},
            timeout_seconds=int(self._resolve(logical_id, "Timeout") or 3),
            memory_mb=int(self._resolve(logical_id, "MemorySize") or 128),
        )

    def _code_dir(self, logical_id: str) -> Path:
        code = self._properties(logical_id).get("Code", {})
        if "ZipFile" in code:
            raise UnsupportedTemplate(f"resource {logical_id}: inline code (ZipFile) is not supported")
        asset_path = self._resources[logical_id].get("Metadata", {}).get("aws:asset:path")
        if asset_path is None:
            asset_path = self._assets.get(str(code.get("S3Key", "")))
        if asset_path is None:
            raise UnsupportedTemplate(f"resource {logical_id}: code is not a local asset of this cloud assembly")
        code_dir = (self._assembly_dir / asset_path).resolve()
        if not code_dir.is_dir():
            raise UnsupportedTemplate(f"resource {logical_id}: code asset {code_dir} is missing or not a directory")
        return code_dir

    def _state_machine(self, logical_id: str) -> StateMachineSpec:
        where = f"resource {logical_id}"
        if "DefinitionS3Location" in self._properties(logical_id):
            raise UnsupportedTemplate(f"{where}: DefinitionS3Location is not supported; inline the definition")
        definition = self._resolve(logical_id, "DefinitionString")
        if definition is None:
            definition = json.dumps(self._resolve(logical_id, "Definition"))
        substitutions = self._resolve(logical_id, "DefinitionSubstitutions") or {}
        definition = substitute_definition(definition, substitutions, where)
        problem = asl_problem(definition)
        if problem is not None:
            name = self._display_name(logical_id)
            raise UnreadableTemplate(f"state machine {name} ({logical_id}): invalid ASL: {problem}")
        return StateMachineSpec(
            logical_id=logical_id,
            display_name=self._display_name(logical_id),
            name=self._state_machine_name(logical_id),
            arn=self._ref(logical_id),
            definition=definition,
            type=self._resolve(logical_id, "StateMachineType") or "STANDARD",
            role_arn=self._resolve(logical_id, "RoleArn"),
        )

    def _websocket_api(self, functions: dict[str, FunctionSpec]) -> WebSocketApiSpec:
        apis = [
            logical_id
            for logical_id in self._of_type("AWS::ApiGatewayV2::Api")
            if self._resolve(logical_id, "ProtocolType") == "WEBSOCKET"
        ]
        if len(apis) != 1:
            raise UnsupportedTemplate(f"expected exactly one WebSocket API in the template, found {len(apis)}")
        (api,) = apis
        stages = [
            stage
            for stage in self._of_type("AWS::ApiGatewayV2::Stage")
            if self._properties(stage).get("ApiId") == {"Ref": api}
        ]
        if len(stages) != 1:
            raise UnsupportedTemplate(f"WebSocket API {api}: expected exactly one stage, found {len(stages)}")
        responding_routes = {
            self._resolve(response, "RouteId") for response in self._of_type("AWS::ApiGatewayV2::RouteResponse")
        }
        routes = {}
        for route in self._of_type("AWS::ApiGatewayV2::Route"):
            if self._properties(route).get("ApiId") != {"Ref": api}:
                continue
            route_key = self._resolve(route, "RouteKey")
            routes[route_key] = RouteSpec(
                route_key=route_key,
                function=self._route_function(route, functions),
                returns_response=route in responding_routes,
                authorizer=self._route_authorizer(route, route_key, functions),
            )
        return WebSocketApiSpec(
            logical_id=api,
            api_id=self._api_id(api),
            name=self._resolve(api, "Name") or api,
            route_selection_expression=self._resolve(api, "RouteSelectionExpression"),
            stage=self._resolve(stages[0], "StageName"),
            routes=routes,
            throttle=_throttle(self._resolve(stages[0], "DefaultRouteSettings")),
            route_throttles={
                route_key: throttle
                for route_key, settings in (self._resolve(stages[0], "RouteSettings") or {}).items()
                if (throttle := _throttle(settings)) is not None
            },
        )

    def _route_authorizer(
        self, route: str, route_key: str, functions: dict[str, FunctionSpec]
    ) -> AuthorizerSpec | None:
        authorization = self._resolve(route, "AuthorizationType") or "NONE"
        if authorization == "NONE":
            return None
        if authorization != "CUSTOM" or route_key != "$connect":
            raise UnsupportedTemplate(
                f"route {route} ({route_key}): authorization {authorization} is not supported by the local runtime "
                "(WebSocket APIs authorize $connect, with a Lambda REQUEST authorizer or IAM)"
            )
        authorizer = (self._properties(route).get("AuthorizerId") or {}).get("Ref")
        if authorizer not in self._resources or self._type(authorizer) != "AWS::ApiGatewayV2::Authorizer":
            raise UnsupportedTemplate(f"route {route}: its AuthorizerId names no authorizer of this template")
        if self._resolve(authorizer, "AuthorizerType") != "REQUEST":
            raise UnsupportedTemplate(f"authorizer {authorizer}: only REQUEST (Lambda) authorizers are supported")
        unmodelled = sorted(set(self._properties(authorizer)) - _AUTHORIZER_PROPERTIES)
        if unmodelled:
            raise UnsupportedTemplate(
                f"authorizer {authorizer}: {', '.join(unmodelled)} not supported by the local runtime"
            )
        sources = tuple(self._resolve(authorizer, "IdentitySource") or ())
        for source in sources:
            if not source.startswith(AUTHORIZER_IDENTITY_SOURCES) or source in AUTHORIZER_IDENTITY_SOURCES:
                raise UnsupportedTemplate(
                    f"authorizer {authorizer}: identity source {source!r} is not supported by the local runtime "
                    "(route.request.querystring.<name> and route.request.header.<name> are)"
                )
        match = _LAMBDA_IN_INTEGRATION.search(self._resolve(authorizer, "AuthorizerUri") or "")
        function = next((spec for spec in functions.values() if match and spec.arn == match["arn"]), None)
        if function is None:
            raise UnsupportedTemplate(f"authorizer {authorizer}: its URI names no Lambda function of this stack")
        return AuthorizerSpec(
            logical_id=authorizer,
            function=function,
            identity_sources=sources,
        )

    def _table(self, logical_id: str) -> TableSpec:
        properties = self._properties(logical_id)
        unmodelled = sorted(set(properties) - _TABLE_PROPERTIES - _TABLE_PROPERTIES_WITHOUT_LOCAL_MEANING)
        if unmodelled:
            raise UnsupportedTemplate(f"table {logical_id}: {', '.join(unmodelled)} not supported by the local runtime")
        partition_key, sort_key = _keys(self._resolve(logical_id, "KeySchema"))
        indexes = tuple(
            IndexDesign(index["IndexName"], *_keys(index["KeySchema"]), index["Projection"]["ProjectionType"])
            for index in self._resolve(logical_id, "GlobalSecondaryIndexes") or ()
        )
        ttl = self._resolve(logical_id, "TimeToLiveSpecification") or {}
        design = TableDesign(
            partition_key=partition_key,
            sort_key=sort_key,
            attribute_types={
                attribute["AttributeName"]: attribute["AttributeType"]
                for attribute in self._resolve(logical_id, "AttributeDefinitions")
            },
            indexes=indexes,
            ttl_attribute=ttl.get("AttributeName") if ttl.get("Enabled") else None,
        )
        return TableSpec(
            logical_id=logical_id,
            display_name=self._display_name(logical_id),
            name=self._table_name(logical_id),
            arn=self._get_att(logical_id, "Arn"),
            design=design,
        )

    def _route_function(self, route: str, functions: dict[str, FunctionSpec]) -> FunctionSpec:
        target = self._resolve(route, "Target") or ""
        integration = target.removeprefix("integrations/")
        if integration not in self._resources or self._type(integration) != "AWS::ApiGatewayV2::Integration":
            raise UnsupportedTemplate(f"route {route}: target {target!r} is not an integration in this template")
        integration_type = self._resolve(integration, "IntegrationType")
        if integration_type != "AWS_PROXY":
            raise UnsupportedTemplate(f"integration {integration}: type {integration_type} is not supported")
        match = _LAMBDA_IN_INTEGRATION.search(self._resolve(integration, "IntegrationUri") or "")
        function = next((spec for spec in functions.values() if match and spec.arn == match["arn"]), None)
        if function is None:
            raise UnsupportedTemplate(f"integration {integration}: its URI names no Lambda function of this stack")
        return function


def custom_resource_providers(resources: dict[str, dict[str, Any]]) -> set[str]:
    """The functions CloudFormation invokes for custom resources (their ServiceToken): deploy-time code (a wait, a
    bucket deployment), which the chat never calls, so the local runtime leaves them out."""
    providers = set()
    for resource in resources.values():
        if resource["Type"].startswith("Custom::") or resource["Type"] == "AWS::CloudFormation::CustomResource":
            token = resource.get("Properties", {}).get("ServiceToken")
            if isinstance(token, dict) and "Fn::GetAtt" in token:
                providers.add(token["Fn::GetAtt"][0])
    return providers


def _keys(key_schema: list[dict[str, str]]) -> tuple[str, str | None]:
    """(partition key, sort key or None) of a KeySchema."""
    by_type = {key["KeyType"]: key["AttributeName"] for key in key_schema}
    return by_type["HASH"], by_type.get("RANGE")


def _throttle(settings: dict[str, Any] | None) -> ThrottleSpec | None:
    """A stage's or route's ThrottlingRateLimit/ThrottlingBurstLimit, when it sets both."""
    settings = settings or {}
    if settings.get("ThrottlingRateLimit") is None or settings.get("ThrottlingBurstLimit") is None:
        return None
    return ThrottleSpec(float(settings["ThrottlingRateLimit"]), int(settings["ThrottlingBurstLimit"]))


def _drop_no_value(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _drop_no_value(item) for key, item in value.items() if item is not _NO_VALUE}
    if isinstance(value, list):
        return [_drop_no_value(item) for item in value if item is not _NO_VALUE]
    return value


def asl_problem(definition: str) -> str | None:
    """What makes a definition invalid ASL (the structure every state machine needs), or None.

    Step Functions refuses such a definition when the state machine is created; moto would accept it
    and fail each execution instead, so it is checked here, naming the state machine.
    """
    try:
        document = json.loads(definition)
    except ValueError as error:
        return f"not JSON ({error})"
    return _states_problem(document, "the definition")


def _states_problem(machine: Any, where: str) -> str | None:
    if not isinstance(machine, dict) or not isinstance(machine.get("States"), dict) or not machine["States"]:
        return f"{where} has no States"
    states = machine["States"]
    if machine.get("StartAt") not in states:
        return f"{where}: StartAt {machine.get('StartAt')!r} names no state"
    for name, state in states.items():
        if not isinstance(state, dict) or "Type" not in state:
            return f"state {name!r} has no Type"
        targets = [state.get("Next"), state.get("Default")]
        rules = [*state.get("Choices", []), *state.get("Catch", [])]
        targets += [rule.get("Next") for rule in rules if isinstance(rule, dict)]
        for target in targets:
            if target is not None and target not in states:
                return f"state {name!r}: Next {target!r} names no state"
        for where, nested in nested_machines(state):
            if problem := _states_problem(nested, f"state {name!r}'s {where}"):
                return problem
    return None
