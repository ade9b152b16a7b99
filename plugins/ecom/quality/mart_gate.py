"""The mart quality gate: marts.* against expectations/marts/<mart>.json, plus two cross-mart checks.

No column of any mart is personal data (expectations/marts_gate/personal_data.json).
Reconciliation (expectations/marts_gate/attribution_reconciliation.json): for each of the seven
attribution models, present in a mart or not, and each set of credits (attribution_channel per
channel and per campaign, attribution_touchpoint, attribution_daily), the conversions and revenue
credited add up to the conversions and revenue counted independently (the orders of
marts.user_portrait, or each customer's first order), and in attribution_touchpoint each conversion's
touch credits sum to 1; so an empty (or partly missing) attribution
mart fails while there are orders. It is skipped, with a note, only while a raw table the attribution
marts require (orders, touchpoints) has not landed: dbt then builds them empty.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from ecom.config import Settings
from ecom.quality.data_docs import build_data_docs
from ecom.quality.history import record_gate_result
from ecom.quality.mart_frames import (
    ATTRIBUTION_MARTS,
    ATTRIBUTION_REQUIRED_RAW_TABLES,
    attribution_reconciliation,
    mart_columns,
    raw_tables_not_landed,
)
from ecom.quality.outcomes import check_results, checks_per_row
from ecom.quality.reads import fetch_frame
from ecom.quality.results import ERROR, CheckResult, GateResult
from ecom.quality.suites import load_suite, suite_path
from ecom.quality.validate import GateValidator
from ecom.sql import relation_exists
from ecom.warehouse import connect

MART_GATE = "mart"
# The key of each mart: failures list offending rows by it.
MART_KEYS: dict[str, list[str]] = {
    "user_portrait": ["customer_id"],
    "cohort_retention": ["cohort_grain", "cohort_dimension", "cohort_value", "cohort_start", "period_index"],
    "cohort_repeat_purchase": ["cohort_grain", "cohort_dimension", "cohort_value", "cohort_start"],
    "retention_daily": ["signup_date"],
    "growth_accounting": ["activity_month"],
    "attribution_channel": ["grain", "model", "channel", "campaign_id"],
    "attribution_touchpoint": ["model", "order_id", "touchpoint_id"],
    "attribution_daily": ["activity_date", "model", "channel"],
    "conversion_paths": ["path"],
    "user_tags": ["customer_id", "tag"],
    "segment_summary": ["dimension", "segment"],
    "user_portrait_history": ["as_of_date", "customer_id"],
    "segment_transitions": ["dimension", "to_as_of_date", "from_segment", "to_segment"],
    "clv_model_params": ["model", "parameter"],
}


def run_mart_gate(settings: Settings, run_id: str, as_of: date) -> GateResult:
    validator = GateValidator(settings, MART_GATE, run_id)
    checks: list[CheckResult] = []
    notes: list[str] = []
    with connect(settings) as con:
        present = {mart for mart in MART_KEYS if relation_exists(con, "marts", mart)}
        for mart, key in MART_KEYS.items():
            if mart not in present:
                checks.append(_missing_mart(mart))
                continue
            frame = fetch_frame(con, f'select * from marts."{mart}"')
            checks += check_results(
                validator.validate(load_suite(suite_path("marts", mart)), frame, key), mart
            )
        columns = mart_columns(con)
        not_landed = raw_tables_not_landed(con, ATTRIBUTION_REQUIRED_RAW_TABLES)
        reconcilable = not not_landed and {*ATTRIBUTION_MARTS, "user_portrait"} <= present
        reconciliation = attribution_reconciliation(con) if reconcilable else None
    if not columns.empty:
        suite = load_suite(suite_path("marts_gate", "personal_data"))
        validation = validator.validate(suite, columns, ["table_name"])
        checks += checks_per_row(validation, sorted(set(columns["table_name"])), _personal_column)
    if not_landed:
        notes.append(_reconciliation_skipped(not_landed))
    elif reconciliation is not None:
        suite = load_suite(suite_path("marts_gate", "attribution_reconciliation"))
        figures = [
            "mart",
            "grain",
            "model",
            "credit_rows",
            "conversions",
            "expected_conversions",
            "revenue",
            "expected_revenue",
        ]
        checks += check_results(validator.validate(suite, reconciliation, figures), "attribution")

    result = GateResult(
        gate=MART_GATE,
        run_id=run_id,
        as_of=as_of,
        checks=checks,
        notes=notes,
        data_docs_index=build_data_docs(validator, settings.data_docs_dir),
    )
    with connect(settings) as con:
        record_gate_result(con, result)
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


def _reconciliation_skipped(not_landed: list[str]) -> str:
    tables = ", ".join(f"raw.{table}" for table in not_landed)
    verb = "has" if len(not_landed) == 1 else "have"
    return (
        f"attribution reconciliation skipped: {tables} {verb} not landed, so dbt builds "
        f"{', '.join(f'marts.{mart}' for mart in ATTRIBUTION_MARTS)} empty (their meta.requires_sources)"
    )


def _personal_column(row: dict[str, Any]) -> tuple[None, str, str]:
    table, column = row["table_name"], row["column_name"]
    return (
        None,
        column,
        (
            f"{table}: column '{column}' is named after a personal column of the raw contract; "
            "personal data never reaches a mart"
        ),
    )
