"""Every ${Name} placeholder of a definition has a substitution, and every substitution is used."""

import json
import re

import pytest
from infra_support import PROJECT_ROOT, STAGES, render, resources

PLACEHOLDER = re.compile(r"\$\{(\w+)\}")
ASL_FILES = sorted((PROJECT_ROOT / "statemachines").glob("*.asl.json"))


def placeholders(definition: str) -> set[str]:
    return set(PLACEHOLDER.findall(definition))


@pytest.mark.parametrize("stage", STAGES)
def test_state_machine_placeholders_match_substitutions(templates, stage):
    machines = resources(templates(stage), "AWS::StepFunctions::StateMachine")

    assert len(machines) == len(ASL_FILES)
    for logical_id, machine in machines.items():
        definition = render(machine["DefinitionString"])
        assert isinstance(definition, str)
        found = placeholders(definition)
        assert found, logical_id
        assert found == set(machine["DefinitionSubstitutions"]), logical_id


@pytest.mark.parametrize("stage", STAGES)
def test_substitutions_are_the_asl_files_placeholders(templates, stage):
    machines = resources(templates(stage), "AWS::StepFunctions::StateMachine")
    deployed = sorted(sorted(machine["DefinitionSubstitutions"]) for machine in machines.values())

    in_files = sorted(sorted(placeholders(path.read_text(encoding="utf-8"))) for path in ASL_FILES)

    assert deployed == in_files


@pytest.mark.parametrize("path", ASL_FILES, ids=lambda path: path.name)
def test_every_task_target_of_the_asl_files_is_a_placeholder(path):
    """Function ARNs, the @connections API and the tables come from the stack, never written into the files."""

    def targets(states: dict) -> list[str]:
        found = []
        for state in states.values():
            if state["Type"] == "Task":
                parameters = state["Parameters"]
                names = ("FunctionName", "ApiEndpoint", "Stage", "TableName", "IndexName")
                found += [parameters[key] for key in names if key in parameters]
            if "ItemProcessor" in state:
                found += targets(state["ItemProcessor"]["States"])
        return found

    found = targets(json.loads(path.read_text(encoding="utf-8"))["States"])

    assert found
    assert all(PLACEHOLDER.fullmatch(target) for target in found), found
