"""Append every check result of a gate run to audit.validation_results in the working warehouse."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb

from ecom.quality.results import GateResult

VALIDATION_RESULTS_DDL = """
create schema if not exists audit;
create table if not exists audit.validation_results (
    run_id varchar not null,
    gate varchar not null,
    suite varchar not null,
    table_name varchar,
    file_path varchar,
    expectation varchar not null,
    column_name varchar,
    severity varchar not null,
    success boolean not null,
    observed varchar,
    message varchar,
    as_of date,
    validated_at timestamp not null  -- UTC
)
"""

RESULT_COLUMNS = (
    "run_id", "gate", "suite", "table_name", "file_path", "expectation", "column_name",
    "severity", "success", "observed", "message", "as_of", "validated_at",
)  # fmt: skip


def record_gate_result(warehouse_db: Path, result: GateResult, replace_suites: bool = False) -> int:
    """Append the gate's checks; returns the number of rows written. With `replace_suites`, the rows the
    same run and gate recorded earlier for the suites of `result` are removed first (a check run again)."""
    validated_at = datetime.now(UTC).replace(tzinfo=None)
    rows = [
        (
            result.run_id,
            result.gate,
            check.suite,
            check.table,
            check.file,
            check.check,
            check.column,
            check.severity,
            check.success,
            check.observed,
            check.message,
            result.as_of,
            validated_at,
        )
        for check in result.checks
    ]
    with duckdb.connect(str(warehouse_db)) as con:
        con.execute(VALIDATION_RESULTS_DDL)
        con.execute("begin")
        if replace_suites:
            con.execute(
                "delete from audit.validation_results "
                "where run_id = ? and gate = ? and list_contains(?, suite)",
                [result.run_id, result.gate, sorted({check.suite for check in result.checks})],
            )
        if rows:
            con.executemany(
                f"insert into audit.validation_results ({', '.join(RESULT_COLUMNS)}) "
                f"values ({', '.join('?' * len(RESULT_COLUMNS))})",
                rows,
            )
        con.execute("commit")
    return len(rows)
