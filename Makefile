# gbrec: the README's two commands are `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.gbrec-installed

.PHONY: demo test test-fast test-production lint typecheck bench install clean screenshots

install: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "gbrec needs Python >= 3.11"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools wheel
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/gbrec demo

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadgroup --timeout 900

test-fast: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadgroup -m "not slow"

# Production profile: PostgreSQL + Redis over TCP (installs Debian packages when missing).
test-production: $(STAMP)
	bash scripts/production/run.sh

# README pictures from a demo in headless Chromium (needs Debian's chromium).
screenshots: $(STAMP)
	bash scripts/screenshots.sh

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy --strict gbrec_core
	$(BIN)/mypy gbrec_assets gbrec_graphql

bench: $(STAMP)
	$(BIN)/python benchmarks/train.py
	$(BIN)/python benchmarks/index.py
	$(BIN)/python benchmarks/serving.py
	$(BIN)/python benchmarks/experiments.py

clean:
	rm -rf $(VENV) .gbrec .pytest_cache .mypy_cache .ruff_cache
