"""The raw gate's steward checks: thresholds and anomalies, with severities from quality.yml.

Each check is a Great Expectations suite built from the settings (so it shows in Data Docs and in
audit.validation_results like every other check) over a frame of steward_frames.py:
quarantined share per table, files without rows, schema changes, late rows, daily volume, freshness,
null-rate shift, distribution shift, and vocabulary values the shop's seed does not map. A failure
names the table, and the file when there is one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import duckdb
import pandas as pd
from great_expectations.core.expectation_suite import ExpectationSuite

from ecom.contract import Contract
from ecom.quality import steward_frames as frames
from ecom.quality.config import QualityConfig
from ecom.quality.outcomes import checks_per_row
from ecom.quality.results import CheckResult
from ecom.quality.suites import GX_SEVERITY_BY_META
from ecom.quality.validate import GateValidator
from ecom.vocabulary import load_vocabulary

Failure = Callable[[dict[str, Any]], tuple[str | None, str | None, str]]


@dataclass(frozen=True)
class StewardCheck:
    name: str  # the suite is raw_gate.<name>
    frame: pd.DataFrame
    index_columns: list[str]
    expectation: dict[str, Any]  # GX expectation: type and kwargs
    severity: str
    failure: Failure


def run_steward_checks(
    validator: GateValidator,
    con: duckdb.DuckDBPyConnection,
    contract: Contract,
    config: QualityConfig,
    as_of: date,
    business_tz: str,
) -> list[CheckResult]:
    results: list[CheckResult] = []
    for check in steward_checks(con, contract, config, as_of, business_tz):
        if check.frame.empty:
            continue
        suite = ExpectationSuite(
            name=f"raw_gate.{check.name}",
            expectations=[{**check.expectation, "severity": GX_SEVERITY_BY_META[check.severity].value}],
        )
        validation = validator.validate(suite, check.frame, check.index_columns)
        results += checks_per_row(validation, sorted(set(check.frame["table_name"])), check.failure)
    return results


def steward_checks(
    con: duckdb.DuckDBPyConnection, contract: Contract, config: QualityConfig, as_of: date, business_tz: str
) -> list[StewardCheck]:
    volume = config.volume
    return [
        StewardCheck(
            "quarantine_share",
            frames.quarantine_shares(con, config),
            ["table_name", "rows_read", "rows_quarantined", "quarantined_share", "max_share"],
            _at_most("quarantined_share", "max_share"),
            config.quarantine_severity,
            _quarantine_message,
        ),
        StewardCheck(
            "file_rows",
            frames.pending_files(con).drop(columns="columns_present"),
            ["table_name", "file_path", "rows_read"],
            {"type": "expect_column_values_to_be_between", "kwargs": {"column": "rows_read", "min_value": 1}},
            config.no_rows_severity,
            lambda row: (row["file_path"], None, f"{row['table_name']}: file {row['file_path']} has no rows"),
        ),
        StewardCheck(
            "schema_change",
            frames.schema_changes(con, contract),
            ["table_name", "file_path", "added_columns", "removed_columns", "compared_with"],
            {
                "type": "expect_column_values_to_be_in_set",
                "kwargs": {"column": "schema_changed", "value_set": [False]},
            },
            config.schema_change_severity,
            _schema_message,
        ),
        StewardCheck(
            "late_rows",
            frames.late_rows(con, config, business_tz),
            ["table_name", "file_path", "partition_day", "oldest_day"],
            {"type": "expect_column_values_to_be_between", "kwargs": {"column": "late_rows", "max_value": 0}},
            config.late_rows_severity,
            _late_message(config.max_days_late),
        ),
        StewardCheck(
            "daily_volume",
            frames.daily_volume(con, config, as_of, business_tz),
            ["table_name", "day", "rows", "baseline_rows", "ratio"],
            {
                "type": "expect_column_values_to_be_between",
                "kwargs": {
                    "column": "ratio",
                    "min_value": volume["min_ratio"],
                    "max_value": volume["max_ratio"],
                },
            },
            volume["severity"],
            _volume_message,
        ),
        StewardCheck(
            "freshness",
            frames.freshness(con, config, as_of, business_tz),
            ["table_name", "last_day", "days_since_last_row", "max_days"],
            _at_most("days_since_last_row", "max_days"),
            config.freshness_severity,
            _freshness_message(as_of),
        ),
        StewardCheck(
            "null_rate",
            frames.null_rate_shifts(con, config),
            ["table_name", "column_name", "accepted_null_rate", "pending_null_rate", "max_increase"],
            _at_most("null_rate_increase", "max_increase"),
            config.null_rate["severity"],
            _null_message,
        ),
        StewardCheck(
            "unmapped_values",
            frames.unmapped_values(con),
            ["table_name", "column_name", "value", "row_count"],
            {"type": "expect_column_values_to_be_between", "kwargs": {"column": "row_count", "max_value": 0}},
            config.unmapped_values_severity,
            _unmapped_message,
        ),
        StewardCheck(
            "distribution",
            frames.distribution_shifts(con, config),
            ["table_name", "column_name", "statistic", "shift", "max_shift"],
            _at_most("shift", "max_shift"),
            config.distribution["severity"],
            _distribution_message,
        ),
    ]


def _at_most(column: str, limit_column: str) -> dict[str, Any]:
    return {
        "type": "expect_column_pair_values_a_to_be_greater_than_b",
        "kwargs": {"column_A": limit_column, "column_B": column, "or_equal": True},
    }


def _quarantine_message(row: dict[str, Any]) -> tuple[None, None, str]:
    return (
        None,
        None,
        (
            f"{row['table_name']}: {row['rows_quarantined']} of {row['rows_read']} rows read were "
            f"quarantined ({row['quarantined_share']:.2%}), over the limit of {row['max_share']:.2%}"
        ),
    )


def _schema_message(row: dict[str, Any]) -> tuple[str, None, str]:
    changes = [
        f"{label} {row[column]}"
        for label, column in (("added", "added_columns"), ("removed", "removed_columns"))
        if row[column]
    ]
    return (
        row["file_path"],
        None,
        (
            f"{row['table_name']}: file {row['file_path']} columns differ from the {row['compared_with']}: "
            f"{'; '.join(changes)}"
        ),
    )


def _late_message(max_days_late: int) -> Failure:
    def message(row: dict[str, Any]) -> tuple[str, None, str]:
        return (
            row["file_path"],
            None,
            (
                f"{row['table_name']}: file {row['file_path']} (partition {row['partition_day']}) holds "
                f"{row['late_rows']} row(s) more than {max_days_late} days older than its partition, "
                f"the oldest of {row['oldest_day']}"
            ),
        )

    return message


def _volume_message(row: dict[str, Any]) -> tuple[None, None, str]:
    return (
        None,
        None,
        (
            f"{row['table_name']}: {row['rows']} rows on {row['day']}, {row['ratio']:.2f} times the "
            f"median day of the trailing weeks ({row['baseline_rows']:g} rows)"
        ),
    )


def _freshness_message(as_of: date) -> Failure:
    def message(row: dict[str, Any]) -> tuple[None, None, str]:
        return (
            None,
            None,
            (
                f"{row['table_name']}: the last row is of {row['last_day']}, "
                f"{row['days_since_last_row']} days before the as-of date {as_of} "
                f"(at most {row['max_days']} allowed)"
            ),
        )

    return message


def _null_message(row: dict[str, Any]) -> tuple[None, str, str]:
    return (
        None,
        row["column_name"],
        (
            f"{row['table_name']}, column {row['column_name']}: null rate {row['pending_null_rate']:.1%} "
            f"in the new rows against {row['accepted_null_rate']:.1%} accepted "
            f"(more than +{row['max_increase']:.0%})"
        ),
    )


def _distribution_message(row: dict[str, Any]) -> tuple[None, str, str]:
    return (
        None,
        row["column_name"],
        (
            f"{row['table_name']}, column {row['column_name']}: the new rows' distribution shifted from the "
            f"accepted rows' ({row['statistic']} {row['shift']:.3f} > {row['max_shift']})"
        ),
    )


def _unmapped_message(row: dict[str, Any]) -> tuple[None, str, str]:
    return (
        None,
        row["column_name"],
        (
            f"{row['table_name']}, column {row['column_name']}: {row['row_count']} new row(s) hold "
            f"'{row['value']}', which {load_vocabulary().seed_name} does not map to a group; "
            "they load under that name"
        ),
    )
