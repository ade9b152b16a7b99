# The two commands a new user needs: `make demo` and `make test`. Both set up first.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(VENV)/bin
# uv from PATH when there is one, else a private copy in .tools/ (never pip into the system Python,
# which Debian and Ubuntu mark externally managed).
UV_ON_PATH := $(shell command -v uv 2>/dev/null)
UV := $(if $(UV_ON_PATH),$(UV_ON_PATH),.tools/bin/uv)
# Byte-compile on install: imports of dbt, Great Expectations and Airflow are ~2x faster.
export UV_COMPILE_BYTECODE := 1
export AIRFLOW__CORE__LOAD_EXAMPLES := False

DEMO_LANDING ?= data/landing
DEMO_WAREHOUSE ?= warehouse
DEMO_CUSTOMERS ?= 2000
DEMO_DAYS ?= 365
DEMO_SEED ?= 42
SCALE ?= small
BENCH_ARGS ?=

# Client environments of BI tools, each its own venv (their DuckDB and SQLAlchemy are not ours):
# tests/clients/<name>.txt -> build/clients/<name>/. Made once; again when its pins change.
CLIENTS_DIR := build/clients
CLIENT_ENVS := $(patsubst tests/clients/%.txt,$(CLIENTS_DIR)/%/.installed,$(wildcard tests/clients/*.txt))
# SQLFluff (.sqlfluff) renders each model with dbt itself (dbt templater) on an empty warehouse of its
# own, as of a fixed day, its dbt target and logs beside it (never the manifest the tests read).
SQLFLUFF_DIR := build/sqlfluff
SQLFLUFF = mkdir -p $(SQLFLUFF_DIR) && ECOM_WAREHOUSE_DIR=$(CURDIR)/$(SQLFLUFF_DIR) ECOM_AS_OF=2024-03-31 \
	DBT_TARGET_PATH=$(CURDIR)/$(SQLFLUFF_DIR)/target DBT_LOG_PATH=$(CURDIR)/$(SQLFLUFF_DIR)/logs $(BIN)/sqlfluff

.PHONY: help setup demo test test-faults lint clean browser postgres clients bench

help:
	@echo "make demo   set up, generate a demo shop, run the whole DAG once, show where the marts are"
	@echo "make test   set up and run the test suite"
	@echo "make test-faults  the kill-and-rerun scenarios (about 6 minutes, not part of make test)"
	@echo "make lint   ruff, and SQLFluff on the dbt project's SQL"
	@echo "make bench  benchmarks at one scale (SCALE=small|medium|large, data under BENCH_DIR=/tmp/ecom-bench),"
	@echo "            results in BENCHMARKS.md (slow: not part of make test)"

setup: $(VENV)/.installed

# Re-runs only when the dependency files change.
$(VENV)/.installed: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen
	@touch $@

.tools/bin/uv:
	python3 -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv

# The shop is generated once; running demo again re-runs the DAG, which ingests nothing twice.
demo: setup
	@if [ -d $(DEMO_LANDING)/orders ]; then echo "using the demo shop already in $(DEMO_LANDING) (make clean for a new one)"; \
	else $(BIN)/ecom generate --out $(DEMO_LANDING) --customers $(DEMO_CUSTOMERS) --days $(DEMO_DAYS) --seed $(DEMO_SEED); fi
	$(BIN)/ecom run --landing $(DEMO_LANDING) --warehouse $(DEMO_WAREHOUSE)

test: setup browser postgres clients
	$(BIN)/ruff check plugins dags tests benchmarks
	$(SQLFLUFF) lint dbt_project/models dbt_project/tests
	$(BIN)/python -m ecom.dbt_manifest  # once, before parallel test workers read it
	$(BIN)/pytest -m "not faults"

# Kills `ecom run` at each step and reruns it: five runs in a row, too slow for make test's 10 minutes.
test-faults: setup
	$(BIN)/python -m ecom.dbt_manifest
	$(BIN)/pytest -m faults

# Headless Chromium renders the steward report in the tests (Debian/Ubuntu package; CI runs as root).
# Instant when chromium is already there.
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	{ $(if $(filter 0,$(shell id -u)),,sudo )apt-get update -qq && \
	  $(if $(filter 0,$(shell id -u)),,sudo )apt-get install -y -qq --no-install-recommends chromium; }

# PostgreSQL server binaries (Debian's postgresql package): the tests start a throwaway server on
# loopback for the PostgreSQL publish target. Instant when initdb and pg_ctl are there.
postgres:
	@command -v pg_ctl >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || \
	{ $(if $(filter 0,$(shell id -u)),,sudo )apt-get update -qq && \
	  $(if $(filter 0,$(shell id -u)),,sudo )apt-get install -y -qq --no-install-recommends postgresql; }

clients: $(CLIENT_ENVS)

$(CLIENTS_DIR)/%/.installed: tests/clients/%.txt | $(UV)
	$(UV) venv --quiet --allow-existing --python 3.11 $(CLIENTS_DIR)/$*
	$(UV) pip install --quiet --python $(CLIENTS_DIR)/$*/bin/python -r $<
	@touch $@

lint: setup
	$(BIN)/ruff check plugins dags tests benchmarks
	$(SQLFLUFF) lint dbt_project/models dbt_project/tests

bench: setup
	$(BIN)/python benchmarks/run.py --scale $(SCALE) $(BENCH_ARGS)

clean:
	rm -rf $(DEMO_WAREHOUSE) $(DEMO_LANDING) dbt_project/target dbt_project/logs build
