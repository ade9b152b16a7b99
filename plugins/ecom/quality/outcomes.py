"""Turn GX validation results into CheckResults whose messages point at the offending rows.

A failure on frames carrying `_file_path` / `_line` (raw rows) becomes one CheckResult per file,
listing the file's lines; other failures list the offending rows by their index columns.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import numpy as np
from great_expectations.core import ExpectationSuiteValidationResult, ExpectationValidationResult
from great_expectations.expectations.expectation_configuration import ExpectationConfiguration
from great_expectations.expectations.row_conditions import deserialize_row_condition

from ecom.quality.results import CheckResult
from ecom.quality.suites import gate_severity
from ecom.report_checks import checked_column

FILE_COLUMN = "_file_path"
LINE_COLUMN = "_line"
LOCATIONS_SHOWN = 10
OBSERVED_KEYS = ("observed_value", "element_count", "unexpected_count", "partial_missing_list", "details")
_NOT_ARGUMENTS = {"column", "column_A", "column_B", "column_list", "batch_id"}


def check_results(validation: ExpectationSuiteValidationResult, table: str) -> list[CheckResult]:
    checks: list[CheckResult] = []
    for result in validation.results:
        checks.extend(_checks_of(result, validation.suite_name, table))
    return checks


def unexpected_rows(result: ExpectationValidationResult) -> list[dict[str, Any]]:
    """The offending rows listed (the first ROWS_LISTED_AT_MOST), each as {index column: value,
    checked column: value}, NaN/NaT as None."""
    rows = (result.result or {}).get("partial_unexpected_index_list") or []
    return [{key: plain(value) for key, value in row.items()} for row in rows]


def plain(value: Any) -> Any:
    """A JSON-friendly scalar: missing values (None, NaN, NaT) become None."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or value == "NaT" or (isinstance(value, float) and math.isnan(value)):
        return None
    return value


def shown(value: Any) -> str:
    """Text as quoted in messages ('bogus'), anything else as printed (10, 2.5, None)."""
    return repr(value) if isinstance(value, str) else str(value)


def expectation_label(config: ExpectationConfiguration) -> str:
    """The expectation type and its arguments, e.g. expect_column_values_to_be_between(min_value=0.0)."""
    arguments = {k: v for k, v in config.kwargs.items() if k not in _NOT_ARGUMENTS and v is not None}
    if "row_condition" in arguments:
        arguments["row_condition"] = repr(deserialize_row_condition(arguments["row_condition"]))
    if not arguments:
        return config.type
    return f"{config.type}({', '.join(f'{k}={v!r}' for k, v in arguments.items())})"


def observed_json(result: ExpectationValidationResult) -> str:
    """What GX observed, without the row listings: e.g. {"element_count": 3, "unexpected_count": 1},
    {"observed_value": 10} or {"partial_missing_list": ["linear"]} (values expected but absent)."""
    details = result.result or {}
    return json.dumps({k: details[k] for k in OBSERVED_KEYS if details.get(k) is not None}, default=str)


def _checks_of(result: ExpectationValidationResult, suite: str, table: str) -> list[CheckResult]:
    config = result.expectation_config
    common = {
        "suite": suite,
        "table": table,
        "check": config.type,
        "column": checked_column(config.kwargs),
        "severity": gate_severity(config.severity),
        "observed": observed_json(result),
    }
    label = expectation_label(config)
    if result.success:
        return [CheckResult(success=True, message=f"{label} holds", **common)]
    if result.exception_info and result.exception_info.get("raised_exception"):
        message = f"{table}: {label} could not be evaluated: {result.exception_info.get('exception_message')}"
        return [CheckResult(success=False, message=message, **common)]
    rows = unexpected_rows(result)
    if not rows:
        message = f"{table}: {label} fails: observed {common['observed']}"
        return [CheckResult(success=False, message=message, **common)]
    total = (result.result or {}).get("unexpected_count", len(rows))
    truncation = f" (the first {len(rows)} of {total} offending rows are listed)" if total > len(rows) else ""
    if FILE_COLUMN not in rows[0]:
        located = _listing([_row_location(row) for row in rows])
        message = (
            f"{table}, column {common['column']}: {label} fails on {total} row(s): {located}{truncation}"
        )
        return [CheckResult(success=False, message=message, **common)]
    lines_by_file: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        lines_by_file[row[FILE_COLUMN]].append(_line_location(row))
    return [
        CheckResult(
            success=False,
            file=path,
            message=f"{table}: file {path}, column {common['column']}: {label} fails on "
            f"{'at least ' if truncation else ''}{len(lines)} row(s): {_listing(lines)}{truncation}",
            **common,
        )
        for path, lines in lines_by_file.items()
    ]


def _line_location(row: dict[str, Any]) -> str:
    values = [shown(value) for key, value in row.items() if key not in (FILE_COLUMN, LINE_COLUMN)]
    suffix = f" ({', '.join(values)})" if values else ""
    return f"line {row[LINE_COLUMN]}{suffix}"


def _row_location(row: dict[str, Any]) -> str:
    return "[" + ", ".join(f"{key}={shown(value)}" for key, value in row.items()) + "]"


def _listing(locations: list[str]) -> str:
    listed = ", ".join(locations[:LOCATIONS_SHOWN])
    hidden = len(locations) - LOCATIONS_SHOWN
    return f"{listed} and {hidden} more" if hidden > 0 else listed


def checks_per_row(
    validation: ExpectationSuiteValidationResult,
    tables: list[str],
    failure: Callable[[dict[str, Any]], tuple[str | None, str | None, str]],
) -> list[CheckResult]:
    """For frames with a `table_name` column: one failing CheckResult per offending row, one passing
    CheckResult per table without an offending row. `failure(row)` gives (file, column, message)."""
    checks: list[CheckResult] = []
    for result in validation.results:
        rows = unexpected_rows(result)
        if not result.success and not rows:  # raised, or failed without naming rows
            checks.extend(_checks_of(result, validation.suite_name, ", ".join(tables)))
            continue
        config = result.expectation_config
        common = {
            "suite": validation.suite_name,
            "check": config.type,
            "severity": gate_severity(config.severity),
        }
        failing_tables = set()
        for row in rows:
            file, column, message = failure(row)
            failing_tables.add(row["table_name"])
            checks.append(
                CheckResult(
                    table=row["table_name"],
                    file=file,
                    column=column,
                    success=False,
                    message=message,
                    observed=json.dumps(row, default=str),
                    **common,
                )
            )
        label = expectation_label(config)
        checks.extend(
            CheckResult(
                table=table,
                file=None,
                column=checked_column(config.kwargs),
                success=True,
                message=f"{label} holds",
                observed=None,
                **common,
            )
            for table in tables
            if table not in failing_tables
        )
    return checks
