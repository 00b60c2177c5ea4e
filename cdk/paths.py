"""Project paths, built from this file's location so synth works from any working directory."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
LAMBDAS_DIR = PROJECT_ROOT / "lambdas"
STATEMACHINES_DIR = PROJECT_ROOT / "statemachines"
CDK_JSON = PROJECT_ROOT / "cdk.json"
