"""Load the new file versions of one table: raw_pending.<table> rows, audit.rejects, manifest rows.

Two steps. `stage_files` reads and types every file into temporary tables (one scan per reading
group, see readers.py) and counts each file's rows; it writes nothing durable, so it runs outside
any transaction. `write_staged` then appends the staged rows in a handful of statements, inside the
caller's transaction: a table's files are written all together or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from ecom.contract import Table
from ecom.ingest.casting import PROBLEM_TYPE, TYPED_TABLE, typed_rows_sql
from ecom.ingest.discovery import LandedFile
from ecom.ingest.manifest import FileLoad, record_loads
from ecom.ingest.readers import (
    BROKEN_COLUMNS,
    BROKEN_TABLE,
    READING_TABLES,
    SOURCE_TABLE,
    GroupRead,
    MisreadFileError,
    read_landed_files,
    reading_groups,
)
from ecom.ingest.warehouse import (
    LINEAGE_COLUMNS,
    PENDING_SCHEMA,
    UTC_NOW_SQL,
    file_loaded_at_sql,
    relation_name,
)
from ecom.redaction import MASKED, stored_value_sql
from ecom.sql import identifier, literal

# Staged rows of the table being loaded; `_file_index`/`file_index` is the file's position in its files.
STAGED_BROKEN_TABLE = "ingest_staged_broken"
STAGED_FILES_TABLE = "ingest_staged_files"


# Errors in the SQL itself: never a group's files' fault, so never a reason to read them one by one.
_NOT_ABOUT_FILES = (duckdb.BinderException, duckdb.ParserException, duckdb.CatalogException)


class UnreadableFileError(Exception):
    """A landed file that cannot be read at all (corrupt Parquet, JSON lines that are not UTF-8...), or
    not reliably (its rows do not reconcile with its physical lines)."""


@dataclass(frozen=True)
class StagedTable:
    """The files of one table read and typed into the staging tables, and what each will load."""

    table: Table
    files: list[LandedFile]  # in load order
    loads: list[FileLoad]  # one per file, same order


def stage_files(con: duckdb.DuckDBPyConnection, table: Table, files: list[LandedFile]) -> StagedTable:
    """Read and type `files` (new versions of `table`'s files, in load order) into the staging tables.

    Raises UnreadableFileError naming the file when one cannot be read at all.
    """
    _create_staging_tables(con, table, files)
    position = {file.file_id: index for index, file in enumerate(files)}
    columns: dict[str, list[str]] = {}
    for group in reading_groups(files):
        columns.update(_stage_group(con, table, group, position))
    typed_counts = {index: (total, rejected, rounded) for index, total, rejected, rounded in con.execute(
        f"SELECT _file_index, count(*), count(*) FILTER (WHERE len(_problems) > 0), "
        f"coalesce(sum(_rounded) FILTER (WHERE len(_problems) = 0), 0) FROM {TYPED_TABLE} GROUP BY ALL"
    ).fetchall()}
    broken_counts = dict(con.execute(  # one row per broken record
        f"SELECT file_index, count(*) FROM {STAGED_BROKEN_TABLE} GROUP BY ALL"
    ).fetchall())
    loads = []
    for index, file in enumerate(files):
        typed_rows, typed_rejected, rounded = typed_counts.get(index, (0, 0, 0))
        broken_records = broken_counts.get(index, 0)
        columns_present = columns[file.file_id]
        loads.append(FileLoad(
            columns_present=columns_present,
            missing_columns=[c for c in table.column_names if c not in columns_present],
            extra_columns=[c for c in columns_present if c not in table.column_names],
            rows_read=typed_rows + broken_records,
            rows_loaded=typed_rows - typed_rejected,
            rows_rejected=typed_rejected + broken_records,
            values_rounded=int(rounded),
        ))
    return StagedTable(table=table, files=files, loads=loads)


def write_staged(con: duckdb.DuckDBPyConnection, staged: StagedTable, batch_id: str) -> None:
    """Append the staged rows to raw_pending.<table> and audit.rejects, and the files' manifest rows.

    Run it inside a transaction; raises (so that nothing is recorded) if the rows inserted are not the
    rows the files' manifest rows count as loaded.
    """
    _insert_rejects(con, staged, batch_id)
    rows_inserted = _insert_pending(con, staged.table, batch_id)
    rows_loaded = sum(load.rows_loaded for load in staged.loads)
    if rows_inserted != rows_loaded:
        raise RuntimeError(f"{staged.table.name}: {rows_inserted} rows inserted but the files loaded "
                           f"{rows_loaded}; nothing was recorded for these {len(staged.files)} file(s)")
    record_loads(con, staged.files, staged.loads, batch_id)


def drop_staging_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Free the memory of the staging and reading tables once their rows are written."""
    for name in (TYPED_TABLE, STAGED_BROKEN_TABLE, STAGED_FILES_TABLE, *READING_TABLES):
        con.execute(f"DROP TABLE IF EXISTS {name}")


def _create_staging_tables(con: duckdb.DuckDBPyConnection, table: Table, files: list[LandedFile]) -> None:
    typed_columns = "".join(f", {identifier(c.name)} {c.storage_type}" for c in table.columns)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {TYPED_TABLE} "
                f"(_file_index BIGINT, _line BIGINT{typed_columns}, _problems {PROBLEM_TYPE}[], "
                f"_rounded INTEGER)")
    con.execute(f"CREATE OR REPLACE TEMP TABLE {STAGED_BROKEN_TABLE} ({BROKEN_COLUMNS})")
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {STAGED_FILES_TABLE} AS "
        f"SELECT unnest(range(?::BIGINT)) AS file_index, unnest(?::VARCHAR[]) AS file_id, "
        f"unnest(?::VARCHAR[]) AS path",
        [len(files), [f.file_id for f in files], [f.relative_path for f in files]],
    )


def _stage_group(con: duckdb.DuckDBPyConnection, table: Table, group: list[LandedFile],
                 position: dict[str, int]) -> dict[str, list[str]]:
    """Read one reading group and append its typed and broken rows; returns each file's columns.

    Files the group's scan may have misread are read again alone; when a group of several files cannot
    be read at all, its files are read one by one to name the culprit.
    """
    try:
        read = read_landed_files(con, group)
    except MisreadFileError as error:
        raise UnreadableFileError(
            f"landing file {group[0].relative_path} cannot be read reliably: {error}; nothing of it was "
            "loaded") from error
    except duckdb.Error as error:
        if len(group) == 1:
            raise UnreadableFileError(
                f"landing file {group[0].relative_path} cannot be read: {error}") from error
        if isinstance(error, _NOT_ABOUT_FILES):
            raise
        read = GroupRead(columns=[], misread=list(range(len(group))))
    kept = [index for index in range(len(group)) if index not in read.misread]
    if kept:
        _append_staged_rows(con, table, read, {i: position[group[i].file_id] for i in kept})
    columns = {group[index].file_id: read.columns for index in kept}
    for index in read.misread:
        columns.update(_stage_group(con, table, [group[index]], position))
    return columns


def _append_staged_rows(con: duckdb.DuckDBPyConnection, table: Table, read: GroupRead,
                        table_index: dict[int, int]) -> None:
    """Type the just-read rows of the group's files in `table_index` and append them to the staging
    tables, renumbered from their position in the group to their position among the table's files."""
    kept = ", ".join(map(str, table_index))
    positions = [str(table_index.get(index, "NULL")) for index in range(max(table_index) + 1)]
    renumbered = f"([{', '.join(positions)}]::BIGINT[])"
    source = f"(SELECT * FROM {SOURCE_TABLE} WHERE _file_index IN ({kept}))"
    con.execute(f"INSERT INTO {TYPED_TABLE} SELECT * REPLACE ({renumbered}[_file_index + 1] AS _file_index) "
                f"FROM ({typed_rows_sql(table, read.columns, source, nested=read.nested)})")
    con.execute(f"INSERT INTO {STAGED_BROKEN_TABLE} SELECT {renumbered}[file_index + 1], line, column_name, "
                f"raw_value, reason FROM {BROKEN_TABLE} WHERE file_index IN ({kept})")


def _insert_rejects(con: duckdb.DuckDBPyConnection, staged: StagedTable, batch_id: str) -> None:
    """One audit.rejects row per (row, problem column) and per structurally broken record.

    Raw values that are (or look) personal are stored masked (`ecom.redaction.stored_value_sql`), and
    so is a whole broken record of a file with columns outside the contract: what they hold is unknown.
    """
    table = staged.table
    unknown_content = [index for index, load in enumerate(staged.loads) if load.extra_columns]
    broken_value = (f"CASE WHEN b.file_index IN ({', '.join(map(str, unknown_content))}) "
                    f"THEN {literal(MASKED)} ELSE b.raw_value END" if unknown_content else "b.raw_value")
    lineage = f"{literal(batch_id)} AS batch_id, f.file_id, {literal(table.name)} AS table_name, f.path"
    con.execute(
        "INSERT INTO audit.rejects "
        "(batch_id, file_id, table_name, path, line, column_name, raw_value, reason, rejected_at) "
        f"SELECT batch_id, file_id, table_name, path, line, column_name, "
        f"{stored_value_sql('raw_value', 'column_name', table.personal_columns)}, reason, rejected_at FROM ("
        f"SELECT {lineage}, r._line AS line, r.problem.column_name AS column_name, "
        f"r.problem.raw_value AS raw_value, r.problem.reason AS reason, {UTC_NOW_SQL} AS rejected_at "
        f"FROM (SELECT _file_index, _line, unnest(_problems) AS problem FROM {TYPED_TABLE} "
        f"      WHERE len(_problems) > 0) r "
        f"JOIN {STAGED_FILES_TABLE} f ON f.file_index = r._file_index "
        f"UNION ALL "
        f"SELECT {lineage}, b.line, b.column_name, {broken_value}, b.reason, {UTC_NOW_SQL} "
        f"FROM {STAGED_BROKEN_TABLE} b JOIN {STAGED_FILES_TABLE} f ON f.file_index = b.file_index)"
    )


def _insert_pending(con: duckdb.DuckDBPyConnection, table: Table, batch_id: str) -> int:
    """Append the rows without problems to raw_pending.<table>; returns how many were inserted."""
    columns = [identifier(c) for c in table.column_names] + [identifier(c) for c, _ in LINEAGE_COLUMNS]
    lineage = ["f.file_id", "t._line", literal(batch_id), file_loaded_at_sql("t._file_index")]
    values = [f"t.{identifier(c)}" for c in table.column_names] + lineage
    inserted = con.execute(
        f"INSERT INTO {relation_name(PENDING_SCHEMA, table.name)} ({', '.join(columns)}) "
        f"SELECT {', '.join(values)} FROM {TYPED_TABLE} t "
        f"JOIN {STAGED_FILES_TABLE} f ON f.file_index = t._file_index WHERE len(t._problems) = 0"
    ).fetchone()
    return int(inserted[0]) if inserted else 0
