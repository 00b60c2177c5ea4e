"""Every state machine definition as deployed (each stage's template, its definition substitutions
resolved as the local runtime resolves them) passes asl-validator (npm), a check of the Amazon States
Language by a third party, beside moto's interpreter that runs the definitions in the workflow tests."""

import json
import subprocess
from pathlib import Path

import pytest
from infra_support import PROJECT_ROOT, STAGES

from local.template import load_stack

ASL_VALIDATOR = PROJECT_ROOT / "node_modules" / ".bin" / "asl-validator"


def asl_validator(definitions: dict[str, str], directory: Path) -> subprocess.CompletedProcess:
    """asl-validator (paths and Resource ARNs checked) over each named definition; exit code 0 when all pass."""
    arguments = []
    for name, definition in definitions.items():
        path = directory / f"{name}.asl.json"
        path.write_text(definition, encoding="utf-8")
        arguments += ["--json-path", str(path)]
    return subprocess.run([ASL_VALIDATOR, *arguments], capture_output=True, text=True, timeout=120, check=False)


def deployed_definitions(synth_stage, stage: str) -> dict[str, str]:
    machines = load_stack(synth_stage(stage).outdir, f"Chat-{stage}").state_machines.values()
    return {machine.display_name: machine.definition for machine in machines}


@pytest.mark.parametrize("stage", STAGES)
def test_every_deployed_definition_passes_asl_validator(synth_stage, stage, tmp_path):
    definitions = deployed_definitions(synth_stage, stage)
    assert len(definitions) == len(list((PROJECT_ROOT / "statemachines").glob("*.asl.json")))
    assert all("${" not in definition for definition in definitions.values()), "a placeholder left unsubstituted"

    result = asl_validator(definitions, tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("is valid") == len(definitions)


def test_asl_validator_rejects_the_not_equal_filter_its_grammar_lacks(synth_stage, tmp_path):
    """Why ListUnreachedConnections filters on ``reached == false`` rather than ``status != 'delivered'``:
    Step Functions (Jayway JsonPath) and moto accept ``!=``, asl-validator's path grammar does not. This
    also shows that the check above can fail."""
    (name, definition), *_ = [
        (name, definition)
        for name, definition in deployed_definitions(synth_stage, "dev").items()
        if "MessageFanout" in name
    ]
    machine = json.loads(definition)
    parameters = machine["States"]["ListUnreachedConnections"]["Parameters"]
    parameters["failures.$"] = "$.deliveries[?(@.status != 'delivered')]"

    result = asl_validator({name: json.dumps(machine)}, tmp_path)

    assert result.returncode == 1
    assert "/States/ListUnreachedConnections/Parameters/failures.$ is invalid" in result.stderr
