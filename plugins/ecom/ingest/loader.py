"""Load one landed file version into raw_pending.<table>, its untypable rows into audit.rejects."""

from __future__ import annotations

import duckdb

from ecom.contract import Table
from ecom.ingest.casting import TYPED_TABLE, typed_rows_sql
from ecom.ingest.discovery import LandedFile
from ecom.ingest.manifest import FileLoad, record_load
from ecom.ingest.readers import BROKEN_TABLE, SOURCE_TABLE, read_landed_file
from ecom.ingest.warehouse import LINEAGE_COLUMNS, PENDING_SCHEMA, UTC_NOW_SQL, relation_name
from ecom.sql import identifier, literal


class UnreadableFileError(Exception):
    """A landed file that cannot be read at all (corrupt Parquet, JSON lines that are not UTF-8...)."""


def load_file(con: duckdb.DuckDBPyConnection, table: Table, file: LandedFile, batch_id: str) -> FileLoad:
    """Read, type and load `file` into the existing raw_pending.<table>, inside the caller's transaction.

    Records the file's manifest row; raises (recording nothing) if rows read != loaded + rejected.
    """
    try:
        columns_present = read_landed_file(con, file)
    except duckdb.Error as error:
        raise UnreadableFileError(f"landing file {file.relative_path} cannot be read: {error}") from error
    con.execute(f"CREATE OR REPLACE TEMP TABLE {TYPED_TABLE} AS "
                f"{typed_rows_sql(table, columns_present, SOURCE_TABLE)}")
    _insert_rejects(con, table, file, batch_id)
    rows_loaded = _insert_pending(con, table, file, batch_id)
    typed_rows, typed_rejected, broken_records = con.execute(
        f"SELECT (SELECT count(*) FROM {TYPED_TABLE}), "
        f"(SELECT count(*) FROM {TYPED_TABLE} WHERE len(_problems) > 0), "
        f"(SELECT count(DISTINCT line) FROM {BROKEN_TABLE})"
    ).fetchone() or (0, 0, 0)
    rows_read, rows_rejected = typed_rows + broken_records, typed_rejected + broken_records
    if rows_read != rows_loaded + rows_rejected:
        raise RuntimeError(f"{file.relative_path}: {rows_read} rows read but {rows_loaded} loaded + "
                           f"{rows_rejected} rejected; nothing was recorded for this file")
    contract_columns = table.column_names
    load = FileLoad(
        columns_present=columns_present,
        missing_columns=[c for c in contract_columns if c not in columns_present],
        extra_columns=[c for c in columns_present if c not in contract_columns],
        rows_read=rows_read,
        rows_loaded=rows_loaded,
        rows_rejected=rows_rejected,
    )
    record_load(con, file, batch_id, load)
    return load


def _insert_rejects(con: duckdb.DuckDBPyConnection, table: Table, file: LandedFile, batch_id: str) -> None:
    """One audit.rejects row per (row, problem column) and per structurally broken record."""
    lineage = ", ".join(literal(v) for v in (batch_id, file.file_id, table.name, file.relative_path))
    con.execute(
        "INSERT INTO audit.rejects "
        "(batch_id, file_id, table_name, path, line, column_name, raw_value, reason, rejected_at) "
        f"SELECT {lineage}, _line, problem.column_name, problem.raw_value, problem.reason, {UTC_NOW_SQL} "
        f"FROM (SELECT _line, unnest(_problems) AS problem FROM {TYPED_TABLE} WHERE len(_problems) > 0) "
        f"UNION ALL "
        f"SELECT {lineage}, line, column_name, raw_value, reason, {UTC_NOW_SQL} FROM {BROKEN_TABLE}"
    )


def _insert_pending(con: duckdb.DuckDBPyConnection, table: Table, file: LandedFile, batch_id: str) -> int:
    """Append the rows without problems to raw_pending.<table>; returns how many were inserted."""
    columns = [identifier(c) for c in table.column_names] + [identifier(c) for c, _ in LINEAGE_COLUMNS]
    lineage = [literal(file.file_id), "_line", literal(batch_id), UTC_NOW_SQL]
    values = [identifier(c) for c in table.column_names] + lineage
    inserted = con.execute(
        f"INSERT INTO {relation_name(PENDING_SCHEMA, table.name)} ({', '.join(columns)}) "
        f"SELECT {', '.join(values)} FROM {TYPED_TABLE} WHERE len(_problems) = 0"
    ).fetchone()
    return int(inserted[0]) if inserted else 0
