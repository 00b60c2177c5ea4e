"""The moto interpreter tuning takes effect where the interpreter looks, or refuses to start, saying why."""

import importlib.metadata
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import moto.stepfunctions.parser.backend.execution  # noqa: F401  (loads the whole interpreter)
import pytest
from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from moto.stepfunctions.parser.asl.utils import boto_client, json_path

from local.stepfunctions import tuning

PROJECT_ROOT = Path(__file__).resolve().parents[3]
DEFINITION = (PROJECT_ROOT / "statemachines" / "connection_handshake.asl.json").read_text(encoding="utf-8")


@pytest.fixture
def moto_internals(monkeypatch):
    """moto's interpreter as released; whatever a test patches is put back afterwards."""
    monkeypatch.setattr(AmazonStateLanguageParser, "parse", AmazonStateLanguageParser.__dict__["parse"])
    monkeypatch.setattr(json_path, "parse", json_path.parse)
    for module in list(sys.modules.values()):
        if getattr(module, "boto_client_for", None) is boto_client.boto_client_for:
            monkeypatch.setattr(module, "boto_client_for", module.boto_client_for)
    for owner, name in _profiled_patch_targets():
        monkeypatch.setattr(owner, name, getattr(owner, name))
    monkeypatch.delenv(tuning.TUNING_SWITCH, raising=False)
    return SimpleNamespace(monkeypatch=monkeypatch)


def _profiled_patch_targets():
    """What the patches from profiling replace (threads, ResultPaths, JSON copies, Lambda and API Gateway
    invokes, moto's module listing)."""
    from moto import backends
    from moto.stepfunctions.parser.asl.component.common.path import result_path
    from moto.stepfunctions.parser.asl.component.common.string import string_expression
    from moto.stepfunctions.parser.asl.component.program.program import Program
    from moto.stepfunctions.parser.asl.component.state.exec import execute_state
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.inline_iteration_component import (
        InlineIterationComponent,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_api_gateway,
    )
    from moto.stepfunctions.parser.asl.eval import states
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    return [
        (result_path, "parse"),
        (string_expression, "copy"),
        (execute_state, "copy"),
        (states, "copy"),
        (Program, "eval"),
        (execute_state, "Thread"),
        (execute_state.ExecutionState, "_evaluate_with_timeout"),
        (ExecutionWorker, "start"),
        (InlineIterationComponent, "_launch_worker"),
        (lambda_eval_utils, "_invoke_lambda_function"),
        (state_task_service_api_gateway, "requests"),
        (backends, "list_of_moto_modules"),
    ]


def parsed_program(definition: str):
    return AmazonStateLanguageParser.parse(definition)[0]


def lambda_task_client(region: str = "us-east-1"):
    """The client a Lambda task of an execution gets."""
    return lambda_eval_utils.boto_client_for(region, "lambda")


def test_untuned_interpreter_parses_and_builds_clients_anew_each_time(moto_internals):
    # What the tuning changes: without it, every execution repeats this work.
    assert parsed_program(DEFINITION) is not parsed_program(DEFINITION)
    assert json_path.parse("$.connection_id") is not json_path.parse("$.connection_id")
    assert lambda_task_client() is not lambda_task_client()


def test_tuned_interpreter_parses_each_definition_once(moto_internals):
    tuning.apply()

    assert parsed_program(DEFINITION) is parsed_program(DEFINITION)
    assert parsed_program(DEFINITION) is not parsed_program(DEFINITION.replace("SendConnectionId", "Send"))


def test_tuned_interpreter_parses_each_jsonpath_once(moto_internals):
    tuning.apply()

    assert json_path.parse("$.connection_id") is json_path.parse("$.connection_id")
    assert json_path.extract_json("$.connection_id", {"connection_id": "abc"}) == "abc"


def test_tuned_lambda_tasks_share_one_client_per_region(moto_internals):
    tuning.apply()

    assert lambda_task_client() is lambda_task_client()
    assert lambda_task_client("eu-west-1") is not lambda_task_client("us-east-1")


def test_another_moto_version_is_refused_before_anything_is_patched(moto_internals):
    real_version = importlib.metadata.version
    moto_internals.monkeypatch.setattr(
        importlib.metadata, "version", lambda name: "5.3.0" if name == "moto" else real_version(name)
    )

    with pytest.raises(tuning.TuningError, match=r"moto 5\.3\.0 is installed.*moto 5\.2\.5.*LOCAL_MOTO_TUNING=off"):
        tuning.apply()
    assert parsed_program(DEFINITION) is not parsed_program(DEFINITION)


@pytest.mark.parametrize(
    ("module", "attribute"),
    [(json_path, "parse"), (boto_client, "boto_client_for"), (lambda_eval_utils, "boto_client_for")],
)
def test_a_missing_patch_target_is_refused_before_anything_is_patched(moto_internals, module, attribute):
    moto_internals.monkeypatch.delattr(module, attribute)

    with pytest.raises(tuning.TuningError, match=rf"{module.__name__}.* {attribute}"):
        tuning.apply()
    assert parsed_program(DEFINITION) is not parsed_program(DEFINITION)


def test_a_lambda_task_module_with_its_own_client_factory_is_refused(moto_internals):
    moto_internals.monkeypatch.setattr(lambda_eval_utils, "boto_client_for", lambda region, service, creds=None: None)

    with pytest.raises(tuning.TuningError, match=r"lambda_eval_utils\.boto_client_for is not"):
        tuning.apply()


def test_a_parser_whose_parse_is_no_static_method_is_refused(moto_internals):
    moto_internals.monkeypatch.setattr(AmazonStateLanguageParser, "parse", classmethod(lambda cls, definition: None))

    with pytest.raises(tuning.TuningError, match="no longer a static method"):
        tuning.apply()


@pytest.mark.parametrize(("value", "enabled"), [(None, True), ("on", True), ("off", False)])
def test_the_switch_turns_tuning_on_or_off(value, enabled):
    environment = {} if value is None else {tuning.TUNING_SWITCH: value}
    assert tuning.tuning_enabled(environment) is enabled


def test_the_server_refuses_to_start_on_a_bad_switch_value_saying_why():
    finished = subprocess.run(
        [sys.executable, "-m", "local.stepfunctions.server", "0"],
        cwd=PROJECT_ROOT,
        env={"PATH": "", tuning.TUNING_SWITCH: "maybe"},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert finished.returncode == 2
    assert "LOCAL_MOTO_TUNING='maybe': expected 'on' (the default) or 'off'" in finished.stderr
    assert "ready" not in finished.stdout


def test_an_api_gateway_task_no_longer_calling_requests_is_refused(moto_internals):
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_api_gateway,
    )

    moto_internals.monkeypatch.setattr(state_task_service_api_gateway, "requests", SimpleNamespace())

    with pytest.raises(tuning.TuningError, match=r"state_task_service_api_gateway\.requests"):
        tuning.apply()


def test_tuned_server_routes_with_moto_modules_listed_once(moto_internals):
    from moto import backends

    listed = list(backends.list_of_moto_modules())
    tuning.apply()

    assert list(backends.list_of_moto_modules()) == listed
    assert "stepfunctions" in backends.list_of_moto_modules()
