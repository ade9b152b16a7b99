# The two commands a new user needs: `make demo` and `make test`. Both set up first.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(VENV)/bin
UV := python3 -m uv
# Byte-compile on install: imports of dbt, Great Expectations and Airflow are ~2x faster.
export UV_COMPILE_BYTECODE := 1
export AIRFLOW__CORE__LOAD_EXAMPLES := False

DEMO_LANDING ?= data/landing
DEMO_WAREHOUSE ?= warehouse
DEMO_CUSTOMERS ?= 2000
DEMO_DAYS ?= 365
DEMO_SEED ?= 42

.PHONY: help setup demo test lint clean

help:
	@echo "make demo   set up, generate a demo shop, run the whole DAG once, show where the marts are"
	@echo "make test   set up and run the test suite"
	@echo "make lint   ruff"

setup: $(VENV)/.installed

# Re-runs only when the dependency files change; uv itself comes from PyPI when missing.
$(VENV)/.installed: pyproject.toml uv.lock
	@python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet --disable-pip-version-check uv
	$(UV) sync --frozen --all-groups
	@touch $@

# The shop is generated once; running demo again re-runs the DAG, which ingests nothing twice.
demo: setup
	@if [ -d $(DEMO_LANDING)/orders ]; then echo "using the demo shop already in $(DEMO_LANDING) (make clean for a new one)"; \
	else $(BIN)/ecom generate --out $(DEMO_LANDING) --customers $(DEMO_CUSTOMERS) --days $(DEMO_DAYS) --seed $(DEMO_SEED); fi
	$(BIN)/ecom run --landing $(DEMO_LANDING) --warehouse $(DEMO_WAREHOUSE)

test: setup
	$(BIN)/ruff check plugins dags tests
	$(BIN)/pytest

lint: setup
	$(BIN)/ruff check plugins dags tests

clean:
	rm -rf $(DEMO_WAREHOUSE) $(DEMO_LANDING) dbt_project/target dbt_project/logs
