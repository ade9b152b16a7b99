"""The mart quality gate: only what dbt's contracts and tests cannot judge, and only by reading.

dbt owns the row and column rules of every mart (contracts, data tests, unit tests; their results
are in audit.validation_results too, gate `dbt`). Before publish this gate checks, in DuckDB:

- publish readiness (quality/mart_readiness.py): every mart of the dbt manifest exists with its
  contract's columns and types, and no mart column is named after personal data;
- attribution reconciliation (quality/reconciliation.py, expectations/marts_gate/
  attribution_reconciliation.json): per attribution model (dbt var attribution_models), every set of
  credits credits each conversion exactly once and its revenue. Skipped, with a note, only while a
  raw table the attribution marts need (their meta.requires_sources) has not landed: dbt then
  builds them empty;
- drift (quality/mart_drift.py): each mart's rows against the last publish (quality.yml mart_drift).

Every query returns a few rows per mart or per model: memory does not grow with the marts.
"""

from __future__ import annotations

from datetime import date

import duckdb

from ecom.config import Settings
from ecom.dbt_manifest import attribution_models, dbt_project_dir, manifest_path, mart_contracts
from ecom.quality.config import load_quality_config
from ecom.quality.data_docs import build_data_docs
from ecom.quality.history import record_gate_result
from ecom.quality.mart_drift import drift_checks, drift_frame, last_published_rows
from ecom.quality.mart_readiness import built_marts, readiness_checks
from ecom.quality.outcomes import check_results
from ecom.quality.reconciliation import (
    ATTRIBUTION_MARTS,
    CONVERSIONS_MART,
    attribution_reconciliation,
    raw_tables_not_landed,
)
from ecom.quality.results import CheckResult, GateResult
from ecom.quality.suites import load_suite, suite_path
from ecom.quality.validate import GateValidator

MART_GATE = "mart"
# The columns naming a failing row of the reconciliation.
RECONCILIATION_FIGURES = [
    "mart", "grain", "model", "credit_rows",
    "conversions", "expected_conversions", "revenue", "expected_revenue",
]  # fmt: skip


def run_mart_gate(settings: Settings, run_id: str, as_of: date) -> GateResult:
    manifest = manifest_path(dbt_project_dir())
    contracts = mart_contracts(manifest)
    drift_settings = load_quality_config().mart_drift
    previous = last_published_rows(settings.serving_db)
    checks: list[CheckResult] = []
    notes: list[str] = []
    database = settings.warehouse_db
    with (
        GateValidator(settings, MART_GATE, run_id) as validator,
        duckdb.connect(str(database), config=settings.duckdb_config(database)) as con,
    ):
        checks += readiness_checks(con, contracts, manifest)
        present = set(built_marts(con))
        needed = [
            t for mart in ATTRIBUTION_MARTS if mart in contracts for t in contracts[mart].requires_sources
        ]
        not_landed = raw_tables_not_landed(con, list(dict.fromkeys(needed)))
        if not_landed:
            notes.append(_reconciliation_skipped(not_landed))
        elif {*ATTRIBUTION_MARTS, CONVERSIONS_MART} <= present & set(contracts):
            frame = attribution_reconciliation(con, attribution_models())
            suite = load_suite(suite_path("marts_gate", "attribution_reconciliation"))
            checks += check_results(validator.validate(suite, frame, RECONCILIATION_FIGURES), "attribution")
        if previous is None:
            notes.append("mart drift not judged: nothing has been published yet")
        else:
            frame = drift_frame(
                con, sorted(present & set(contracts)), previous, drift_settings["min_baseline_rows"]
            )
            checks += drift_checks(validator, frame, drift_settings)
        data_docs_index = build_data_docs(validator, settings.data_docs_dir)
    result = GateResult(
        gate=MART_GATE,
        run_id=run_id,
        as_of=as_of,
        checks=checks,
        notes=notes,
        data_docs_index=data_docs_index,
    )
    record_gate_result(settings.warehouse_db, result)
    return result


def _reconciliation_skipped(not_landed: list[str]) -> str:
    tables = ", ".join(f"raw.{table}" for table in not_landed)
    verb = "has" if len(not_landed) == 1 else "have"
    return (
        f"attribution reconciliation skipped: {tables} {verb} not landed, so dbt builds "
        f"{', '.join(f'marts.{mart}' for mart in ATTRIBUTION_MARTS)} empty (their meta.requires_sources)"
    )
