# quantops — two commands on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
PORT ?= 8500
export PIP_DISABLE_PIP_VERSION_CHECK=1

.PHONY: run test lint fmt bench install install-dev clean services

$(PY):
	python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip

# Stamps re-run the install only when the dependency declarations change.
$(VENV)/.stamp-core: $(PY) pyproject.toml constraints.txt
	$(PIP) install -q -c constraints.txt -e .
	touch $@

$(VENV)/.stamp-dev: $(PY) pyproject.toml constraints.txt
	$(PIP) install -q -c constraints.txt -e ".[dev]"
	touch $@ $(VENV)/.stamp-core

$(VENV)/.stamp-bench: $(VENV)/.stamp-dev
	$(PIP) install -q -c constraints.txt -e ".[dev,bench]"
	touch $@

install: $(VENV)/.stamp-core
install-dev: $(VENV)/.stamp-dev

# Embedded defaults: SQLite + DuckDB + in-process worker, demo data loaded if the store is empty.
run: $(VENV)/.stamp-core
	$(VENV)/bin/quantops db upgrade
	$(VENV)/bin/quantops data demo --if-empty
	QUANTOPS_PORT=$(PORT) $(VENV)/bin/quantops users ensure-default
	$(VENV)/bin/quantops serve --host 0.0.0.0 --port $(PORT)

test: $(VENV)/.stamp-dev
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/python -m pytest -q

lint: $(VENV)/.stamp-dev
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench

fmt: $(VENV)/.stamp-dev
	$(VENV)/bin/ruff check --fix src tests bench
	$(VENV)/bin/ruff format src tests bench

bench: $(VENV)/.stamp-bench
	$(PY) bench/engine.py
	$(PY) bench/data.py
	$(PY) bench/jobs.py
	$(PY) bench/chat.py
	$(PY) bench/compare.py

clean:
	rm -rf $(VENV) var .pytest_cache
