"""Frames the raw gate validates, read from the working warehouse (DuckDB → Arrow → pandas).

Shapes follow docs/architecture.md "Raw layer": raw_pending.<table> / raw.<table> hold the contract
columns plus `_file_id, _line, _batch_id`; audit.load_manifest has one row per landed file version.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import duckdb
import pandas as pd

from ecom.contract import Contract
from ecom.ingest.warehouse import (
    PENDING_SCHEMA,
    RAW_SCHEMA,
    business_day_sql,
    landed_relations,
    relation_name,
)
from ecom.quality.reads import count_rows, fetch_frame
from ecom.sql import identifier, relation_exists

PENDING = "pending"


def pending_row_chunks(
    con: duckdb.DuckDBPyConnection, table: str, required_columns: list[str], chunk_rows: int
) -> Iterator[pd.DataFrame]:
    """The table's rows from pending files (see _pending_rows_sql), ordered by file path and line, in
    frames of at most `chunk_rows` rows; none when there are no pending rows.

    Each frame is read by its own query, so neither pandas nor DuckDB (sorting) holds more than a chunk:
    whole files are packed together in path order while they fit, a larger file is read by ranges of
    `chunk_rows` lines (a line holds one row).
    """
    if not _pending_rows_exist(con, table):
        return
    parameters = _pending_rows_parameters(table, required_columns)
    files = con.execute(
        f"select _file_id, count(*), min(_line), max(_line) from ({_pending_rows_sql(table)}) "
        "group by _file_path, _file_id order by _file_path, _file_id",
        parameters,
    ).fetchall()
    for ranges in line_ranges(files, chunk_rows):
        file_ids, first_lines, last_lines = (list(values) for values in zip(*ranges, strict=True))
        frame = fetch_frame(
            con,
            f"""
            with ranges as (
                select unnest($file_ids::varchar[]) as file_id, unnest($first_lines::bigint[]) as first_line,
                    unnest($last_lines::bigint[]) as last_line
            )
            select p.* from ({_pending_rows_sql(table)}) as p
            join ranges as r on p._file_id = r.file_id and p._line between r.first_line and r.last_line
            order by p._file_path, p._line
            """,
            parameters | {"file_ids": file_ids, "first_lines": first_lines, "last_lines": last_lines},
        )
        if not frame.empty:
            yield frame


def line_ranges(
    files: list[tuple[str, int, int, int]], chunk_rows: int
) -> Iterator[list[tuple[str, int, int]]]:
    """Chunks of at most `chunk_rows` rows as (file id, first line, last line) ranges, in the files'
    order, from each file's (file id, rows, first line, last line)."""
    chunk: list[tuple[str, int, int]] = []
    rows_in_chunk = 0
    for file_id, rows, first_line, last_line in files:
        if chunk and rows_in_chunk + rows > chunk_rows:
            yield chunk
            chunk, rows_in_chunk = [], 0
        if rows <= chunk_rows:
            chunk.append((file_id, first_line, last_line))
            rows_in_chunk += rows
            continue
        for start in range(first_line, last_line + 1, chunk_rows):
            yield [(file_id, start, min(start + chunk_rows - 1, last_line))]
    if chunk:
        yield chunk


def pending_rows_sharing_key(
    con: duckdb.DuckDBPyConnection,
    table: str,
    required_columns: list[str],
    key_columns: list[str],
    left_out: str,
) -> pd.DataFrame:
    """The key columns, `_file_path` and `_line` of the table's pending rows (see _pending_rows_sql)
    whose key occurs more than once among them, ordered by file path and line; rows where the SQL
    condition `left_out` holds do not take part."""
    key = ", ".join(identifier(column) for column in key_columns)
    return fetch_frame(
        con,
        f"""
        select {key}, _file_path, _line from ({_pending_rows_sql(table)})
        where not ({left_out})
        qualify count(*) over (partition by {key}) > 1
        order by _file_path, _line
        """,
        _pending_rows_parameters(table, required_columns),
    )


def count_pending_rows(
    con: duckdb.DuckDBPyConnection, table: str, required_columns: list[str], condition: str
) -> int:
    """How many of the table's pending rows (see _pending_rows_sql) meet the SQL `condition`."""
    return count_rows(
        con,
        f"select count(*) from ({_pending_rows_sql(table)}) where {condition}",
        _pending_rows_parameters(table, required_columns),
    )


def _pending_rows_exist(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return relation_exists(con, PENDING_SCHEMA, table) and relation_exists(con, "audit", "load_manifest")


def _pending_rows_sql(table: str) -> str:
    """The table's rows from pending files, with the file's path as `_file_path`.

    Rows of a file that lacks a required column are left out: the per-file schema check reports that
    file, and row checks on a column the file never had would only repeat it as null values.
    """
    return f"""
        select p.*, m.path as _file_path
        from {relation_name(PENDING_SCHEMA, table)} as p
        join audit.load_manifest as m on m.file_id = p._file_id
        where m.status = $status and m.table_name = $table
          and len(list_intersect(coalesce(m.missing_columns, []), $required_columns::varchar[])) = 0
    """


def _pending_rows_parameters(table: str, required_columns: list[str]) -> dict[str, object]:
    return {"status": PENDING, "table": table, "required_columns": required_columns}


def pending_file_columns(con: duckdb.DuckDBPyConnection, contract: Contract) -> pd.DataFrame:
    """One row per pending file and required column of its table: is the column in the file?"""
    columns = ["table_name", "file_path", "column_name", "is_present"]
    if not relation_exists(con, "audit", "load_manifest"):
        return pd.DataFrame(columns=columns)
    files = con.execute(
        "select table_name, path, coalesce(missing_columns, []) from audit.load_manifest "
        "where status = ? order by table_name, path",
        [PENDING],
    ).fetchall()
    rows = [
        (table, path, column, column not in missing)
        for table, path, missing in files
        if table in contract.tables
        for column in contract.table(table).required_columns
    ]
    return pd.DataFrame(rows, columns=columns).astype({"is_present": bool})


def table_row_counts(con: duckdb.DuckDBPyConnection, tables: list[str]) -> pd.DataFrame:
    """Rows per table, accepted (raw.<table>) plus pending."""
    rows = []
    for table in tables:
        accepted = _count_rows(con, RAW_SCHEMA, table)
        pending = _count_rows(con, PENDING_SCHEMA, table)
        rows.append((table, accepted, pending, accepted + pending))
    return pd.DataFrame(rows, columns=["table_name", "accepted_rows", "pending_rows", "row_count"])


def orders_activity(con: duckdb.DuckDBPyConnection, as_of: date, business_tz: str) -> pd.DataFrame:
    """One row: the last order day (business time zone) on or before as_of, and recent order volume.

    Orders are the accepted ones plus those of pending files; the wall clock plays no part.
    """
    sources = [f"select ordered_at from {relation}" for relation in landed_relations(con, "orders")]
    orders = " union all ".join(sources) or "select null::timestamp as ordered_at where false"
    return fetch_frame(
        con,
        f"""
        with orders as ({orders}),
        order_days as (
            select {business_day_sql("ordered_at", business_tz)} as order_day
            from orders
            where ordered_at is not null
        ),
        activity as (
            select
                max(order_day) filter (where order_day <= $as_of) as last_order_day,
                count(*) filter (where order_day between $as_of - 6 and $as_of) as orders_in_last_7_days
            from order_days
        )
        select
            strftime($as_of, '%Y-%m-%d') as as_of,
            strftime(last_order_day, '%Y-%m-%d') as last_order_day,
            $as_of - last_order_day as days_since_last_order,
            orders_in_last_7_days
        from activity
        """,
        {"as_of": as_of},
    )


def _count_rows(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> int:
    if not relation_exists(con, schema, table):
        return 0
    return count_rows(con, f"select count(*) from {relation_name(schema, table)}")
