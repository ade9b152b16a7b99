"""Validate a table's pending rows against its raw suite, as queries in the warehouse.

Great Expectations runs the suite (raw_suites.py) through its SQL engine on `pending_rows_sql`: the
table's rows of pending files with the file's path, so a failure lists offending rows by file and line
(`_file_path`, `_line`). GX bundles the suite's aggregates into one query over the rows and cuts its
listings of offending rows in the query: nothing grows with the size of a load but DuckDB's own work,
which it spills past ECOM_DUCKDB_MEMORY_LIMIT. Which rows are the latest version of a repeated key (the
only rows the key check reads) comes from a small table staged once per table (stage_key_versions), so
each of GX's queries is a scan of the columns it reads.

Listings come from a second validation of the failed expectations only (a run that passes pays no
sort): on the rows in file and line order, so the first offending rows are listed.
"""

from __future__ import annotations

import json
from typing import Any

import duckdb
from great_expectations.core import ExpectationSuiteValidationResult, ExpectationValidationResult
from great_expectations.core.expectation_suite import ExpectationSuite

from ecom.contract import Contract, Table
from ecom.contract.gate_rules import REPEATED_KEY_COLUMN
from ecom.ingest.layers import PENDING_SCHEMA, relation_name
from ecom.quality.outcomes import FILE_COLUMN, LINE_COLUMN
from ecom.quality.raw_suites import key_column, raw_suite
from ecom.quality.repeated_keys import SCRATCH_DATABASE, repeated_keys, same_key_sql
from ecom.quality.validate import GateValidator
from ecom.sql import identifier, literal, relation_exists

INDEX_COLUMNS = [FILE_COLUMN, LINE_COLUMN]


def stage_key_versions(con: duckdb.DuckDBPyConnection, table: Table) -> str:
    """The keys of the table's checked rows that occur more than once, with their latest load
    (`_latest`), in a table of the gate's scratch database (ecom.quality.repeated_keys); returns its name.

    Only those keys can have a superseded version: picked from the rows of the repeated keys, they are
    staged once per table, where grouping every pending row in each of GX's queries dominated the gate.
    """
    versions = f"{SCRATCH_DATABASE}.{identifier(table.name + '_key_versions')}"
    key = ", ".join(f"p.{identifier(column)}" for column in table.primary_key)
    con.execute(
        f"create or replace table {versions} as "
        f"select {key}, max(p._loaded_at) as _latest from {relation_name(PENDING_SCHEMA, table.name)} as p "
        f"semi join {repeated_keys(con, table)} as r on {same_key_sql(table, 'p', 'r')} "
        f"join audit.load_manifest as m on m.file_id = p._file_id where {_checked_files_sql(table)} "
        "group by all having count(*) > 1"
    )
    return versions


def pending_rows_sql(table: Table, versions: str) -> str:
    """The table's rows from pending files, with the file's path as `_file_path` (and a compound key's
    values as one column, raw_suites.key_column), and for the latest version of a key that occurs more
    than once that version's load (`REPEATED_KEY_COLUMN`, from the keys' `versions`, stage_key_versions;
    empty for other rows: a re-send replaces what it re-sends, a key seen once is unique).

    Rows of a file that lacks a required column are left out: the per-file schema check reports that
    file, and row checks on a column the file never had would only repeat it as null values.
    """
    compound = ""
    if len(table.primary_key) > 1:
        values = ", ".join(f"p.{identifier(column)}::varchar" for column in table.primary_key)
        compound = f", [{values}] as {identifier(key_column(table))}"
    pending = relation_name(PENDING_SCHEMA, table.name)
    return (
        f"select p.*, m.path as {FILE_COLUMN}{compound}, "
        f"case when p._loaded_at = v._latest then v._latest end as {REPEATED_KEY_COLUMN} "
        f"from {pending} as p "
        f"join audit.load_manifest as m on m.file_id = p._file_id "
        f"left join {versions} as v on {same_key_sql(table, 'v', 'p')} where {_checked_files_sql(table)}"
    )


def _checked_files_sql(table: Table) -> str:
    """The manifest rows (`m`) of the table's files that have all its required columns (joined to the rows
    under judgement: of pending files, or released from waiting)."""
    required = ", ".join(literal(column) for column in table.required_columns)
    return (f"m.table_name = {literal(table.name)} "
            f"and not list_has_any(m.missing_columns, [{required}]::varchar[])")


def validate_pending_rows(
    validator: GateValidator, con: duckdb.DuckDBPyConnection, contract: Contract, table: Table
) -> ExpectationSuiteValidationResult | None:
    """The stored result of `raw.<table>` on the table's pending rows; None when there are none."""
    if not relation_exists(con, PENDING_SCHEMA, table.name):
        return None
    [(rows,)] = con.execute(
        f"select exists (select 1 from {relation_name(PENDING_SCHEMA, table.name)} as p "
        f"join audit.load_manifest as m on m.file_id = p._file_id where {_checked_files_sql(table)})"
    ).fetchall()
    if not rows:
        return None
    versions = stage_key_versions(con, table)
    query = pending_rows_sql(table, versions)
    suite = raw_suite(contract, table)
    try:
        result = validator.evaluate_query(suite, query, INDEX_COLUMNS)
        failed = {_identity(r.expectation_config.to_json_dict()): r for r in result.results if not r.success}
        if failed:
            result = _listed_in_order(validator, query, result, failed)
    finally:
        con.execute(f"drop table {versions}")
    return validator.store(suite, result)


def _listed_in_order(
    validator: GateValidator,
    query: str,
    result: ExpectationSuiteValidationResult,
    failed: dict[str, ExpectationValidationResult],
) -> ExpectationSuiteValidationResult:
    """`result` with each failed expectation validated again on the rows in file and line order, so that
    its listing holds the first offending rows (DuckDB keeps the order under GX's LIMIT, as a top-N of the
    rows that fail)."""
    listing = ExpectationSuite(name=result.suite_name,
                               expectations=[r.expectation_config.to_json_dict() for r in failed.values()])
    ordered = f"{query} order by {FILE_COLUMN}, {LINE_COLUMN}"
    relisted = {_identity(r.expectation_config.to_json_dict()): r
                for r in validator.evaluate_query(listing, ordered, INDEX_COLUMNS).results}
    results = [
        relisted.get(_identity(r.expectation_config.to_json_dict()), r) if not r.success else r
        for r in result.results
    ]
    successes = sum(r.success for r in results)
    return ExpectationSuiteValidationResult(
        results=results,
        success=successes == len(results),
        suite_name=result.suite_name,
        statistics={
            "evaluated_expectations": len(results),
            "successful_expectations": successes,
            "unsuccessful_expectations": len(results) - successes,
            "success_percent": successes / len(results) * 100,
        },
        meta=result.meta,
        batch_id=result.batch_id,
    )


def _identity(config: dict[str, Any]) -> str:
    """An expectation as text: its type and arguments (not the batch it ran on)."""
    kwargs = {k: v for k, v in config["kwargs"].items() if k != "batch_id"}
    return json.dumps([config["type"], kwargs], sort_keys=True, default=str)
