# Two commands do all the set-up on a fresh machine with Python >= 3.11:
#   make compare   the main job: run both variants locally and compare them (no AWS account needed)
#   make test      lint, type-check and run the test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements-dev.txt handlers/requirements.txt | cksum | cut -d' ' -f1)
export PYTHONPATH := handlers:.

.PHONY: compare test lint typecheck pytest benchmark clean

$(STAMP): requirements-dev.txt handlers/requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit("Python >= 3.11 is required, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@rm -f $(VENV)/.installed-*
	@touch $@

compare: $(STAMP)
	$(BIN)/python scripts/compare.py $(ARGS)

test: lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check handlers scripts tests local_aws
	$(BIN)/ruff format --check handlers scripts tests local_aws

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

benchmark: $(STAMP)
	$(BIN)/python scripts/benchmark_polling.py $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .aws-sam
