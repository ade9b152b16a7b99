"""The raw quality gate: pending rows must pass before they are promoted to raw.<table>.

Checks, each through Great Expectations:
- each table's pending rows against expectations/raw/<table>.json (failures name file and line), in
  chunks of at most settings.gate_chunk_rows rows (raw_rows.py);
- every pending file has its table's required columns (expectations/raw_gate/file_schema.json);
- the contract's required tables have rows, accepted or pending (raw_gate/required_tables.json);
- orders are fresh and flowing as of the run's as-of date (raw_gate/orders_activity.json);
- the steward checks of quality.yml: quarantined share per table, files without rows, schema changes,
  late rows, daily volume, freshness, null-rate and distribution shift (steward_checks.py).
Before any check, rows that need the as-of date or other tables to judge are quarantined
(quarantine.py: future timestamps, duplicates, orders of unknown customers, totals that do not add up).
On pass the pending files are promoted (ecom.ingest.promote_pending); on fail nothing moves.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import duckdb

from ecom.config import Settings
from ecom.contract import load_contract
from ecom.quality.config import load_quality_config
from ecom.quality.data_docs import build_data_docs
from ecom.quality.history import record_gate_result
from ecom.quality.outcomes import check_results, checks_per_row
from ecom.quality.quarantine import quarantine_pending_rows
from ecom.quality.raw_frames import orders_activity, pending_file_columns, table_row_counts
from ecom.quality.raw_rows import validate_pending_rows
from ecom.quality.results import CheckResult, GateResult
from ecom.quality.steward_checks import run_steward_checks
from ecom.quality.suites import load_suite, suite_path
from ecom.quality.validate import GateValidator

RAW_GATE = "raw"


def run_raw_gate(settings: Settings, run_id: str, as_of: date) -> GateResult:
    contract = load_contract()
    config = load_quality_config()
    validator = GateValidator(settings, RAW_GATE, run_id)
    checks: list[CheckResult] = []
    without_pending: list[str] = []
    database = settings.warehouse_db
    with duckdb.connect(str(database), config=settings.duckdb_config(database)) as con:
        quarantined = quarantine_pending_rows(con, contract, config.rules, config.event_time, as_of,
                                              settings.business_tz)
        for table in contract.tables:
            suite = load_suite(suite_path("raw", table))
            required_columns = contract.table(table).required_columns
            validation = validate_pending_rows(
                validator, con, table, required_columns, suite, settings.gate_chunk_rows
            )
            if validation is None:
                without_pending.append(table)
                continue
            checks += check_results(validation, table)

        file_columns = pending_file_columns(con, contract)
        if not file_columns.empty:
            validation = validator.validate(
                load_suite(suite_path("raw_gate", "file_schema")),
                file_columns,
                ["table_name", "file_path", "column_name"],
            )
            checks += checks_per_row(validation, sorted(set(file_columns["table_name"])), _missing_column)

        row_counts = table_row_counts(con, contract.required_tables)
        suite = load_suite(suite_path("raw_gate", "required_tables"))
        validation = validator.validate(suite, row_counts, ["table_name"])
        checks += checks_per_row(validation, contract.required_tables, _empty_required_table)

        activity = orders_activity(con, as_of, settings.business_tz)
        validation = validator.validate(
            load_suite(suite_path("raw_gate", "orders_activity")), activity, ["as_of", "last_order_day"]
        )
        checks += check_results(validation, "orders")
        checks += run_steward_checks(validator, con, contract, config, as_of, settings.business_tz)

    result = GateResult(
        gate=RAW_GATE,
        run_id=run_id,
        as_of=as_of,
        checks=checks,
        notes=[outcome.describe() for outcome in quarantined]
        + ([f"no pending rows, row checks skipped: {', '.join(without_pending)}"] if without_pending else []),
        data_docs_index=build_data_docs(validator, settings.data_docs_dir),
    )
    record_gate_result(settings.warehouse_db, result)
    if result.passed:
        result.promoted = _promote_pending(settings)
    return result


def _missing_column(row: dict[str, Any]) -> tuple[str, str, str]:
    table, path, column = row["table_name"], row["file_path"], row["column_name"]
    return path, column, f"{table}: file {path} lacks required column '{column}'"


def _empty_required_table(row: dict[str, Any]) -> tuple[None, None, str]:
    return None, None, f"{row['table_name']}: required table has no rows (none accepted, none pending)"


def _promote_pending(settings: Settings) -> dict[str, int]:
    # Imported here: promotion belongs to the ingestion component, which the gate only calls on pass.
    from ecom.ingest import promote_pending

    return promote_pending(settings)
