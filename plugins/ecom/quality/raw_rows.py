"""Validate a table's pending rows against its raw suite with memory bounded by a chunk size.

Row-wise expectations (not null, in set, between, ...) judge each row alone: they run on chunks of at
most `chunk_rows` rows, read from DuckDB in file and line order. Key uniqueness needs every row at once:
it runs on only the rows whose key occurs more than once among the pending rows (DuckDB finds them),
usually few. The parts' results are combined (result_parts.py) into the result validating all rows in
one frame gives (same verdicts, counts and listed file lines) and stored as the suite's result of the run.
"""

from __future__ import annotations

import duckdb
from great_expectations.core import ExpectationSuiteValidationResult
from great_expectations.core.expectation_suite import ExpectationSuite
from great_expectations.expectations.expectation import (
    ColumnMapExpectation,
    ColumnPairMapExpectation,
    MulticolumnMapExpectation,
)
from great_expectations.expectations.expectation_configuration import ExpectationConfiguration
from great_expectations.expectations.registry import get_expectation_impl

from ecom.quality.outcomes import FILE_COLUMN, LINE_COLUMN
from ecom.quality.raw_frames import count_pending_rows, pending_row_chunks, pending_rows_sharing_key
from ecom.quality.result_parts import combine, with_rows_left_out
from ecom.quality.suites import SuiteError
from ecom.quality.validate import GateValidator
from ecom.sql import identifier

KEY_UNIQUENESS = frozenset({"expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique"})
ROW_WISE = (ColumnMapExpectation, ColumnPairMapExpectation, MulticolumnMapExpectation)
INDEX_COLUMNS = [FILE_COLUMN, LINE_COLUMN]


def validate_pending_rows(
    validator: GateValidator,
    con: duckdb.DuckDBPyConnection,
    table: str,
    required_columns: list[str],
    suite: ExpectationSuite,
    chunk_rows: int,
) -> ExpectationSuiteValidationResult | None:
    """The suite's stored result on the table's pending rows (raw_frames.pending_row_chunks);
    None when there are none."""
    row_wise, key_checks = split_suite(suite)
    parts: list[ExpectationSuiteValidationResult] = []
    rows = 0
    for chunk in pending_row_chunks(con, table, required_columns, chunk_rows):
        rows += len(chunk)
        parts.append(validator.evaluate(row_wise, chunk, INDEX_COLUMNS))
    if not rows:
        return None
    for check in key_checks:
        ignored = ignored_rows_sql(check)
        frame = pending_rows_sharing_key(con, table, required_columns, key_columns(check), ignored)
        part = validator.evaluate(_subsuite(suite, [check]), frame, INDEX_COLUMNS)
        left_out = rows - len(frame), count_pending_rows(con, table, required_columns, ignored)
        part.results = [with_rows_left_out(result, *left_out) for result in part.results]
        parts.append(part)
    return validator.store(suite, combine(suite, parts))


def split_suite(suite: ExpectationSuite) -> tuple[ExpectationSuite, list[ExpectationConfiguration]]:
    """(the suite's row-wise expectations as a suite of the same name, its key-uniqueness expectations).

    Raises SuiteError for an expectation that judges the rows together (e.g. a column mean) or a
    uniqueness one with `mostly` or a row condition: their verdict cannot be put together from chunks.
    """
    row_wise, key_checks = [], []
    for position, config in enumerate(suite.expectation_configurations, start=1):
        where = f"suite {suite.name}, expectation #{position} ({config.type})"
        if not issubclass(get_expectation_impl(config.type), ROW_WISE):
            raise SuiteError(f"{where}: raw suites take row-wise expectations and key uniqueness only")
        if config.kwargs.get("mostly", 1) != 1:
            raise SuiteError(f"{where}: raw suites cannot use mostly (rows are validated in chunks)")
        if config.type in KEY_UNIQUENESS:
            if config.kwargs.get("row_condition"):
                raise SuiteError(f"{where}: a key uniqueness expectation cannot have a row_condition")
            key_checks.append(config)
        else:
            row_wise.append(config)
    return _subsuite(suite, row_wise), key_checks


def key_columns(config: ExpectationConfiguration) -> list[str]:
    kwargs = config.kwargs
    return [kwargs["column"]] if "column" in kwargs else list(kwargs["column_list"])


def ignored_rows_sql(config: ExpectationConfiguration) -> str:
    """SQL condition for the rows GX leaves out of a uniqueness expectation (it counts them missing):
    a null value for one column; for a compound key as its `ignore_row_if` says."""
    nulls = [f"{identifier(column)} is null" for column in key_columns(config)]
    if "column" in config.kwargs:
        return nulls[0]
    ignore_row_if = config.kwargs.get("ignore_row_if") or "all_values_are_missing"
    return {
        "all_values_are_missing": " and ".join(nulls),
        "any_value_is_missing": " or ".join(nulls),
        "never": "false",
    }[ignore_row_if]


def _subsuite(suite: ExpectationSuite, configs: list[ExpectationConfiguration]) -> ExpectationSuite:
    return ExpectationSuite(name=suite.name, expectations=[config.to_json_dict() for config in configs])
