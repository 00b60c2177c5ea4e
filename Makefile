# Two commands on a fresh machine (Python 3.11+, Node 20+, npm): `make dev` runs the chat on
# loopback, `make test` runs every test. Both install what they need first.
SHELL := /bin/bash
STAGE ?= dev
PORT ?= 3001
VENV := .venv
PYTHON := $(VENV)/bin/python
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20

.PHONY: install dev test lint synth synth-all preflight deploy destroy executions browser clean smoke pipeline token delete-user

install: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install --quiet ".[dev]"
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

# Options of `python -m local serve` go in ARGS: make dev ARGS="--quiet-history --workers 2" (--help lists them).
# --from-make: its hints then say what to type to make (make dev PORT=...), not to python -m local.
dev: install
	$(PYTHON) -m local serve --stage $(STAGE) --port $(PORT) --from-make $(ARGS)

# The pipeline's build runs this recipe too, with PYTEST_ARGS='-m "not browser"' (it has no Chromium).
# Tests run in TEST_WORKERS parallel processes (pytest-xdist); most of the suite waits (synthesis, process
# start-ups, sleeps), so workers overlap waits more than they share CPUs. TEST_WORKERS=0: one process.
TEST_WORKERS ?= 4
test: install browser
	$(PYTHON) -m ruff check .
	$(PYTHON) -m ruff format --check .
	node --test tests/web/
	$(PYTHON) -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

lint: install
	$(PYTHON) -m ruff check .
	$(PYTHON) -m ruff format --check .

synth: install
	npx cdk synth -c stage=$(STAGE) --quiet

# Every stage cdk.json defines.
STAGES = $(shell python3 -c 'import json; print(*json.load(open("cdk.json"))["context"]["stages"])')

synth-all: install
	for stage in $(STAGES); do npx cdk synth -c stage=$$stage --quiet || exit 1; done

# Checks the account (credentials, bootstrap, Powertools layer, API Gateway logging role, log groups).
preflight: install
	$(PYTHON) -m cdk.operations.preflight --stage $(STAGE)

deploy: install preflight
	npx cdk deploy -c stage=$(STAGE) Chat-$(STAGE)

destroy: install
	npx cdk destroy -c stage=$(STAGE) Chat-$(STAGE)

# An ID token of a deployed stage's user, for wscat -c "wss://.../dev?token=$TOKEN" (asks for the password):
# TOKEN=$(make token STAGE=dev USERNAME=alice)
token: install
	@test -n "$(USERNAME)" || { echo "usage: make token STAGE=<stage> USERNAME=<name>" >&2; exit 2; }
	@$(PYTHON) -m cdk.operations.token --stage $(STAGE) --username "$(USERNAME)"

# Deletes a deployed stage's user: out of the pool, then the user_removal workflow (README: Deleting a user).
# make delete-user STAGE=dev USERNAME=bob
delete-user: install
	@test -n "$(USERNAME)" || { echo "usage: make delete-user STAGE=<stage> USERNAME=<name>" >&2; exit 2; }
	@$(PYTHON) -m cdk.operations.delete_user --stage $(STAGE) --username "$(USERNAME)"

# The dev -> staging -> prod pipeline (README: Pipeline); later changes to it deploy themselves.
pipeline: install
	npx cdk deploy -c pipeline=true Chat-pipeline

# make executions [ID=<execution name, message id or connection id>] (while make dev runs)
executions: install
	$(PYTHON) -m local executions --stage $(STAGE) $(ID)

# The smoke test of a running stage: make smoke URL=wss://<api-id>.execute-api.<region>.amazonaws.com/dev
smoke: install
	@test -n "$(URL)" || { echo "usage: make smoke URL=wss://<api-id>.execute-api.<region>.amazonaws.com/<stage>" >&2; exit 2; }
	$(PYTHON) -m smoke "$(URL)"

# Headless Chromium for the browser tests, from Debian's packages (tests skip, saying why, without it).
browser:
	@scripts/ensure-chromium

clean:
	rm -rf $(VENV) node_modules cdk.out .pytest_cache .ruff_cache
