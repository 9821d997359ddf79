# Two entry points for a fresh clone (see README):
#   make run   set up .venv, build the commune base if missing, run the main job
#   make test  set up .venv with the dev extra, build what the tests need, run pytest
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
BASE := data/communes/communes.parquet

.PHONY: run test lint bench build clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

$(BASE): | $(VENV)/.installed
	$(BIN)/ancrage data build

build: | $(VENV)/.installed
	$(BIN)/ancrage data build

run: $(VENV)/.installed $(BASE)
	$(BIN)/ancrage run

test: $(VENV)/.installed-dev $(BASE)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(VENV)/.installed $(BASE)
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) out .pytest_cache
