"""Which functions are built from lambdas/ (their asset is its files, byte for byte), and the snapshots
of lambdas/ a handler edit is served from without a synthesis."""

from pathlib import Path

from local.code_assets import functions_built_from, only_code_changed, serving_code, snapshot
from local.template import RouteSpec, StackModel, WebSocketApiSpec
from tests.unit.local.test_lambda_service import spec


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def model(functions: dict[str, Path]) -> StackModel:
    specs = {name: spec(code_dir, name) for name, code_dir in functions.items()}
    first = next(iter(specs.values()))
    api = WebSocketApiSpec(
        logical_id="Api",
        api_id="abc",
        name="chat",
        route_selection_expression="$request.body.action",
        stage="test",
        routes={"$default": RouteSpec("$default", first, returns_response=True)},
    )
    return StackModel("Chat-test", "us-east-1", "123456789012", specs, {}, api)


SOURCES = {"on_default.py": "def handler(e, c):\n    return 1\n", "chat/__init__.py": "", "chat/frames.py": "X = 1\n"}


def test_functions_whose_asset_is_the_code_directory_file_for_file_are_built_from_it(tmp_path):
    lambdas = write_tree(tmp_path / "lambdas", {**SOURCES, "chat/__pycache__/frames.cpython-311.pyc": "compiled"})
    copied = write_tree(tmp_path / "cdk.out" / "asset.same", SOURCES)
    edited = write_tree(tmp_path / "cdk.out" / "asset.edited", {**SOURCES, "chat/frames.py": "X = 2\n"})
    extra = write_tree(tmp_path / "cdk.out" / "asset.extra", {**SOURCES, "vendored.py": ""})
    missing = write_tree(tmp_path / "cdk.out" / "asset.missing", {"on_default.py": SOURCES["on_default.py"]})
    served = model({"Same": copied, "AlsoSame": copied, "Edited": edited, "Extra": extra, "Missing": missing})

    assert functions_built_from(served, lambdas) == {"Same", "AlsoSame"}


def test_no_function_is_built_from_a_missing_or_empty_code_directory(tmp_path):
    asset = write_tree(tmp_path / "asset", SOURCES)
    (tmp_path / "empty").mkdir()
    assert functions_built_from(model({"Fn": asset}), tmp_path / "absent") == frozenset()
    assert functions_built_from(model({"Fn": asset}), tmp_path / "empty") == frozenset()


def test_snapshots_are_named_by_content_and_never_change(tmp_path):
    lambdas = write_tree(tmp_path / "lambdas", {**SOURCES, "__pycache__/on_default.cpython-311.pyc": "compiled"})
    into = tmp_path / "snapshots"
    into.mkdir()

    first = snapshot(lambdas, into)
    again = snapshot(lambdas, into)
    (lambdas / "chat" / "frames.py").write_text("X = 2\n", encoding="utf-8")
    second = snapshot(lambdas, into)

    assert first == again != second
    assert (first / "chat" / "frames.py").read_text(encoding="utf-8") == "X = 1\n"
    assert (second / "chat" / "frames.py").read_text(encoding="utf-8") == "X = 2\n"
    assert not (first / "__pycache__").exists()
    assert sorted(path.name for path in into.iterdir()) == sorted([first.name, second.name])  # no partial copies


def test_serving_code_points_the_chosen_functions_and_their_routes_at_the_new_code(tmp_path):
    served = model({"Route": tmp_path / "asset.a", "Other": tmp_path / "asset.b"})

    updated = serving_code(served, frozenset({"Route"}), tmp_path / "snapshot")

    assert updated.functions["Route"].code_dir == tmp_path / "snapshot"
    assert updated.api.routes["$default"].function.code_dir == tmp_path / "snapshot"
    assert updated.functions["Other"] == served.functions["Other"]


def test_only_edits_under_lambdas_are_code_only():
    assert only_code_changed(["lambdas/on_default.py", "lambdas/chat/new_module.py"])
    assert not only_code_changed(["lambdas/on_default.py", "cdk/functions.py"])
    assert not only_code_changed(["statemachines/message_fanout.asl.json"])
    assert not only_code_changed(["cdk.json"])
    assert not only_code_changed(["lambdas.py"])
    assert not only_code_changed([])
