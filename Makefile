# Two commands do all the set-up on a fresh machine with Python >= 3.11:
#   make compare   the main job: run both variants locally and compare them (no AWS account needed)
#   make test      lint, type-check and run the test suite
# Both install the project into .venv (editable, with the pinned requirements), so its commands work from any
# directory with no PYTHONPATH: .venv/bin/migration-wait-compare, -benchmark-polling, -benchmark-callback, -faults,
# -third-party and -deployed (as do `.venv/bin/python scripts/compare.py` and `python -m scripts.compare`).
#
# Exit codes: each command exits 0 when done, 1 when what it ran failed (a self-check, a scenario, an AWS call),
# 2 for a usage error (one line on stderr naming the mistake). make itself always exits 2 when a command fails;
# its "make: *** [Makefile:NN: compare] Error N" line shows the command's own code N. Scripts that check the code
# run the commands directly.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Two stamps: the main job's requirements (make compare installs only these), and the test toolchain on top.
COMPARE_STAMP := $(VENV)/.compare-$(shell cat requirements-compare.txt handlers/requirements.txt pyproject.toml | cksum | cut -d' ' -f1)
STAMP := $(VENV)/.installed-$(shell cat requirements-dev.txt requirements-compare.txt handlers/requirements.txt pyproject.toml | cksum | cut -d' ' -f1)

# AWS SAM CLI lives in its own virtual environment: its boto3/botocore pins conflict with the runtime's.
SAM_VENV := .venv-sam
SAM := $(SAM_VENV)/bin/sam
SAM_STAMP := $(SAM_VENV)/.installed-$(shell cksum < requirements-sam.txt | cut -d' ' -f1)
# SAM CLI must not phone home: no telemetry, and its weekly "is there a newer version?" request to PyPI is
# never due (its settings file lives in .venv-sam/app instead of ~/.aws-sam). sam validate needs a region to
# resolve pseudo parameters; nothing is sent to it.
export SAM_CLI_TELEMETRY := 0
export __SAM_CLI_APP_DIR := $(abspath $(SAM_VENV))/app
SAM_REGION ?= us-east-1
# checkov, the template's security scan, lives in its own virtual environment too (its pins conflict as well).
CHECKOV_VENV := .venv-checkov
CHECKOV := $(CHECKOV_VENV)/bin/checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed-$(shell cksum < requirements-checkov.txt | cut -d' ' -f1)
# The functions' runtime; sam build and the built-artifact test need this interpreter (pyenv is enough).
RUNTIME_PYTHON_VERSION := 3.13

.PHONY: docs cloud-standin compare test lint typecheck template build pytest benchmark benchmark-callback third-party faults clean

# The project itself is built by the hatchling pinned in requirements-dev.txt (no isolated build environment, so no
# unpinned download); its .pth file puts handlers/ and the repository root on sys.path.
# What the warm-up after the install runs: one variant of each kind the comparison measures.
WARM_UP_VARIANTS := polling-default,polling-default-serverless,callback-event,callback-event-serverless,third-party-callback
# --no-compile (every install here): pip would byte-compile every installed module (moto alone has thousands, most
# never imported), a third of the install's time. Python compiles what a run imports, on first import: for the main
# job, in the warm-up at the end of its install.
$(COMPARE_STAMP): requirements-compare.txt handlers/requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("Python >= 3.11 is required, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-compile -r requirements-compare.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-compile --no-build-isolation --no-deps -e .
	@# The smallest comparison, output discarded: Python compiles what a run imports now, not in the first matrix.
	@$(BIN)/migration-wait-compare --variants $(WARM_UP_VARIANTS) --durations 15m --failure-duration none --jobs 1 \
		> /dev/null 2> $(VENV)/warm-up.log || (cat $(VENV)/warm-up.log; exit 1)
	@rm -f $(VENV)/.compare-*
	@touch $@

$(STAMP): $(COMPARE_STAMP) requirements-dev.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-compile -r requirements-dev.txt
	@rm -f $(VENV)/.installed-*
	@touch $@

$(SAM_STAMP): requirements-sam.txt
	@test -x $(SAM_VENV)/bin/python || $(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --no-compile -r requirements-sam.txt
	@mkdir -p $(SAM_VENV)/app
	@echo '{"telemetryEnabled": false, "lastVersionCheck": 4102444800.0}' > $(SAM_VENV)/app/metadata.json
	@rm -f $(SAM_VENV)/.installed-*
	@touch $@

$(CHECKOV_STAMP): requirements-checkov.txt
	@test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --no-compile -r requirements-checkov.txt
	@rm -f $(CHECKOV_VENV)/.installed-*
	@touch $@

compare: $(COMPARE_STAMP)
	$(BIN)/migration-wait-compare $(ARGS)

test: lint typecheck template
	@$(MAKE) --no-print-directory pytest ARTIFACT_JUST_BUILT=1
	@$(MAKE) --no-print-directory cloud-standin

lint: $(STAMP)
	$(BIN)/ruff check handlers scripts tests local_aws examples
	$(BIN)/ruff format --check handlers scripts tests local_aws examples

typecheck: $(STAMP)
	$(BIN)/mypy

# The template, checked offline: cfn-lint, SAM's own translation, sam validate --lint, checkov, then sam build.
# checkov reads AWS::Serverless::Function itself (Globals merged), so the SAM template is what it scans; it fails on
# any finding not skipped, with its reason, in the resource's Metadata. Offline: no platform download
# (--skip-download), no version check against PyPI (CKV_SKIP_PACKAGE_UPDATE_CHECK).
template: $(STAMP) $(SAM_STAMP) $(CHECKOV_STAMP)
	$(BIN)/cfn-lint template.yaml
	$(BIN)/cfn-lint examples/glue_job_run/template.yaml
	$(SAM) validate --template-file template.yaml --region $(SAM_REGION)
	$(SAM) validate --lint --template-file template.yaml --region $(SAM_REGION)
	CKV_SKIP_PACKAGE_UPDATE_CHECK=true $(CHECKOV) --file template.yaml --framework cloudformation \
		--skip-download --compact --quiet
	@$(MAKE) --no-print-directory build

# Without the runtime's Python the build is skipped, loudly, and any earlier artifact is removed, so the
# built-artifact test skips (saying why) instead of importing stale code.
build: $(STAMP) $(SAM_STAMP)
	@if runtime=$$($(BIN)/python scripts/runtime_python.py $(RUNTIME_PYTHON_VERSION)); then \
		echo "sam build with $$runtime"; \
		PATH="$$(dirname "$$runtime"):$$PATH" $(SAM) build --parallel --cached --template-file template.yaml; \
	else \
		echo "SKIPPED sam build: it needs Python $(RUNTIME_PYTHON_VERSION), the functions' runtime (install it, e.g. pyenv install $(RUNTIME_PYTHON_VERSION))"; \
		rm -rf .aws-sam/build; \
	fi

pytest: $(STAMP)
	MIGRATION_WAIT_ARTIFACT_JUST_BUILT=$(ARTIFACT_JUST_BUILT) $(BIN)/pytest $(PYTEST_ARGS)

# The cloud test mode (DurableFunctionCloudTestRunner) against the local stand-in of a deployed stack
# (migration-wait-standin): the shared scenarios through Invoke, GetDurableExecution and its history, on 127.0.0.1.
# The stand-in's task SCENARIO ran once before, so each scenario reloads it. The third-party variant has no stand-in.
STANDIN_TASK := arn:aws:dms:us-east-1:123456789012:task:SCENARIO
cloud-standin: $(STAMP)
	$(BIN)/migration-wait-standin -- $(BIN)/pytest -p no:cacheprovider --runner-mode cloud --stack-name migration-wait \
		--dms-task-arn $(STANDIN_TASK) --dms-task-start-type reload-target --cloud-poll-interval 0.2 \
		--cloud-timeout 120 -k "not third-party" tests/test_migration_scenarios.py $(PYTEST_ARGS)

benchmark: $(COMPARE_STAMP)
	$(BIN)/migration-wait-benchmark-polling $(ARGS)

benchmark-callback: $(COMPARE_STAMP)
	$(BIN)/migration-wait-benchmark-callback $(ARGS)

# Every fault (lost answers, throttling, crashes at every boundary, stale, duplicate, lost and malformed events) in
# every variant: a table and the headline figures (make test runs the same scenarios as tests/test_fault_matrix.py).
faults: $(COMPARE_STAMP)
	$(BIN)/migration-wait-faults $(ARGS)

# One third-party job wait end to end, the signed callback shown (ARGS="--misbehave wrong-signature", "--fails").
third-party: $(COMPARE_STAMP)
	$(BIN)/migration-wait-third-party $(ARGS)

# Every generated page the docs link to, regenerated from this checkout's code (the tests check the README summary
# and docs/architecture.md against them): the comparison, the benchmarks, the fault matrix.
docs: $(COMPARE_STAMP)
	$(BIN)/migration-wait-compare --out docs/comparison
	@mkdir -p docs/benchmarks
	$(BIN)/migration-wait-benchmark-polling --json docs/benchmarks/polling.json > docs/benchmarks/polling.md
	$(BIN)/migration-wait-benchmark-callback > docs/benchmarks/callback.md
	$(BIN)/migration-wait-faults --json docs/benchmarks/fault-matrix.json > docs/benchmarks/fault-matrix.md
	$(BIN)/python -m local_aws.comparison.summary
	$(BIN)/python -m scripts.architecture_doc

clean:
	rm -rf $(VENV) $(SAM_VENV) $(CHECKOV_VENV) .pytest_cache .mypy_cache .ruff_cache .aws-sam
