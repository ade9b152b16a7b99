"""Write-audit-publish of the marts to the serving database BI reads.

Every relation of schema `marts` in the working warehouse is copied into a brand-new DuckDB file
next to `serving.duckdb` (same column types, NOT NULL, primary key, unique and check constraints),
together with `meta.publish_log` (this run's rows plus the history carried over from the previous
serving db). The new file is checkpointed, closed and fsynced, then renamed onto `serving.duckdb`
with `os.replace`, atomic on POSIX: a reader that opened the old file keeps reading the old one, a
reader opening the path afterwards gets the new one, and a failure before the rename leaves the
served file untouched.
"""

from __future__ import annotations

import os
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from ecom.config import Settings
from ecom.contract import load_contract
from ecom.dbt_manifest import MARTS_SCHEMA, dbt_project_dir, manifest_path, mart_source_requirements
from ecom.sql import identifier, relation_exists, relation_names
from ecom.warehouse import attach, connect

PUBLISH_LOG = "meta.publish_log"
PUBLISH_LOG_DDL = f"""
CREATE TABLE {PUBLISH_LOG} (
    run_id VARCHAR NOT NULL,
    as_of DATE NOT NULL,
    published_at TIMESTAMP NOT NULL,
    mart VARCHAR NOT NULL,
    row_count BIGINT NOT NULL,
    note VARCHAR
)
"""
# Relations dbt leaves behind while (or after failing at) swapping a model in: never a mart.
DBT_TRANSIENT_SUFFIXES = ("__dbt_tmp", "__dbt_backup")
# Table constraints copied as they are; NOT NULL travels with the column definitions.
COPIED_CONSTRAINTS = ("PRIMARY KEY", "UNIQUE", "CHECK")
WAREHOUSE_ALIAS = "warehouse"
PREVIOUS_SERVING_ALIAS = "previous_serving"


class PersonalDataError(ValueError):
    """A mart column carries a personal column of the raw contract: publishing it is refused."""


class NothingToPublishError(ValueError):
    """The warehouse has no marts: publishing would leave BI with an empty serving db."""


@dataclass(frozen=True)
class PublishResult:
    path: Path
    run_id: str
    as_of: date
    published_at: datetime
    row_counts: dict[str, int]
    empty_notes: dict[str, str] = field(default_factory=dict)

    def describe(self) -> str:
        lines = [
            f"published {len(self.row_counts)} marts of run {self.run_id} (as of {self.as_of}) "
            f"to {self.path} at {self.published_at:%Y-%m-%d %H:%M:%S} UTC"
        ]
        for mart, rows in sorted(self.row_counts.items()):
            note = self.empty_notes.get(mart)
            lines.append(f"  {mart}: {rows} rows" + (f" ({note})" if note else ""))
        return "\n".join(lines)


def check_run_id(run_id: str) -> None:
    """A run id becomes part of file names: it must be one plain path component."""
    if not run_id or run_id in {".", ".."} or "/" in run_id or "\\" in run_id or "\0" in run_id:
        raise ValueError(f"run id {run_id!r} cannot be used in a file name")


def empty_mart_note(mart: str, requirements: dict[str, list[str]], landed_raw_tables: set[str]) -> str:
    """Why a mart has no rows, in words a data steward understands."""
    if mart not in requirements:
        return "empty: the dbt manifest does not say which raw tables this mart needs"
    needed = requirements[mart]
    missing = [table for table in needed if table not in landed_raw_tables]
    if len(missing) == 1:
        return f"empty: needs raw table {missing[0]}, which has not landed"
    if missing:
        return f"empty: needs raw tables {', '.join(missing)}, which have not landed"
    if needed:
        return f"empty: its raw tables ({', '.join(needed)}) have landed, but no rows qualify"
    return "empty: no rows qualify"


def published_marts(settings: Settings, run_id: str) -> list[tuple[str, int, str | None]]:
    """(mart, rows, note) of every mart this run published, from the serving db's publish log."""
    if not settings.serving_db.is_file():
        return []
    with connect(settings, settings.serving_db, read_only=True) as con:
        return con.execute(
            f"SELECT mart, row_count, note FROM {PUBLISH_LOG} WHERE run_id = ? ORDER BY mart", [run_id]
        ).fetchall()


def publish(settings: Settings, run_id: str, as_of: date) -> PublishResult:
    """Publish the warehouse marts to `settings.serving_db` in one atomic rename."""
    check_run_id(run_id)
    if not settings.warehouse_db.exists():
        raise FileNotFoundError(f"no warehouse to publish from: {settings.warehouse_db}")
    serving = settings.serving_db
    temp = serving.with_name(f"{serving.name}.{run_id}.tmp")
    published_at = datetime.now(UTC).replace(tzinfo=None)
    _remove_database_file(temp)
    try:
        with connect(settings, temp) as con:
            attach(con, settings.warehouse_db, WAREHOUSE_ALIAS)
            columns = {mart: _columns(con, mart) for mart in _mart_relations(con, settings.warehouse_db)}
            _refuse_personal_columns(columns)
            con.execute(f"CREATE SCHEMA {MARTS_SCHEMA}")
            row_counts = {mart: _copy_mart(con, mart, mart_columns) for mart, mart_columns in columns.items()}
            empty_notes = _empty_notes(con, row_counts)
            _write_publish_log(con, serving, run_id, as_of, published_at, row_counts, empty_notes)
            con.execute(f"DETACH {WAREHOUSE_ALIAS}")
            con.execute("CHECKPOINT")
        _fsync_file(temp)
        os.replace(temp, serving)
    except BaseException:
        _remove_database_file(temp)
        raise
    _fsync_directory(serving.parent)
    return PublishResult(serving, run_id, as_of, published_at, row_counts, empty_notes)


def _mart_relations(con: duckdb.DuckDBPyConnection, warehouse_db: Path) -> list[str]:
    names = [
        name for name in relation_names(con, MARTS_SCHEMA, WAREHOUSE_ALIAS)
        if not name.endswith(DBT_TRANSIENT_SUFFIXES)
    ]
    if not names:
        raise NothingToPublishError(f"the warehouse {warehouse_db} has no relation in schema {MARTS_SCHEMA}")
    return names


def _columns(con: duckdb.DuckDBPyConnection, mart: str) -> list[tuple[str, str, bool]]:
    """(name, DuckDB type, nullable) of a warehouse mart, in column order."""
    return con.execute(
        "SELECT column_name, data_type, is_nullable FROM duckdb_columns() "
        "WHERE database_name = ? AND schema_name = ? AND table_name = ? ORDER BY column_index",
        [WAREHOUSE_ALIAS, MARTS_SCHEMA, mart],
    ).fetchall()


def _refuse_personal_columns(columns: dict[str, list[tuple[str, str, bool]]]) -> None:
    personal = {
        column.lower(): f"{table.name}.{column}"
        for table in load_contract().tables.values()
        for column in table.personal_columns
    }
    offences = [
        f"marts.{mart}.{name} (personal column {personal[name.lower()]} of the raw contract)"
        for mart, mart_columns in columns.items()
        for name, _, _ in mart_columns
        if name.lower() in personal
    ]
    if offences:
        raise PersonalDataError("refusing to publish personal data: " + "; ".join(offences))


def _copy_mart(con: duckdb.DuckDBPyConnection, mart: str, columns: list[tuple[str, str, bool]]) -> int:
    """Create the mart in the new file with the warehouse's column types and constraints, copy its rows."""
    definitions = [
        f"{identifier(name)} {data_type}" + ("" if nullable else " NOT NULL")
        for name, data_type, nullable in columns
    ]
    definitions += [
        text
        for (text,) in con.execute(
            "SELECT constraint_text FROM duckdb_constraints() WHERE database_name = ? AND schema_name = ? "
            "AND table_name = ? AND list_contains(?, constraint_type) ORDER BY constraint_index",
            [WAREHOUSE_ALIAS, MARTS_SCHEMA, mart, list(COPIED_CONSTRAINTS)],
        ).fetchall()
    ]
    target = f"{MARTS_SCHEMA}.{identifier(mart)}"
    column_list = ", ".join(identifier(name) for name, _, _ in columns)
    con.execute(f"CREATE TABLE {target} ({', '.join(definitions)})")
    [(row_count,)] = con.execute(
        f"INSERT INTO {target} ({column_list}) SELECT {column_list} "
        f"FROM {WAREHOUSE_ALIAS}.{MARTS_SCHEMA}.{identifier(mart)}"
    ).fetchall()
    return row_count


def _empty_notes(con: duckdb.DuckDBPyConnection, row_counts: dict[str, int]) -> dict[str, str]:
    empty = [mart for mart, rows in row_counts.items() if rows == 0]
    if not empty:
        return {}
    requirements = mart_source_requirements(manifest_path(dbt_project_dir()))
    landed = set(relation_names(con, "raw", WAREHOUSE_ALIAS))
    return {mart: empty_mart_note(mart, requirements, landed) for mart in empty}


def _write_publish_log(
    con: duckdb.DuckDBPyConnection,
    serving: Path,
    run_id: str,
    as_of: date,
    published_at: datetime,
    row_counts: dict[str, int],
    empty_notes: dict[str, str],
) -> None:
    con.execute("CREATE SCHEMA meta")
    con.execute(PUBLISH_LOG_DDL)
    if serving.exists():
        attach(con, serving, PREVIOUS_SERVING_ALIAS)
        log_schema, log_table = PUBLISH_LOG.split(".")
        if relation_exists(con, log_schema, log_table, PREVIOUS_SERVING_ALIAS):
            con.execute(
                f"INSERT INTO {PUBLISH_LOG} SELECT run_id, as_of, published_at, mart, row_count, note "
                f"FROM {PREVIOUS_SERVING_ALIAS}.{PUBLISH_LOG}"
            )
        con.execute(f"DETACH {PREVIOUS_SERVING_ALIAS}")
    con.executemany(
        f"INSERT INTO {PUBLISH_LOG} VALUES (?, ?, ?, ?, ?, ?)",
        [
            [run_id, as_of, published_at, mart, rows, empty_notes.get(mart)]
            for mart, rows in sorted(row_counts.items())
        ],
    )


def _remove_database_file(path: Path) -> None:
    for leftover in (path, path.with_name(path.name + ".wal")):
        with suppress(FileNotFoundError):
            leftover.unlink()


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_directory(path: Path) -> None:
    """Make the rename itself durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
