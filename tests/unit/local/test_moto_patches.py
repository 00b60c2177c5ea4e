"""The patches of moto's interpreter: one guard refuses, naming each difference, before anything is
patched; once applied, each takes effect where the interpreter looks, whatever ran before it."""

import copy
import datetime
import gc
import importlib.metadata
import json
import subprocess
import sys
import threading
import time
import weakref
from types import SimpleNamespace

import pytest

from cdk.paths import PROJECT_ROOT, STATEMACHINES_DIR
from local.stepfunctions import moto_patches
from local.stepfunctions.moto_patches import guard, hooks, repairs, speedups
from local.stepfunctions.moto_patches.guard import MotoPatchError, Patch, Source, Target
from local.stepfunctions.moto_patches.hooks import without_oldest_ended

DEFINITION = (STATEMACHINES_DIR / "connection_handshake.asl.json").read_text(encoding="utf-8")
OPTIONS = {"started": lambda execution: None, "ended": lambda execution: None, "keep_executions": 10}


def every_patch(*, tuned: bool = True) -> list[Patch]:
    return moto_patches.every_patch(tuned=tuned, **OPTIONS)


@pytest.fixture
def released_moto(monkeypatch):
    """moto as released; whatever a patch replaces is put back after the test."""
    for patch in every_patch():
        for target in patch.replaces:
            if isinstance(target, Target):  # a Source is a module's file: nothing to put back
                monkeypatch.setattr(target.owner(), target.attribute, target.stored())
    monkeypatch.delenv(speedups.TUNING_SWITCH, raising=False)
    return monkeypatch


def moto_module(name: str):
    return importlib.import_module(f"moto.stepfunctions.parser.{name}")


def parsed_program(definition: str = DEFINITION):
    return moto_module("asl.parse.asl_parser").AmazonStateLanguageParser.parse(definition)[0]


def api_gateway_task():
    return moto_module("asl.component.state.exec.state_task.service.state_task_service_api_gateway")


# --- the guard ----------------------------------------------------------------------------------


@pytest.mark.parametrize("tuned", [True, False], ids=["tuned", "untuned"])
def test_every_patch_fits_the_installed_moto(released_moto, tuned):
    guard.check(every_patch(tuned=tuned))


def test_another_moto_version_is_refused_before_anything_is_patched(released_moto):
    real_version = importlib.metadata.version
    released_moto.setattr(importlib.metadata, "version", lambda name: "5.3.0" if name == "moto" else real_version(name))

    with pytest.raises(MotoPatchError, match=r"moto 5\.3\.0 is installed.*internals of moto 5\.2\.5"):
        moto_patches.apply(tuned=False, **OPTIONS)
    assert api_gateway_task().requests is __import__("requests")


def test_a_missing_target_is_refused_before_anything_is_patched(released_moto):
    released_moto.delattr(moto_module("asl.utils.json_path"), "parse")

    with pytest.raises(
        MotoPatchError, match=r"parsed once: moto\.stepfunctions\.parser\.asl\.utils\.json_path\.parse: not found"
    ):
        moto_patches.apply(tuned=True, **OPTIONS)
    assert parsed_program() is not parsed_program()
    assert api_gateway_task().requests is __import__("requests")


def test_a_changed_signature_is_refused_saying_what_changed(released_moto):
    program = moto_module("asl.component.program.program").Program
    released_moto.setattr(program, "eval", lambda self, env, deadline=None: None)

    with pytest.raises(
        MotoPatchError, match=r"Program\.eval: signature \(self, env, deadline=None\), expected \(self, env\)"
    ):
        moto_patches.apply(tuned=True, **OPTIONS)


def test_a_repair_whose_target_changed_is_refused_untuned_too(released_moto):
    task = api_gateway_task().StateTaskServiceApiGateway
    released_moto.setattr(task, "_eval_service_task", lambda self, env, part, parameters, state_credentials: None)

    with pytest.raises(MotoPatchError, match=r"takes the credentials.*task_credentials\)"):
        moto_patches.apply(tuned=False, **OPTIONS)


def test_an_object_that_is_no_longer_the_one_patched_is_refused(released_moto):
    released_moto.setattr(api_gateway_task(), "requests", SimpleNamespace())

    with pytest.raises(MotoPatchError, match=r"state_task_service_api_gateway\.requests: no longer requests"):
        moto_patches.apply(tuned=False, **OPTIONS)


def test_a_changed_value_is_refused(released_moto):
    task = api_gateway_task().StateTaskServiceApiGateway
    released_moto.setattr(task, "_SUPPORTED_API_PARAM_BINDINGS", {"invoke": {"ApiEndpoint", "Method", "Path"}})

    with pytest.raises(MotoPatchError, match=r"_SUPPORTED_API_PARAM_BINDINGS: .*expected"):
        moto_patches.apply(tuned=False, **OPTIONS)


def test_a_static_method_that_became_another_kind_is_refused(released_moto):
    parser = moto_module("asl.parse.asl_parser").AmazonStateLanguageParser
    released_moto.setattr(parser, "parse", classmethod(lambda cls, definition: None))

    with pytest.raises(
        MotoPatchError, match=r"AmazonStateLanguageParser\.parse: a classmethod, expected a staticmethod"
    ):
        moto_patches.apply(tuned=True, **OPTIONS)


def test_a_target_no_longer_as_a_patch_expects_is_refused(released_moto):
    workers = moto_module("backend.execution_worker")
    released_moto.delattr(workers.SyncExecutionWorker, "start")  # it would start a thread like the others

    with pytest.raises(MotoPatchError, match=r"SyncExecutionWorker\.start: expected its own start"):
        moto_patches.apply(tuned=True, **OPTIONS)


def test_every_difference_is_named_at_once(released_moto):
    released_moto.delattr(moto_module("asl.utils.json_path"), "parse")
    released_moto.setattr(api_gateway_task(), "requests", SimpleNamespace())

    with pytest.raises(MotoPatchError) as refused:
        moto_patches.apply(tuned=True, **OPTIONS)

    assert "json_path.parse: not found" in str(refused.value)
    assert "requests: no longer requests" in str(refused.value)


def test_a_target_that_must_be_an_object_no_longer_installed_is_refused():
    patch = Patch("p", replaces=(Target("json", "dumps", same_as="json:no_such_function"),), install=lambda: None)

    with pytest.raises(MotoPatchError, match=r"json\.dumps: json:no_such_function is gone"):
        guard.check([patch])


def test_two_patches_replacing_one_target_are_refused():
    target = Target("json", "dumps")
    patches = [Patch(name, replaces=(target,), install=lambda: None) for name in ("one", "another")]

    with pytest.raises(MotoPatchError, match=r"json\.dumps is replaced by 2 patches"):
        guard.check(patches)


def test_a_module_whose_source_changed_is_refused_without_importing_it():
    patch = Patch("p", replaces=(Source("moto.batch", "from .models import everything\n"),), install=lambda: None)

    with pytest.raises(MotoPatchError, match=r"moto\.batch: its source .*__init__\.py\) is no longer"):
        guard.check([patch])


def test_a_patch_before_imports_is_installed_before_the_others_are_checked():
    happened = []
    early = Patch("early", replaces=(), install=lambda: happened.append("early installed"), before_imports=True)
    checked = Target("json", "dumps", expect=("checked", lambda value: happened.append("checked") or True))
    late = Patch("late", replaces=(checked,), install=lambda: happened.append("late installed"))

    guard.apply([late, early])

    assert happened == ["early installed", "checked", "late installed"]


@pytest.mark.parametrize(("value", "enabled"), [(None, True), ("on", True), ("off", False)])
def test_the_switch_turns_the_speedups_on_or_off(value, enabled):
    environment = {} if value is None else {speedups.TUNING_SWITCH: value}
    assert speedups.tuning_enabled(environment) is enabled


def test_the_server_refuses_to_start_on_a_bad_switch_value_saying_why():
    finished = subprocess.run(
        [sys.executable, "-m", "local.stepfunctions.server", "0"],
        cwd=PROJECT_ROOT,
        env={"PATH": "", speedups.TUNING_SWITCH: "maybe"},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert finished.returncode == 2
    assert "LOCAL_MOTO_TUNING='maybe': expected 'on' (the default) or 'off'" in finished.stderr
    assert "ready" not in finished.stdout


# --- the speed-ups, where the interpreter looks -----------------------------------------------------


def test_untuned_moto_parses_each_time(released_moto):
    json_path = moto_module("asl.utils.json_path")

    assert parsed_program() is not parsed_program()
    assert json_path.parse("$.connection_id") is not json_path.parse("$.connection_id")


def test_tuned_moto_parses_each_definition_and_jsonpath_once(released_moto):
    moto_patches.apply(tuned=True, **OPTIONS)
    json_path = moto_module("asl.utils.json_path")

    assert parsed_program() is parsed_program()
    assert parsed_program() is not parsed_program(DEFINITION.replace("SendConnectionId", "Send"))
    assert json_path.parse("$.connection_id") is json_path.parse("$.connection_id")
    assert json_path.extract_json("$.connection_id", {"connection_id": "abc"}) == "abc"


def evaluation_of(state, ran_in: list):
    """A thread target shaped like moto's: execute_state's _exec_and_notify, a closure over the state."""
    self = state

    def _exec_and_notify() -> None:
        ran_in.append((self.name, threading.current_thread()))

    return _exec_and_notify


def state(name: str, *, timed: bool):
    return SimpleNamespace(name=name, timeout=SimpleNamespace(is_default_value=lambda: not timed))


def run_thread(thread) -> None:
    thread.start()
    if thread.is_alive():
        thread.join(5)


def test_tuned_a_state_without_a_timeout_runs_in_the_thread_that_reaches_it(released_moto):
    moto_patches.apply(tuned=True, **OPTIONS)
    execute_state = moto_module("asl.component.state.exec.execute_state")
    ran_in = []

    run_thread(execute_state.Thread(target=evaluation_of(state("untimed", timed=False), ran_in), daemon=True))
    run_thread(execute_state.Thread(target=evaluation_of(state("timed", timed=True), ran_in), daemon=True))

    (untimed, here), (timed, there) = ran_in
    assert (untimed, here) == ("untimed", threading.current_thread())
    assert timed == "timed" and there is not threading.current_thread()


def test_tuned_a_state_with_a_timeout_gets_its_thread_after_an_evaluation_that_failed_early(released_moto):
    # An untimed state whose timeout could not be evaluated never starts its thread; the next state
    # evaluated in this thread has a timeout of its own, so it must still run (and be timed) apart.
    moto_patches.apply(tuned=True, **OPTIONS)
    execute_state = moto_module("asl.component.state.exec.execute_state")

    def unreadable_timeout(env) -> None:
        raise ValueError("TimeoutSecondsPath: not a number")

    failing = SimpleNamespace(timeout=SimpleNamespace(is_default_value=lambda: True, eval=unreadable_timeout))
    with pytest.raises(ValueError, match="TimeoutSecondsPath"):
        execute_state.ExecutionState._evaluate_with_timeout(failing, env=None)
    ran_in = []
    run_thread(execute_state.Thread(target=evaluation_of(state("timed", timed=True), ran_in), daemon=True))

    ((_, thread),) = ran_in
    assert thread is not threading.current_thread()


def test_tuned_moto_server_routes_with_its_modules_listed_once(released_moto):
    from moto import backends

    listed = list(backends.list_of_moto_modules())
    moto_patches.apply(tuned=True, **OPTIONS)

    assert list(backends.list_of_moto_modules()) == listed
    assert "stepfunctions" in backends.list_of_moto_modules()


# --- the repairs and hooks -------------------------------------------------------------------------


def test_moto_keeps_no_thread_it_has_started(released_moto):
    moto_patches.apply(tuned=False, **OPTIONS)
    modules = [
        moto_module(name) for name in ("utils", "backend.execution_worker", "asl.component.state.exec.execute_state")
    ]
    for module in modules:
        thread = threading.Thread(target=lambda: None)
        thread.start()
        thread.join()
        module.TMP_THREADS.append(thread)
        kept = weakref.ref(thread)
        del thread
        gc.collect()
        assert kept() is None, module.__name__


def test_apigateway_invoke_receives_every_documented_parameter(released_moto):
    moto_patches.apply(tuned=False, **OPTIONS)
    task = api_gateway_task().StateTaskServiceApiGateway

    assert task._SUPPORTED_API_PARAM_BINDINGS["invoke"] == repairs.DOCUMENTED_PARAMETERS


def ended_at(stop_date):
    return SimpleNamespace(stop_date=stop_date)


def test_only_the_most_recent_ended_executions_are_kept_and_running_ones_always():
    running, old, newer, newest = ended_at(None), ended_at(1), ended_at(2), ended_at(3)

    assert without_oldest_ended([old, running, newer, newest], 2) == [running, newer, newest]
    assert without_oldest_ended([running, old], 1) == [running, old]
    first, second, third, still = ended_at(1), ended_at(2), ended_at(3), ended_at(None)
    assert without_oldest_ended([running, first, still, second, third, newest], 2) == [running, still, third, newest]


# --- JSONPaths of field names ----------------------------------------------------------------------

JSON_PATH_DATA = {
    "a": {"b": {"c": [1, 2]}, "none": None, "text": "abc", "list": [{"b": 1}], "zero": 0, "empty": {}},
    "Map": {"Item": {"Value": "conn-1", "Index": 3}},
    "a-b": True,
    "in": "keyword",
}
JSON_PATHS = [
    "$",
    "$.a",
    "$.a.b.c",
    "$.a.none",
    "$.a.zero",
    "$.a.empty",
    "$.Map.Item.Value",
    "$['a']['b']",
    "$.a-b",
    "$.in",
    "$.missing",
    "$.a.missing",
    "$.a.text.length",
    "$.a.list.b",
    "$.a.none.b",
    "$.a.b.c[0]",
    "$.a.list[*].b",
    "$.a.b.*",
    "$..b",
    "$.where",
]


def extracted(extract_json, path: str):
    """What extract_json answers, or the error it raises (type and message)."""
    try:
        return "value", extract_json(path, copy.deepcopy(JSON_PATH_DATA))
    except Exception as error:
        return "raised", type(error).__name__, str(error)


def test_json_paths_of_field_names_are_looked_up_as_moto_finds_them(released_moto):
    json_path = moto_module("asl.utils.json_path")
    released = json_path.extract_json
    expected = {path: extracted(released, path) for path in JSON_PATHS}

    for patch in every_patch():
        patch.install()

    assert json_path.extract_json is not released
    assert {path: extracted(json_path.extract_json, path) for path in JSON_PATHS} == expected
    assert expected["$.a.missing"][0] == "raised" and expected["$.a.b.c"] == ("value", [1, 2])
    assert [path for path in JSON_PATHS if speedups.field_chain(path) is None] == [
        "$.a.b.c[0]",
        "$.a.list[*].b",
        "$.a.b.*",
        "$..b",
        "$.where",
    ]


# --- JSON copied as JSON -----------------------------------------------------------------------------


def test_json_is_copied_equal_with_every_container_new_and_every_type_kept():
    original = {"a": [1, 2.5, True, None, "text", {"b": (1, 2)}], "c": {"d": b"bytes", "e": [[]]}}

    copied = speedups.copy_json(original)

    assert copied == original
    assert copied is not original and copied["a"] is not original["a"] and copied["a"][5] is not original["a"][5]
    assert copied["c"]["e"][0] is not original["c"]["e"][0]
    assert type(copied["a"][5]["b"]) is tuple and type(copied["c"]["d"]) is bytes


def test_program_states_are_copied_as_deepcopy_copies_them(released_moto):
    for patch in every_patch():
        patch.install()
    states = moto_module("asl.eval.program_state")
    running = states.ProgramRunning()
    running.next_state_name = "Deliver"
    running.next_field_name = "Parameters"
    stopped = states.ProgramStopped(stop_date=datetime.datetime(2026, 12, 6), error="E", cause="c")
    failed = states.ProgramError(error={"error": "States.Runtime", "cause": {"nested": [1]}})
    originals = [running, stopped, failed, states.ProgramEnded(), states.ProgramTimedOut()]

    for original in originals:
        copied, expected = speedups.copy_json(original), copy.deepcopy(original)

        assert type(copied) is type(original) and copied is not original
        assert vars(copied) == vars(expected) == vars(original)
    assert speedups.copy_json(failed).error is not failed.error
    assert speedups.copy_json(failed).error["cause"]["nested"] is not failed.error["cause"]["nested"]
    assert speedups.copy_json(running).next_state_name == "Deliver"


def test_only_classes_that_leave_copying_to_object_are_copied_as_plain_objects():
    class Plain:
        pass

    class OwnCopy:
        def __deepcopy__(self, memo):
            return self

    class Slotted:
        __slots__ = ("value",)

    class OwnState:
        def __setstate__(self, state):
            pass

    assert speedups._copied_as_a_plain_object(Plain)
    assert not any(speedups._copied_as_a_plain_object(kind) for kind in (OwnCopy, Slotted, OwnState, datetime.date))


def test_json_holding_other_objects_is_copied_as_deepcopy_copies_them():
    class Kept:
        def __init__(self, value):
            self.value = value

    original = {"plain": [1, {"x": "y"}], "object": Kept([1, 2]), "subclass": type("Sub", (dict,), {})(k=1)}

    copied = speedups.copy_json(original)

    assert copied["plain"] == original["plain"] and copied["plain"] is not original["plain"]
    assert isinstance(copied["object"], Kept) and copied["object"] is not original["object"]
    assert copied["object"].value == [1, 2] and copied["object"].value is not original["object"].value
    assert type(copied["subclass"]) is type(original["subclass"]) and copied["subclass"] == {"k": 1}


# --- moto's Batch and EC2 models, imported when first used ---------------------------------------------------

IMPORTS_OF_THE_INTERPRETER = """
import sys
from local.stepfunctions import moto_patches
moto_patches.apply(tuned=sys.argv[1] == "on", started=print, ended=print, keep_executions=10)
from moto.moto_server.werkzeug_app import create_backend_app
import moto.stepfunctions.parser.models
print("ec2 models" if "moto.ec2.models" in sys.modules else "no ec2 models")
from moto.backends import get_backend
batch = get_backend("batch")
import moto.batch
print(moto.batch.batch_backends is batch is moto.batch.models.batch_backends, type(batch).__name__)
print(type(get_backend("ec2")["123456789012"]["us-east-1"]).__name__)
"""


@pytest.mark.parametrize(("tuning", "at_start"), [("on", "no ec2 models"), ("off", "ec2 models")])
def test_batch_and_ec2_models_are_imported_when_first_used_tuned(tuning, at_start):
    # A process of its own: this one imported moto's interpreter long ago.
    finished = subprocess.run(
        [sys.executable, "-c", IMPORTS_OF_THE_INTERPRETER, tuning],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.splitlines() == [at_start, "True BackendDict", "EC2Backend"]


# --- ended executions, kept compact -------------------------------------------------------------------------

ACCOUNT, REGION = "123456789012", "eu-west-1"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/unit"
# Map iterations, a Choice, a Catch and a Fail: history events of most kinds, inputs and outputs at each step.
COMPACTED = json.dumps(
    {
        "StartAt": "Deliveries",
        "States": {
            "Deliveries": {
                "Type": "Map",
                "ItemsPath": "$.recipients",
                "ItemProcessor": {
                    "StartAt": "Deliver",
                    "States": {"Deliver": {"Type": "Pass", "Parameters": {"to.$": "$", "sent": True}, "End": True}},
                },
                "ResultPath": "$.report",
                "Next": "Fails?",
            },
            "Fails?": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.fail", "BooleanEquals": True, "Next": "Failing"}],
                "Default": "Done",
            },
            "Failing": {
                "Type": "Parallel",
                "Branches": [{"StartAt": "Broken", "States": {"Broken": {"Type": "Fail", "Error": "Broken"}}}],
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Failed"}],
                "End": True,
            },
            "Failed": {"Type": "Fail", "Error": "Chat.Failed", "Cause": "asked to"},
            "Done": {"Type": "Succeed"},
        },
    }
)


class StepFunctionsApi:
    """moto's server application, called in this process as a client calls it over HTTP."""

    def __init__(self, monkeypatch):
        from moto.core.config import default_user_config
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
        from werkzeug.test import Client

        monkeypatch.setitem(default_user_config, "stepfunctions", {"execute_state_machine": True})
        self._client = Client(DomainDispatcherApplication(create_backend_app))

    def call(self, action: str, **parameters) -> bytes:
        answer = self._client.post(
            "/",
            data=json.dumps(parameters),
            headers={
                "Host": f"states.{REGION}.amazonaws.com",
                "Content-Type": "application/x-amz-json-1.0",
                "X-Amz-Target": f"AWSStepFunctions.{action}",
                "Authorization": f"AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260101/{REGION}/states/x",
            },
        )
        assert answer.status_code == 200, answer.get_data(as_text=True)
        return answer.get_data()

    def answers(self, arn: str, state_machine_arn: str) -> list[bytes]:
        """What DescribeExecution, GetExecutionHistory and ListExecutions answer about the execution ``arn``."""
        return [
            self.call("DescribeExecution", executionArn=arn),
            self.call("GetExecutionHistory", executionArn=arn),
            self.call("ListExecutions", stateMachineArn=state_machine_arn),
        ]

    def run(self, state_machine_arn: str, execution_input: dict) -> str:
        """The ARN of an execution of the state machine, once it has ended."""
        started = self.call("StartExecution", stateMachineArn=state_machine_arn, input=json.dumps(execution_input))
        arn = json.loads(started)["executionArn"]
        for _ in range(500):
            if json.loads(self.call("DescribeExecution", executionArn=arn))["status"] != "RUNNING":
                return arn
            time.sleep(0.01)
        raise AssertionError(f"{arn} did not end")


def parser_backend():
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    return stepfunctions_parser_backends[ACCOUNT][REGION]


@pytest.mark.parametrize("fail", [False, True], ids=["succeeded", "failed"])
def test_an_ended_execution_kept_compact_answers_as_before(released_moto, fail):
    api = StepFunctionsApi(released_moto)
    name = f"compacted-{fail}"
    machine = json.loads(api.call("CreateStateMachine", name=name, definition=COMPACTED, roleArn=ROLE))
    before_compacting = {}

    def ended(execution) -> None:  # as the feed hears of it: moto's environment still kept
        before_compacting[execution.exec_arn] = api.answers(execution.exec_arn, machine["stateMachineArn"])

    moto_patches.apply(tuned=True, started=lambda execution: None, ended=ended, keep_executions=10)

    arn = api.run(machine["stateMachineArn"], {"recipients": ["alice", "bob", "carol"], "fail": fail})

    execution = parser_backend().describe_execution(arn)
    for _ in range(500):  # compacted just after the feed hears of its end, in the execution's thread
        if isinstance(execution.exec_worker, hooks.EndedWorker):
            break
        time.sleep(0.01)
    assert isinstance(execution.exec_worker, hooks.EndedWorker)
    assert execution.status == ("FAILED" if fail else "SUCCEEDED")
    history = json.loads(before_compacting[arn][1])["events"]
    assert any(event["type"] == "MapIterationSucceeded" for event in history)
    assert api.answers(arn, machine["stateMachineArn"]) == before_compacting[arn]
    first, second = (execution.exec_worker.env.event_manager.get_event_history() for _ in range(2))
    assert first == second and first[0] is not second[0]  # each reader its copy, as moto's deep copy gives
    api.call("StopExecution", executionArn=arn)  # of an ended execution: nothing changes
    assert api.answers(arn, machine["stateMachineArn"]) == before_compacting[arn]
    with pytest.raises(Exception, match="InvalidToken"):  # moto looks through every execution's callbacks
        parser_backend().send_task_failure("no-such-token")


def test_untuned_an_ended_execution_keeps_what_moto_keeps(released_moto):
    api = StepFunctionsApi(released_moto)
    machine = json.loads(api.call("CreateStateMachine", name="untuned", definition=COMPACTED, roleArn=ROLE))
    moto_patches.apply(tuned=False, **OPTIONS)

    arn = api.run(machine["stateMachineArn"], {"recipients": ["alice"], "fail": False})

    assert not isinstance(parser_backend().describe_execution(arn).exec_worker, hooks.EndedWorker)
