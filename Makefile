# Every target that runs code depends on .venv/.installed, which is rebuilt when pyproject.toml
# changes, so a fresh clone needs nothing but Python 3.11 and make.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint fmt typecheck bench clean bytecode

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# bootstrap's modules compiled ahead, as pip does when it installs a wheel: an editable install
# under PYTHONDONTWRITEBYTECODE=1 would compile every module on every start (0.6 s of each CLI
# run). Only the files changed since the last compile are compiled again.
bytecode: $(STAMP)
	@$(BIN)/python -m compileall -q bootstrap

demo: $(STAMP) bytecode
	$(BIN)/bootstrap demo

test: $(STAMP) bytecode lint typecheck
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# One run, configured in pyproject.toml [tool.mypy]: bootstrap/ and bench/ strict, tests/ plain.
typecheck: $(STAMP)
	$(BIN)/mypy

fmt: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP) bytecode
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) build dist .mypy_cache .ruff_cache
