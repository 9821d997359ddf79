# Two entry points for a fresh clone (see README):
#   make run   set up .venv, build the commune base if missing, run the main job, serve the web pages
#   make test  set up .venv with the dev extra, build what the tests need, run pytest
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
BASE := data/communes/communes.parquet

.PHONY: run test test-fast lint bench build clean browser

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
	$(BIN)/ancrage serve

# The browser tests drive Debian's chromium (Playwright uses it, downloads no browser).
# Install it where this machine allows (root with apt-get); elsewhere they are skipped.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian's chromium for the browser tests"; \
	    apt-get install -y -qq chromium >/dev/null 2>&1 || \
	    { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq chromium >/dev/null 2>&1; } || \
	    echo "could not install chromium: the browser tests will be skipped"; \
	  else echo "chromium not found: the browser tests will be skipped (apt-get install chromium)"; fi; }

test: $(VENV)/.installed-dev $(BASE) browser
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest

# The fast lane: everything but the real builds, the browser, notebooks, fuzzing and load.
test-fast: $(VENV)/.installed-dev $(BASE)
	$(BIN)/python -m pytest -m "not integration and not browser and not notebook and not slow" -q

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/ruff format --check .

bench: $(VENV)/.installed $(BASE)
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache
