"""Helpers of the infra tests: synthesizing the app, reading templates (imported by conftest and tests)."""

import contextlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CDK_JSON = json.loads((PROJECT_ROOT / "cdk.json").read_text(encoding="utf-8"))
STAGES = tuple(CDK_JSON["context"]["stages"])  # every stage cdk.json defines
# The chat's functions as the tests expect them: construct id -> (handler module, route key; None for a task).
FUNCTIONS = {
    "OnConnect": ("on_connect", "$connect"),
    "OnDisconnect": ("on_disconnect", "$disconnect"),
    "OnDefault": ("on_default", "$default"),
    "SendMessage": ("send_message", "sendMessage"),
    "SendConnectionId": ("send_connection_id", None),
}
ROUTES = {route: module for module, route in FUNCTIONS.values() if route}  # route key -> handler module
ROUTE_HANDLERS = tuple(name for name, (_, route) in FUNCTIONS.items() if route)  # construct ids
TASKS = tuple(name for name, (_, route) in FUNCTIONS.items() if not route)  # construct ids
MODULES = {name: module for name, (module, _) in FUNCTIONS.items()}  # construct id -> handler module


@dataclass(frozen=True)
class Synthesis:
    outdir: Path
    validation_error: str | None

    def template_path(self, stack_name: str) -> Path:
        return self.outdir / f"{stack_name}.template.json"

    def template(self, stack_name: str) -> dict[str, Any]:
        return json.loads(self.template_path(stack_name).read_text(encoding="utf-8"))

    @property
    def validation_report(self) -> dict[str, Any]:
        return json.loads((self.outdir / "validation-report.json").read_text(encoding="utf-8"))

    def findings(self) -> list[tuple[str, str]]:
        """(rule, construct path) of every unacknowledged finding in the validation report."""
        return [
            (violation["ruleName"], construct["constructPath"])
            for plugin in self.validation_report["pluginReports"]
            for violation in plugin["violations"]
            for construct in violation["violatingConstructs"]
        ]


@contextlib.contextmanager
def cdk_environment(account: str | None, region: str | None) -> Iterator[None]:
    """CDK_DEFAULT_ACCOUNT/REGION as the CDK CLI would set them (unset: an environment-agnostic stack)."""
    saved = {name: os.environ.get(name) for name in ("CDK_DEFAULT_ACCOUNT", "CDK_DEFAULT_REGION")}
    for name, value in (("CDK_DEFAULT_ACCOUNT", account), ("CDK_DEFAULT_REGION", region)):
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def synthesize(app: aws_cdk.App, outdir: Path) -> Synthesis:
    """``app.synth()``, turning a failed validation (cdk-nag finding) into data instead of an exception."""
    try:
        app.synth()
    except RuntimeError as error:
        if "ValidationFailed" not in str(error):
            raise
        return Synthesis(outdir=outdir, validation_error=str(error))
    return Synthesis(outdir=outdir, validation_error=None)


def stage_settings(stage: str) -> dict[str, Any]:
    return CDK_JSON["context"]["stages"][stage]


# --- reading templates ---


def resources(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    """Logical id -> Properties of every resource of ``resource_type``."""
    return {
        logical_id: resource.get("Properties", {})
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == resource_type
    }


def render(value: Any) -> Any:
    """Intrinsics as readable text: Ref X -> <X>, GetAtt X.Arn -> <X.Arn>, Fn::Join joined; lists element-wise."""
    if isinstance(value, list):
        return [render(item) for item in value]
    if isinstance(value, dict):
        if set(value) == {"Ref"}:
            return f"<{value['Ref']}>"
        if set(value) == {"Fn::GetAtt"}:
            return f"<{'.'.join(value['Fn::GetAtt'])}>"
        if set(value) == {"Fn::Join"}:
            separator, parts = value["Fn::Join"]
            return separator.join(str(render(part)) for part in parts)
        return {key: render(item) for key, item in value.items()}
    return value


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def function_id(template: dict[str, Any], module: str) -> str:
    """Logical id of the Lambda function whose handler lives in lambdas/<module>.py."""
    (logical_id,) = [
        logical_id
        for logical_id, properties in resources(template, "AWS::Lambda::Function").items()
        if properties["Handler"] == f"{module}.handler"
    ]
    return logical_id


def state_machine_id(template: dict[str, Any], placeholder: str) -> str:
    """Logical id of the state machine whose definition substitutes ``placeholder``."""
    (logical_id,) = [
        logical_id
        for logical_id, properties in resources(template, "AWS::StepFunctions::StateMachine").items()
        if placeholder in properties.get("DefinitionSubstitutions", {})
    ]
    return logical_id
