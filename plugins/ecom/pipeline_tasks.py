"""What each task of the `ecommerce_marts` DAG does, as plain functions: no Airflow import, unit-testable.

The DAG file only adapts these to Airflow (context in, `AirflowFailException` out). The pipeline
components are imported inside each function so that parsing the DAG file stays fast.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Protocol

from ecom.config import Settings

LATEST = "latest"
DAG_ID = "ecommerce_marts"
# Every task that writes warehouse.duckdb takes this single-slot pool: DuckDB allows one writer per file.
WAREHOUSE_POOL = "warehouse_writer"


class NoRetryError(Exception):
    """A failure that running the task again cannot fix: a gate that did not pass, a bad request."""


class QualityGateFailedError(NoRetryError):
    """A quality gate found `error` severity failures; the message is the gate's own description."""


class GateOutcome(Protocol):
    """What both gates return (`ecom.quality` GateResult)."""

    passed: bool

    def describe(self) -> str: ...


def resolve_as_of(requested: str | None, logical_date: date,
                  latest_order_date: Callable[[], date | None]) -> date:
    """The run's as-of date from the DAG param `as_of`.

    'YYYY-MM-DD' is that day, 'latest' the last order date in the raw layer, empty the run's logical date.
    """
    text = (requested or "").strip()
    if not text:
        return logical_date
    if text.lower() == LATEST:
        latest = latest_order_date()
        if latest is None:
            raise NoRetryError("as_of 'latest' needs orders in the raw layer, but no order has been loaded")
        return latest
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise NoRetryError(f"as_of must be YYYY-MM-DD, 'latest' or empty, got {requested!r}") from None


def ingest_and_resolve_as_of(settings: Settings, batch_id: str, requested_as_of: str | None,
                             logical_date: date) -> tuple[date, str]:
    """Load new landed files as batch `batch_id`, then resolve the as-of (after, so 'latest' sees them).

    Returns the as-of date and the ingest summary.
    """
    from ecom.ingest import (
        ChangedFileError,
        OutsideLandingError,
        UnreadableFileError,
        ingest,
        latest_order_date,
    )

    try:
        result = ingest(settings, batch_id)
    except (ChangedFileError, OutsideLandingError, UnreadableFileError) as error:  # until the landing changes
        raise NoRetryError(str(error)) from error
    as_of = resolve_as_of(requested_as_of, logical_date, lambda: latest_order_date(settings))
    return as_of, result.describe()


def nothing_new(settings: Settings, as_of: date, full_refresh: bool) -> str | None:
    """Why the run can stop after ingest (nothing landed, same as-of, same code), or None to build.

    A full refresh always builds.
    """
    from ecom.run_inputs import unchanged_since_publish

    return None if full_refresh else unchanged_since_publish(settings, as_of)


def raw_quality_gate(settings: Settings, run_id: str, as_of: date) -> str:
    """Validate the pending raw rows (promoting them when they pass). Raises when the gate fails."""
    from ecom.quality.raw_gate import run_raw_gate

    return _passed_or_raise("raw quality gate", run_raw_gate(settings, run_id, as_of))


def source_freshness(settings: Settings, run_id: str, as_of: date) -> str:
    """dbt source freshness of every landed raw table. Raises when a table is past its error threshold."""
    from ecom.contract import load_contract
    from ecom.quality.source_freshness import check_source_freshness

    tables = list(load_contract().tables)
    return _passed_or_raise("source freshness", check_source_freshness(settings, run_id, as_of, tables))


def record_dbt_results(settings: Settings, run_id: str, as_of: date, target_dir: Path) -> int:
    """Record the test results of the dbt invocation that wrote `target_dir` (gate `dbt` of
    audit.validation_results); returns how many."""
    from ecom.orchestrate import release_dbt_duckdb
    from ecom.quality.dbt_results import record_dbt_target

    # dbt-duckdb may still hold the warehouse open in this process, with its own configuration.
    release_dbt_duckdb()
    return record_dbt_target(settings, run_id, as_of, target_dir)


def mart_quality_gate(settings: Settings, run_id: str, as_of: date) -> str:
    """Validate the marts dbt just built. Raises when the gate fails."""
    from ecom.quality.mart_gate import run_mart_gate

    return _passed_or_raise("mart quality gate", run_mart_gate(settings, run_id, as_of))


def publish_marts(settings: Settings, run_id: str, as_of: date) -> str:
    """Publish the marts to the serving database and record what they were built from; returns the
    publish summary."""
    from ecom.publish import publish
    from ecom.run_inputs import record_published

    summary = publish(settings, run_id, as_of).describe()
    record_published(settings, run_id, as_of)
    return summary


def write_report(settings: Settings, run_id: str) -> Path:
    """Write the run's report and return its path."""
    from ecom.report import build_report

    return build_report(settings, run_id)


def _passed_or_raise(gate_name: str, result: GateOutcome) -> str:
    """The gate's description (a failed check quotes the values it found, personal ones masked)."""
    from ecom.redaction import safe_text

    description = safe_text(result.describe())
    if not result.passed:
        raise QualityGateFailedError(f"{gate_name} failed:\n{description}")
    return description
