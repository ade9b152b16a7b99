"""The mart quality gate: marts.* against expectations/marts/<mart>.json, plus two cross-mart checks.

No column of any mart is personal data (expectations/marts_gate/personal_data.json).
Reconciliation (expectations/marts_gate/attribution_reconciliation.json): per attribution model,
the conversions and revenue credited to channels add up to the orders and revenue that
marts.user_portrait counts independently. It runs when attribution_channel has rows.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import duckdb

from ecom.config import Settings
from ecom.quality.data_docs import build_data_docs
from ecom.quality.history import record_gate_result
from ecom.quality.mart_frames import attribution_reconciliation, mart_columns
from ecom.quality.outcomes import check_results, checks_per_row
from ecom.quality.reads import fetch_frame
from ecom.quality.results import ERROR, CheckResult, GateResult
from ecom.quality.suites import load_suite, suite_path
from ecom.quality.validate import GateValidator
from ecom.sql import relation_exists

MART_GATE = "mart"
# The key of each mart: failures list offending rows by it.
MART_KEYS: dict[str, list[str]] = {
    "user_portrait": ["customer_id"],
    "cohort_retention": ["cohort_grain", "cohort_start", "period_index"],
    "attribution_channel": ["model", "channel"],
}


def run_mart_gate(settings: Settings, run_id: str, as_of: date) -> GateResult:
    validator = GateValidator(settings, MART_GATE, run_id)
    checks: list[CheckResult] = []
    with duckdb.connect(str(settings.warehouse_db)) as con:
        for mart, key in MART_KEYS.items():
            if not relation_exists(con, "marts", mart):
                checks.append(_missing_mart(mart))
                continue
            frame = fetch_frame(con, f'select * from marts."{mart}"')
            checks += check_results(
                validator.validate(load_suite(suite_path("marts", mart)), frame, key), mart
            )
        columns = mart_columns(con)
        reconciliation = attribution_reconciliation(con)
    if not columns.empty:
        suite = load_suite(suite_path("marts_gate", "personal_data"))
        validation = validator.validate(suite, columns, ["table_name"])
        checks += checks_per_row(validation, sorted(set(columns["table_name"])), _personal_column)
    if not reconciliation.empty:
        suite = load_suite(suite_path("marts_gate", "attribution_reconciliation"))
        figures = ["model", "conversions", "expected_conversions", "revenue", "expected_revenue"]
        checks += check_results(validator.validate(suite, reconciliation, figures), "attribution_channel")

    result = GateResult(
        gate=MART_GATE,
        run_id=run_id,
        as_of=as_of,
        checks=checks,
        data_docs_index=build_data_docs(validator, settings.data_docs_dir),
    )
    record_gate_result(settings.warehouse_db, result)
    return result


def _missing_mart(mart: str) -> CheckResult:
    return CheckResult(
        suite=f"marts.{mart}",
        table=mart,
        check="mart_exists",
        column=None,
        severity=ERROR,
        success=False,
        message=f"{mart}: relation marts.{mart} does not exist (did the dbt build run?)",
    )


def _personal_column(row: dict[str, Any]) -> tuple[None, str, str]:
    table, column = row["table_name"], row["column_name"]
    return None, column, f"{table}: column '{column}' is personal data, which never reaches a mart"
