"""Cross-run drift of the marts: each mart's rows in this build against the rows the last publish
served (serving.duckdb `meta.publish_log`), judged by the `mart_drift` settings of quality.yml.

One row per mart: counts come from DuckDB (`count(*)`, answered from table metadata) and the publish
log, so what the gate validates is as small as the list of marts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
from great_expectations.core.expectation_suite import ExpectationSuite

from ecom.publish import PUBLISH_LOG
from ecom.quality.outcomes import checks_per_row
from ecom.quality.reads import fetch_frame
from ecom.quality.results import CheckResult
from ecom.quality.suites import GX_SEVERITY_BY_META
from ecom.quality.validate import GateValidator
from ecom.sql import identifier, relation_exists

SUITE = "marts_gate.mart_drift"
INDEX_COLUMNS = ["table_name", "previous_run_id", "previous_rows", "rows"]
COLUMNS = [*INDEX_COLUMNS, "row_ratio"]


def last_published_rows(serving_db: Path) -> tuple[str, dict[str, int]] | None:
    """(run id, rows per mart) of the last publish, or None before the first one."""
    if not serving_db.is_file():
        return None
    log_schema, log_table = PUBLISH_LOG.split(".")
    with duckdb.connect(str(serving_db), read_only=True) as con:
        if not relation_exists(con, log_schema, log_table):
            return None
        rows = con.execute(
            f"""
            select run_id, mart, row_count from {PUBLISH_LOG}
            where run_id = (select arg_max(run_id, published_at) from {PUBLISH_LOG})
            """
        ).fetchall()
    if not rows:
        return None
    return rows[0][0], {mart: int(count) for _, mart, count in rows}


def drift_frame(
    con: duckdb.DuckDBPyConnection,
    marts: list[str],
    previous: tuple[str, dict[str, int]],
    min_baseline_rows: int,
) -> pd.DataFrame:
    """One row per mart of `marts` that the last publish served with at least `min_baseline_rows` rows:
    its rows now, then, and their ratio. Every mart of `marts` must exist."""
    run_id, previous_rows = previous
    judged = [mart for mart in marts if previous_rows.get(mart, 0) >= min_baseline_rows]
    if not judged:
        return pd.DataFrame(columns=COLUMNS)
    counts = " union all ".join(
        f"select {i} as position, count(*) as rows from marts.{identifier(mart)}"
        for i, mart in enumerate(judged)
    )
    frame = fetch_frame(con, f"select rows from ({counts}) order by position")
    frame.insert(0, "table_name", judged)
    frame.insert(1, "previous_run_id", run_id)
    frame.insert(2, "previous_rows", [previous_rows[mart] for mart in judged])
    frame["row_ratio"] = frame["rows"] / frame["previous_rows"]
    return frame[COLUMNS]


def drift_checks(
    validator: GateValidator, frame: pd.DataFrame, settings: dict[str, Any]
) -> list[CheckResult]:
    """The row ratio of each mart of `frame` lies within [min_ratio, max_ratio] of the settings."""
    if frame.empty:
        return []
    low, high = settings["min_ratio"], settings["max_ratio"]
    suite = ExpectationSuite(
        name=SUITE,
        expectations=[
            {
                "type": "expect_column_values_to_be_between",
                "kwargs": {"column": "row_ratio", "min_value": low, "max_value": high},
                "severity": GX_SEVERITY_BY_META[settings["severity"]].value,
            }
        ],
    )
    validation = validator.validate(suite, frame, INDEX_COLUMNS)

    def failure(row: dict[str, Any]) -> tuple[None, None, str]:
        return (
            None,
            None,
            (
                f"{row['table_name']}: {row['rows']} rows, {row['previous_rows']} when run "
                f"{row['previous_run_id']} published: {row['row_ratio']:.2f} times as many, outside "
                f"[{low}, {high}] (quality.yml mart_drift)"
            ),
        )

    return checks_per_row(validation, list(frame["table_name"]), failure)
