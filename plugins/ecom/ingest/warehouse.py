"""The raw layer's relations in the working warehouse: audit tables, raw_pending.<table>, raw.<table>."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import duckdb

from ecom.config import Settings
from ecom.contract import Table
from ecom.sql import identifier, literal, relation_exists

PENDING_SCHEMA = "raw_pending"
RAW_SCHEMA = "raw"
AUDIT_SCHEMA = "audit"

# Appended to every pending/raw row: which file version, which line of it, which ingest batch, and
# when (UTC) its file was loaded (`file_loaded_at_sql`): _loaded_at orders file versions in time,
# and staging keeps the latest version of a key by it.
LINEAGE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("_file_id", "VARCHAR"),
    ("_line", "BIGINT"),
    ("_batch_id", "VARCHAR"),
    ("_loaded_at", "TIMESTAMP"),
)

# The current time as a UTC TIMESTAMP, whatever the session time zone.
UTC_NOW_SQL = "timezone('UTC', now())"


def file_loaded_at_sql(file_index_sql: str) -> str:
    """When a file was loaded: the transaction's start (UTC) plus its position in the load order, in µs.

    A table's new files are written in one transaction, where now() is constant; the offset keeps
    their versions ordered as loaded (by path). It is shorter than the time the transaction takes
    (far over 1 µs a file), so the next transaction's files still come later.
    """
    return f"{UTC_NOW_SQL} + to_microseconds({file_index_sql})"

_AUDIT_DDL = f"""
CREATE SCHEMA IF NOT EXISTS {AUDIT_SCHEMA};
CREATE SCHEMA IF NOT EXISTS {PENDING_SCHEMA};
CREATE SCHEMA IF NOT EXISTS {RAW_SCHEMA};
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
    batch_id VARCHAR NOT NULL,
    status VARCHAR NOT NULL CHECK (status IN ('pending', 'accepted', 'withdrawn')),
    loaded_at TIMESTAMP NOT NULL,
    accepted_at TIMESTAMP,
    CHECK (rows_read = rows_loaded + rows_rejected)
);
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
"""


@contextmanager
def warehouse_connection(settings: Settings) -> Iterator[duckdb.DuckDBPyConnection]:
    """One connection to the working warehouse, its session time zone set to the business time zone."""
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(settings.warehouse_db), config=settings.duckdb_config(settings.warehouse_db))
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
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """BEGIN ... COMMIT, or ROLLBACK when the block raises."""
    con.begin()
    try:
        yield
    except BaseException:
        con.rollback()
        raise
    con.commit()


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


def ensure_audit_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(_AUDIT_DDL)
    for column, sql_type in _MANIFEST_ADDED_COLUMNS:
        con.execute(f"ALTER TABLE {AUDIT_SCHEMA}.load_manifest ADD COLUMN IF NOT EXISTS {column} {sql_type}")


def relation_name(schema: str, table_name: str) -> str:
    return f"{identifier(schema)}.{identifier(table_name)}"


def landed_relations(con: duckdb.DuckDBPyConnection, table_name: str) -> list[str]:
    """The raw-layer relations holding a table's rows: raw.<table> (accepted) and raw_pending.<table>
    (rows of files still pending; promotion, withdrawal and replacement remove the others)."""
    return [relation_name(schema, table_name) for schema in (RAW_SCHEMA, PENDING_SCHEMA)
            if relation_exists(con, schema, table_name)]


def business_day_sql(utc_timestamp_sql: str, business_tz: str) -> str:
    """SQL for the business-time-zone calendar day of a UTC timestamp expression."""
    return f"CAST(timezone({literal(business_tz)}, timezone('UTC', {utc_timestamp_sql})) AS DATE)"


def ensure_layer_table(con: duckdb.DuckDBPyConnection, schema: str, table: Table) -> str:
    """Create `<schema>.<table>`: the contract's typed columns, then the lineage columns. Returns its name."""
    name = relation_name(schema, table.name)
    columns = [(c.name, c.storage_type) for c in table.columns] + list(LINEAGE_COLUMNS)
    column_sql = ", ".join(f"{identifier(column)} {sql_type}" for column, sql_type in columns)
    con.execute(f"CREATE TABLE IF NOT EXISTS {name} ({column_sql})")
    return name

