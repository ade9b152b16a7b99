"""Write-audit-publish of the marts to the serving database BI reads.

Every relation of schema `marts` in the working warehouse is copied into a brand-new DuckDB file
next to `serving.duckdb` (same column types, NOT NULL, primary key, unique and check constraints),
together with `meta.publish_log` (this run's rows plus the history carried over from the previous
serving db). The file is written in storage version `SERVING_STORAGE_VERSION`, which DuckDB 1.1.0
and every later client read (DuckDB 2.0's default storage shuts out all 1.x clients, and most BI
drivers bundle 1.x). The new file is checkpointed, closed and fsynced, then renamed onto `serving.duckdb`
with `os.replace`, atomic on POSIX: a reader that opened the old file keeps reading the old one, a
reader opening the path afterwards gets the new one, and a failure before the rename leaves the
served file untouched. Every table and column carries its dbt description as a comment.

With `ECOM_SERVING_URL`, the new file is also copied into PostgreSQL (`ecom.publish_postgres`) in one
transaction that the rename happens inside: either both targets get the new marts or neither does.
"""

from __future__ import annotations

import glob
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from ecom import publish_postgres
from ecom.config import Settings
from ecom.dbt_manifest import (
    MARTS_SCHEMA,
    EmptyReason,
    MartDescription,
    dbt_project_dir,
    manifest_path,
    mart_descriptions,
    mart_empty_reasons,
    mart_source_requirements,
)
from ecom.personal_columns import personal_columns
from ecom.publish_postgres import SERVED_SCHEMAS
from ecom.sql import identifier, literal, relation_exists, relation_names

PUBLISH_LOG = "meta.publish_log"
PUBLISH_LOG_DESCRIPTION = (
    "One row per mart of every publish: which run published it, as of which date, and its rows."
)
# (column, DuckDB type, description) of meta.publish_log.
PUBLISH_LOG_COLUMNS = [
    ("run_id", "VARCHAR NOT NULL", "The pipeline run (Airflow run id) that published the mart."),
    ("as_of", "DATE NOT NULL", "The run's as-of date: the marts describe the shop up to this day."),
    ("published_at", "TIMESTAMP NOT NULL", "When the publish completed, UTC."),
    ("mart", "VARCHAR NOT NULL", "The mart's table name in schema marts."),
    ("row_count", "BIGINT NOT NULL", "Rows the mart had when published."),
    ("note", "VARCHAR", "Why the mart is empty, when it is (e.g. a raw table it needs has not landed)."),
]
PUBLISH_LOG_DDL = (
    f"CREATE TABLE {PUBLISH_LOG} ("
    + ", ".join(f"{name} {sql_type}" for name, sql_type, _ in PUBLISH_LOG_COLUMNS)
    + ")"
)
# Relations dbt leaves behind while (or after failing at) swapping a model in: never a mart.
DBT_TRANSIENT_SUFFIXES = ("__dbt_tmp", "__dbt_backup")
# Table constraints copied as they are; NOT NULL travels with the column definitions.
COPIED_CONSTRAINTS = ("PRIMARY KEY", "UNIQUE", "CHECK")
WAREHOUSE_ALIAS = "warehouse"
SERVING_ALIAS = "serving"
# The oldest storage version DuckDB 2.0 writes that 1.x clients read: 1.1.0 and later open it
# (measured with 1.0.0 ... 1.5.6, docs/bi.md); 1.0.0 cannot, whatever the version written.
SERVING_STORAGE_VERSION = "v1.1.0"
PREVIOUS_SERVING_ALIAS = "previous_serving"
TEMPORARY_SUFFIX = ".tmp"


class PersonalDataError(ValueError):
    """A mart column carries a personal column of the raw contract: publishing it is refused."""


class NothingToPublishError(ValueError):
    """The warehouse has no marts: publishing would leave BI with an empty serving db."""


@dataclass(frozen=True)
class PostgresPublish:
    target: str  # postgresql://host:port/database, no credentials
    seconds: float  # loading and swapping in


@dataclass(frozen=True)
class PublishResult:
    path: Path
    run_id: str
    as_of: date
    published_at: datetime
    row_counts: dict[str, int]
    empty_notes: dict[str, str] = field(default_factory=dict)
    postgres: PostgresPublish | None = None

    def describe(self) -> str:
        lines = [
            f"published {len(self.row_counts)} marts of run {self.run_id} (as of {self.as_of}) "
            f"to {self.path} at {self.published_at:%Y-%m-%d %H:%M:%S} UTC"
        ]
        if self.postgres:
            lines.append(f"  and to {self.postgres.target}, schemas {' and '.join(SERVED_SCHEMAS)} "
                         f"(loaded and swapped in {self.postgres.seconds:.1f}s)")
        for mart, rows in sorted(self.row_counts.items()):
            note = self.empty_notes.get(mart)
            lines.append(f"  {mart}: {rows} rows" + (f" ({note})" if note else ""))
        return "\n".join(lines)


def check_run_id(run_id: str) -> None:
    """A run id becomes part of file names: it must be one plain path component."""
    if not run_id or run_id in {".", ".."} or "/" in run_id or "\\" in run_id or "\0" in run_id:
        raise ValueError(f"run id {run_id!r} cannot be used in a file name")


def empty_mart_note(mart: str, requirements: dict[str, list[str]], landed_raw_tables: set[str],
                    declared_reason: str | None = None) -> str:
    """Why a mart has no rows, in words a data steward understands.

    `declared_reason`: the mart's own `meta.empty_reason` note, when it applies (it needs the raw tables).
    """
    if mart not in requirements:
        return "empty: the dbt manifest does not say which raw tables this mart needs"
    needed = requirements[mart]
    missing = [table for table in needed if table not in landed_raw_tables]
    if len(missing) == 1:
        return f"empty: needs raw table {missing[0]}, which has not landed"
    if missing:
        return f"empty: needs raw tables {', '.join(missing)}, which have not landed"
    if declared_reason:
        return f"empty: {declared_reason}"
    if needed:
        return f"empty: its raw tables ({', '.join(needed)}) have landed, but no rows qualify"
    return "empty: no rows qualify"


def published_marts(serving_db: Path, run_id: str) -> list[tuple[str, int, str | None]]:
    """(mart, rows, note) of every mart this run published, from the serving db's publish log."""
    if not serving_db.is_file():
        return []
    with duckdb.connect(str(serving_db), read_only=True) as con:
        return con.execute(
            f"SELECT mart, row_count, note FROM {PUBLISH_LOG} WHERE run_id = ? ORDER BY mart", [run_id]
        ).fetchall()


def publish(settings: Settings, run_id: str, as_of: date) -> PublishResult:
    """Publish the warehouse marts to `settings.serving_db` in one atomic rename (and to PostgreSQL,
    when configured, in the transaction around it)."""
    check_run_id(run_id)
    if not settings.warehouse_db.exists():
        raise FileNotFoundError(f"no warehouse to publish from: {settings.warehouse_db}")
    serving = settings.serving_db
    temp = _temporary_path(serving, run_id)
    published_at = datetime.now(UTC).replace(tzinfo=None)
    remove_leftover_temporaries(serving)
    try:
        with duckdb.connect(config=settings.duckdb_config(temp)) as con:
            con.execute(
                f"ATTACH {literal(str(temp))} AS {SERVING_ALIAS} "
                f"(STORAGE_VERSION {literal(SERVING_STORAGE_VERSION)})"
            )
            con.execute(f"USE {SERVING_ALIAS}")
            _attach(con, settings.warehouse_db, WAREHOUSE_ALIAS)
            columns = {mart: _columns(con, mart) for mart in _mart_relations(con, settings.warehouse_db)}
            _refuse_personal_columns(con)
            con.execute(f"CREATE SCHEMA {MARTS_SCHEMA}")
            row_counts = {mart: _copy_mart(con, mart, mart_columns) for mart, mart_columns in columns.items()}
            empty_notes = _empty_notes(con, row_counts)
            _write_publish_log(con, serving, run_id, as_of, published_at, row_counts, empty_notes)
            _describe_tables(con, _descriptions(row_counts))
            con.execute(f"DETACH {WAREHOUSE_ALIAS}")
            con.execute(f"CHECKPOINT {SERVING_ALIAS}")
            con.execute("USE memory")
            con.execute(f"DETACH {SERVING_ALIAS}")
        _fsync_file(temp)
        with _postgres_target(settings, temp) as postgres:
            _rename_into_place(temp, serving)
    except BaseException:
        _remove_database_file(temp)
        raise
    _fsync_directory(serving.parent)
    return PublishResult(serving, run_id, as_of, published_at, row_counts, empty_notes, postgres)


@contextmanager
def _postgres_target(settings: Settings, serving_file: Path) -> Iterator[PostgresPublish | None]:
    """The PostgreSQL copy of the new serving file, when ECOM_SERVING_URL is set: loaded and swapped in
    around the block (the rename of the file), committed with it, rolled back when it fails."""
    if not settings.serving_url:
        yield None
        return
    started = time.monotonic()
    with publish_postgres.swapped_in(settings.serving_url, serving_file, serving_file.parent,
                                     settings.duckdb_config(serving_file)):
        yield PostgresPublish(publish_postgres.target_description(settings.serving_url),
                              time.monotonic() - started)


def _rename_into_place(temp: Path, serving: Path) -> None:
    os.replace(temp, serving)


def _temporary_path(serving: Path, run_id: str) -> Path:
    """The new serving file a publish writes before renaming it onto `serving`."""
    return serving.with_name(f"{serving.name}.{run_id}{TEMPORARY_SUFFIX}")


def remove_leftover_temporaries(serving: Path) -> list[Path]:
    """Delete what publishes killed before their rename left beside `serving`; return what was deleted.

    Only regular files named as `_temporary_path` names them (and their DuckDB `.wal`) go. One publish
    runs at a time per warehouse (the `warehouse_writer` pool, the `ecom run` lock), so none is in use.
    """
    removed = []
    prefix = f"{serving.name}."
    for path in sorted(serving.parent.glob(f"{glob.escape(prefix)}*")):
        name = path.name.removesuffix(".wal")
        run_id = name[len(prefix):-len(TEMPORARY_SUFFIX)] if name.endswith(TEMPORARY_SUFFIX) else ""
        if run_id and path.is_file() and not path.is_symlink():
            path.unlink()
            removed.append(path)
    return removed


def _attach(con: duckdb.DuckDBPyConnection, path: Path, alias: str) -> None:
    con.execute(f"ATTACH {literal(str(path))} AS {alias} (READ_ONLY)")


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


def _refuse_personal_columns(con: duckdb.DuckDBPyConnection) -> None:
    offences = personal_columns(con, MARTS_SCHEMA, WAREHOUSE_ALIAS)
    if offences:
        raise PersonalDataError(
            "refusing to publish personal data: " + "; ".join(o.describe(MARTS_SCHEMA) for o in offences)
        )


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
    manifest = manifest_path(dbt_project_dir())
    requirements = mart_source_requirements(manifest)
    reasons = mart_empty_reasons(manifest)
    landed = set(relation_names(con, "raw", WAREHOUSE_ALIAS))
    return {mart: empty_mart_note(mart, requirements, landed, _declared_reason(con, reasons.get(mart)))
            for mart in empty}


def _declared_reason(con: duckdb.DuckDBPyConnection, reason: EmptyReason | None) -> str | None:
    """The reason's note when its query, run on the warehouse, finds that it applies; else None."""
    if reason is None:
        return None
    [(publishing,)] = con.execute("SELECT current_database()").fetchall()
    con.execute(f"USE {WAREHOUSE_ALIAS}")
    try:
        cursor = con.execute(reason.query)
        rows = cursor.fetchall()
        names = [column[0] for column in cursor.description]
    except duckdb.Error:
        return None  # e.g. a relation it reads was not built: the general note stands
    finally:
        con.execute(f"USE {identifier(publishing)}")
    return reason.note.format(**dict(zip(names, rows[0], strict=True))) if rows else None


def _descriptions(row_counts: dict[str, int]) -> dict[str, MartDescription]:
    """schema.table -> descriptions of every published table: the marts' from the dbt manifest."""
    documented = mart_descriptions(manifest_path(dbt_project_dir()))
    undocumented = MartDescription("", {})
    descriptions = {f"{MARTS_SCHEMA}.{mart}": documented.get(mart, undocumented) for mart in row_counts}
    descriptions[PUBLISH_LOG] = MartDescription(
        PUBLISH_LOG_DESCRIPTION, {name: text for name, _, text in PUBLISH_LOG_COLUMNS}
    )
    return descriptions


def _describe_tables(con: duckdb.DuckDBPyConnection, descriptions: dict[str, MartDescription]) -> None:
    """The descriptions as table and column comments, where BI catalogues read them (one transaction:
    a commit per comment would cost more than copying the marts)."""
    present = {(schema, table, column) for schema, table, column in con.execute(
        "SELECT schema_name, table_name, column_name FROM duckdb_columns()"
    ).fetchall()}
    con.execute("BEGIN")
    for table, description in descriptions.items():
        schema, name = table.split(".")
        target = f"{identifier(schema)}.{identifier(name)}"
        if description.description:
            con.execute(f"COMMENT ON TABLE {target} IS {literal(description.description)}")
        # A column the manifest documents but the built table lacks (a stale manifest) gets no comment.
        for column, text in description.columns.items():
            if (schema, name, column) in present:
                con.execute(f"COMMENT ON COLUMN {target}.{identifier(column)} IS {literal(text)}")
    con.execute("COMMIT")


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
        _attach(con, serving, PREVIOUS_SERVING_ALIAS)
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
