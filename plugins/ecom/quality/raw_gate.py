"""The raw quality gate: pending rows must pass before they are promoted to raw.<table>.

The gate only reads the warehouse; the raw layer (ecom.ingest) writes what follows from its verdict.
1. The raw layer releases the rows that wait from earlier runs back into raw_pending (release_waiting),
   so that this run's as-of date and rules judge them too. Quarantine rules find the rows that need the
   as-of date or other tables to judge (quarantine.py: duplicates and conflicting keys within a file,
   orders of unknown customers, totals that do not add up); the raw layer moves them to audit.rejects
   (quarantine_rows). Rows after the as-of date are no defect: the raw layer sets them aside in
   raw_waiting until a run's as-of date covers them (set_aside_waiting).
2. Checks, each through Great Expectations:
   - each table's pending rows against `raw.<table>`, built from the raw data contract (raw_suites.py)
     and run as queries in the warehouse (raw_rows.py); failures name file and line;
   - every pending file has its table's required columns (expectations/raw_gate/file_schema.json);
   - the contract's required tables have rows, accepted or pending (raw_gate/required_tables.json);
   - orders are fresh and flowing as of the run's as-of date (raw_gate/orders_activity.json);
   - the steward checks of quality.yml: quarantined share per table, files without rows, schema
     changes, late rows, daily volume, freshness, null-rate and distribution shift (steward_checks.py).
3. The results go to audit.validation_results; on pass the raw layer promotes the pending files
   (ecom.ingest.promote_pending), on fail nothing moves.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from ecom import ingest
from ecom.config import Settings
from ecom.contract import load_contract
from ecom.quality.config import load_quality_config
from ecom.quality.data_docs import build_data_docs
from ecom.quality.history import record_gate_result
from ecom.quality.outcomes import check_results, checks_per_row
from ecom.quality.quarantine import find_quarantine_rows
from ecom.quality.raw_frames import orders_activity, pending_file_columns, table_row_counts
from ecom.quality.raw_rows import validate_pending_rows
from ecom.quality.repeated_keys import gate_scratch
from ecom.quality.results import CheckResult, GateResult
from ecom.quality.steward_checks import run_steward_checks
from ecom.quality.suites import load_suite, suite_path
from ecom.quality.validate import GateValidator
from ecom.warehouse import connect

RAW_GATE = "raw"


def run_raw_gate(settings: Settings, run_id: str, as_of: date) -> GateResult:
    contract = load_contract()
    config = load_quality_config()
    checks: list[CheckResult] = []
    without_pending: list[str] = []
    with (connect(settings) as con, gate_scratch(con),
          GateValidator(settings, RAW_GATE, run_id) as validator):
        ingest.release_waiting(con, contract)
        findings = find_quarantine_rows(con, contract, config.rules, config.event_time, as_of,
                                        settings.business_tz)
        ingest.quarantine_rows(con, findings.relation)
        ingest.set_aside_waiting(con, contract, findings.relation)
        for table in contract.tables.values():
            validation = validate_pending_rows(validator, con, contract, table)
            if validation is None:
                without_pending.append(table.name)
                continue
            checks += check_results(validation, table.name)

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

        notes = [outcome.describe() for outcome in findings.outcomes]
        if without_pending:
            notes.append(f"no pending rows, row checks skipped: {', '.join(without_pending)}")
        result = GateResult(
            gate=RAW_GATE,
            run_id=run_id,
            as_of=as_of,
            checks=checks,
            notes=notes,
            data_docs_index=build_data_docs(validator, settings.data_docs_dir),
        )
        record_gate_result(con, result)
    if result.passed:
        result.promoted = ingest.promote_pending(settings)
    return result


def _missing_column(row: dict[str, Any]) -> tuple[str, str, str]:
    table, path, column = row["table_name"], row["file_path"], row["column_name"]
    return path, column, f"{table}: file {path} lacks required column '{column}'"


def _empty_required_table(row: dict[str, Any]) -> tuple[None, None, str]:
    return None, None, f"{row['table_name']}: required table has no rows (none accepted, none pending)"
