"""Every DuckDB connection of the pipeline, and the audit schema's tables.

`connect` is the one way the pipeline opens a database: the working warehouse (ingestion, the gates,
the raw layer's promotion), the serving database being written (publish) or an in-memory database that
attaches others read-only (the report). Each connection gets the same configuration, given when the
database is opened and never changed afterwards:
- `memory_limit` (ECOM_DUCKDB_MEMORY_LIMIT) and `temp_directory` (`<ECOM_DUCKDB_TEMP_DIR>/<file>.tmp`),
  from `duckdb_config`. DuckDB refuses to switch the temporary directory of an open database once it
  has spilled there, so it is only ever set here, at open; dbt-duckdb receives the same values as its
  `config_options` (dbt_project/profiles.yml), which also lets dbt share a database this process holds.
- the session time zone, the business time zone (naive landed timestamps are local time).

The audit schema (`audit.load_manifest`, `audit.ingest_warnings`, `audit.rejects`,
`audit.validation_results`) is created here.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from ecom.config import Settings
from ecom.sql import literal

AUDIT_SCHEMA = "audit"
IN_MEMORY = ":memory:"

# Every physical row of a file is loaded (in raw_pending or raw), rejected (audit.rejects) or waiting
# (raw_waiting: after the as-of date of the run that judged it).
MANIFEST_DDL = f"""
CREATE TABLE IF NOT EXISTS {AUDIT_SCHEMA}.load_manifest (
    file_id VARCHAR NOT NULL,
    table_name VARCHAR NOT NULL,
    path VARCHAR NOT NULL,
    size_bytes BIGINT NOT NULL,
    sha256 VARCHAR NOT NULL,
    file_format VARCHAR NOT NULL,
    columns_present VARCHAR[] NOT NULL,
    missing_columns VARCHAR[] NOT NULL,
    extra_columns VARCHAR[] NOT NULL,
    rows_read BIGINT NOT NULL,
    rows_loaded BIGINT NOT NULL,
    rows_rejected BIGINT NOT NULL,
    rows_waiting BIGINT NOT NULL DEFAULT 0,
    batch_id VARCHAR NOT NULL,
    status VARCHAR NOT NULL CHECK (status IN ('pending', 'accepted', 'withdrawn')),
    loaded_at TIMESTAMP NOT NULL,
    accepted_at TIMESTAMP,
    CHECK (rows_read = rows_loaded + rows_rejected + rows_waiting)
);
"""
AUDIT_DDL = f"""
CREATE SCHEMA IF NOT EXISTS {AUDIT_SCHEMA};
{MANIFEST_DDL}
CREATE TABLE IF NOT EXISTS {AUDIT_SCHEMA}.ingest_warnings (
    batch_id VARCHAR NOT NULL,
    warning VARCHAR NOT NULL,
    noted_at TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS {AUDIT_SCHEMA}.rejects (
    batch_id VARCHAR NOT NULL,
    file_id VARCHAR NOT NULL,
    table_name VARCHAR NOT NULL,
    path VARCHAR NOT NULL,
    line BIGINT,
    column_name VARCHAR,
    raw_value VARCHAR,
    reason VARCHAR NOT NULL,
    rejected_at TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS {AUDIT_SCHEMA}.validation_results (
    run_id VARCHAR NOT NULL,
    gate VARCHAR NOT NULL,
    suite VARCHAR NOT NULL,
    table_name VARCHAR,
    file_path VARCHAR,
    expectation VARCHAR NOT NULL,
    column_name VARCHAR,
    severity VARCHAR NOT NULL,
    success BOOLEAN NOT NULL,
    observed VARCHAR,
    message VARCHAR,
    as_of DATE,
    validated_at TIMESTAMP NOT NULL  -- UTC
);
"""


# Columns audit.load_manifest gained after its first version: added to older warehouses as they are opened.
# The file's physical lines (CSV, JSON lines), its stat when fingerprinted (NULL: not kept, the file was
# still changing) and how many of its values ingestion rounded (`excess_decimals: round`).
_MANIFEST_ADDED_COLUMNS = (
    ("physical_lines", "BIGINT"),
    ("inode", "BIGINT"),
    ("mtime_ns", "BIGINT"),
    ("ctime_ns", "BIGINT"),
    ("values_rounded", "BIGINT DEFAULT 0"),
)


def duckdb_config(settings: Settings, database: Path) -> dict[str, str]:
    """The configuration `connect` opens `database` with (dbt's, from profiles.yml, is the same).

    Each database file spills into its own folder, as DuckDB's default `<file>.tmp` does. The folder
    holding those is created here: DuckDB creates only the last level when it first spills.
    """
    settings.duckdb_temp_directory.mkdir(parents=True, exist_ok=True)
    name = "in_memory" if str(database) == IN_MEMORY else database.name
    return {"memory_limit": settings.duckdb_memory_limit,
            "temp_directory": str(settings.duckdb_temp_directory / f"{name}.tmp")}


@contextmanager
def connect(settings: Settings, database: Path | None = None, read_only: bool = False,
            spill_as: Path | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to `database` (default: the working warehouse; `IN_MEMORY` for none), configured
    as the module docstring says; closed when the block ends. `spill_as`: the file whose spill folder
    the connection uses (an in-memory database that writes an attached file)."""
    database = database or settings.warehouse_db
    if not read_only and str(database) != IN_MEMORY:
        database.parent.mkdir(parents=True, exist_ok=True)
    config = duckdb_config(settings, spill_as or database)
    con = duckdb.connect(str(database), read_only=read_only, config=config)
    try:
        try:
            con.execute(f"SET TimeZone = {literal(settings.business_tz)}")
        except duckdb.Error as error:
            tz = settings.business_tz
            raise ValueError(f"ECOM_BUSINESS_TZ={tz!r} is not a known IANA time zone") from error
        yield con
    finally:
        con.close()


@contextmanager
def connect_new(settings: Settings, database: Path, alias: str,
                storage_version: str) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection writing the new file `database` in DuckDB storage version `storage_version` (publish's
    serving file, which older clients must read): an in-memory database configured as `connect` does,
    with `database` attached as `alias` and in use. DuckDB sets a file's storage version when it attaches
    it, never when it opens it. The caller detaches `alias` once it is written."""
    with connect(settings, IN_MEMORY, spill_as=database) as con:
        version = literal(storage_version)
        con.execute(f"ATTACH {literal(str(database))} AS {alias} (STORAGE_VERSION {version})")
        con.execute(f"USE {alias}")
        yield con


def attach(con: duckdb.DuckDBPyConnection, database: Path, alias: str) -> None:
    """Attach another database file read-only (publish reads the warehouse, the report both files)."""
    con.execute(f"ATTACH {literal(str(database))} AS {alias} (READ_ONLY)")


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """BEGIN ... COMMIT, or ROLLBACK when the block raises."""
    con.begin()
    try:
        yield
    except BaseException:
        con.rollback()
        raise
    con.commit()


def ensure_audit_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(AUDIT_DDL)
    _add_manifest_columns(con)
    [(counts_waiting,)] = con.execute(
        "SELECT count(*) > 0 FROM duckdb_columns() WHERE database_name = current_database() "
        f"AND schema_name = {literal(AUDIT_SCHEMA)} AND table_name = 'load_manifest' "
        "AND column_name = 'rows_waiting'"
    ).fetchall()
    if not counts_waiting:
        _rebuild_manifest(con)


def _add_manifest_columns(con: duckdb.DuckDBPyConnection) -> None:
    for column, sql_type in _MANIFEST_ADDED_COLUMNS:
        con.execute(f"ALTER TABLE {AUDIT_SCHEMA}.load_manifest ADD COLUMN IF NOT EXISTS {column} {sql_type}")


def _rebuild_manifest(con: duckdb.DuckDBPyConnection) -> None:
    """A manifest from before waiting rows: copied into the current table, whose CHECK counts them (DuckDB
    cannot alter a constraint)."""
    with transaction(con):
        con.execute(f"ALTER TABLE {AUDIT_SCHEMA}.load_manifest RENAME TO load_manifest_before_waiting")
        con.execute(MANIFEST_DDL)
        _add_manifest_columns(con)
        con.execute(f"INSERT INTO {AUDIT_SCHEMA}.load_manifest BY NAME "
                    f"SELECT * FROM {AUDIT_SCHEMA}.load_manifest_before_waiting")
        con.execute(f"DROP TABLE {AUDIT_SCHEMA}.load_manifest_before_waiting")
