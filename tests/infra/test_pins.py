"""Versions are pinned once, in pyproject.toml; the stack deploys what the tests run."""

from importlib.metadata import version

import pytest

from cdk.pins import PinError, pinned_requirement, pinned_version


def test_the_powertools_layer_is_the_powertools_the_tests_run(templates):
    """The layer's SSM parameter names the installed Powertools: the one make test and make dev run."""
    parameters = templates("dev")["Parameters"].values()
    layers = [p["Default"] for p in parameters if p["Default"].startswith("/aws/service/powertools/python/")]

    assert layers == [f"/aws/service/powertools/python/arm64/python3.13/{version('aws-lambda-powertools')}"]


def pyproject(tmp_path, *dependencies: str, dev: tuple[str, ...] = ()):
    path = tmp_path / "pyproject.toml"
    listed = ", ".join(f'"{d}"' for d in dependencies)
    dev_listed = ", ".join(f'"{d}"' for d in dev)
    path.write_text(f"[project]\ndependencies = [{listed}]\n[project.optional-dependencies]\ndev = [{dev_listed}]\n")
    return path


def test_a_pin_is_found_with_extras_in_any_list_and_any_spelling(tmp_path):
    path = pyproject(tmp_path, "boto3==1.0", "AWS_Lambda.Powertools[parser] == 3.1.0", dev=("websockets==17.4",))

    assert pinned_version("aws-lambda-powertools", pyproject=path) == "3.1.0"
    assert pinned_requirement("websockets", pyproject=path) == "websockets==17.4"


@pytest.mark.parametrize(
    ("dependencies", "message"),
    [
        (("aws-lambda-powertools>=3",), "must pin aws-lambda-powertools to one version"),
        (("aws-lambda-powertools",), "must pin aws-lambda-powertools to one version"),
        (("boto3==1.0",), "lists it 0 times"),
        (("aws-lambda-powertools==3.1", "aws_lambda_powertools==3.2"), "lists it 2 times"),
    ],
)
def test_anything_but_one_exact_pin_is_an_error(tmp_path, dependencies, message):
    with pytest.raises(PinError, match=message):
        pinned_version("aws-lambda-powertools", pyproject=pyproject(tmp_path, *dependencies))
