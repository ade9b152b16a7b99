"""The raw layer's relations in the working warehouse: raw_pending.<table>, raw.<table> and
raw_waiting.<table>.

raw_pending holds the rows under judgement (rows of pending files, and waiting rows released for the
run's gate), raw the accepted rows dbt reads, raw_waiting the rows dated after the as-of date of the
run that judged them: neither defects nor published, they wait for a run whose as-of date covers them.

The audit tables (load manifest, rejects) are created by ecom.warehouse, which opens every connection.
"""

from __future__ import annotations

import duckdb

from ecom.contract import Table
from ecom.sql import identifier, literal, relation_exists

PENDING_SCHEMA = "raw_pending"
RAW_SCHEMA = "raw"
WAITING_SCHEMA = "raw_waiting"

# Appended to every pending/raw row: which file version, which line of it, which ingest batch, and
# when (UTC) its file was loaded (`file_loaded_at_sql`): _loaded_at orders file versions in time,
# and staging keeps the latest version of a key by it.
LINEAGE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("_file_id", "VARCHAR"),
    ("_line", "BIGINT"),
    ("_batch_id", "VARCHAR"),
    ("_loaded_at", "TIMESTAMP"),
)
LINEAGE_DESCRIPTIONS: dict[str, str] = {
    "_file_id": "Lineage: audit.load_manifest file_id of the file the row came from.",
    "_line": "Lineage: 1-based line (CSV/JSON lines) or row number (Parquet) in that file.",
    "_batch_id": "Lineage: ingestion batch (the Airflow run id) that loaded the row.",
    "_loaded_at": (
        "Lineage: when (UTC) the row's file was loaded; staging keeps the latest version of a key by it."
    ),
}

# The current time as a UTC TIMESTAMP, whatever the session time zone.
UTC_NOW_SQL = "timezone('UTC', now())"


def file_loaded_at_sql(file_index_sql: str) -> str:
    """When a file was loaded: the transaction's start (UTC) plus its position in the load order, in µs.

    A table's new files are written in one transaction, where now() is constant; the offset keeps
    their versions ordered as loaded (by path). It is shorter than the time the transaction takes
    (far over 1 µs a file), so the next transaction's files still come later.
    """
    return f"{UTC_NOW_SQL} + to_microseconds({file_index_sql})"


def relation_name(schema: str, table_name: str) -> str:
    return f"{identifier(schema)}.{identifier(table_name)}"


def landed_relations(con: duckdb.DuckDBPyConnection, table_name: str) -> list[str]:
    """The raw-layer relations holding a table's rows: raw.<table> (accepted), raw_pending.<table>
    (rows under judgement; promotion, withdrawal and replacement remove the others) and
    raw_waiting.<table> (rows after an earlier run's as-of date)."""
    return [relation_name(schema, table_name) for schema in (RAW_SCHEMA, PENDING_SCHEMA, WAITING_SCHEMA)
            if relation_exists(con, schema, table_name)]


def delete_file_rows(con: duckdb.DuckDBPyConnection, table_name: str, file_ids: list[str]) -> None:
    """Remove the rows of these file versions that are not accepted: pending or waiting."""
    for schema in (PENDING_SCHEMA, WAITING_SCHEMA):
        if relation_exists(con, schema, table_name):
            con.execute(f"DELETE FROM {relation_name(schema, table_name)} "
                        "WHERE _file_id IN (SELECT unnest(?::VARCHAR[]))", [file_ids])


def business_time_sql(utc_timestamp_sql: str, business_tz: str) -> str:
    """SQL for the business-time-zone wall-clock time (a TIMESTAMP) of a UTC timestamp expression: the
    text a naive landed timestamp had (naive landed timestamps are business local time)."""
    return f"timezone({literal(business_tz)}, timezone('UTC', {utc_timestamp_sql}))"


def business_day_sql(utc_timestamp_sql: str, business_tz: str) -> str:
    """SQL for the business-time-zone calendar day of a UTC timestamp expression."""
    return f"CAST({business_time_sql(utc_timestamp_sql, business_tz)} AS DATE)"


def business_day_start_sql(day_sql: str, business_tz: str) -> str:
    """SQL for the UTC instant (a TIMESTAMP) at which the business day `day_sql` (a DATE) begins.

    A row's day is on or after D exactly when its UTC timestamp is at or after this instant of D: a
    filter on a whole table compares timestamps instead of converting each one to its day.
    """
    return f"timezone('UTC', timezone({literal(business_tz)}, CAST({day_sql} AS TIMESTAMP)))"


def ensure_layer_table(con: duckdb.DuckDBPyConnection, schema: str, table: Table) -> str:
    """Create `<schema>.<table>`: the contract's typed columns, then the lineage columns. Returns its name."""
    name = relation_name(schema, table.name)
    columns = [(c.name, c.storage_type) for c in table.columns] + list(LINEAGE_COLUMNS)
    column_sql = ", ".join(f"{identifier(column)} {sql_type}" for column, sql_type in columns)
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {identifier(schema)}")
    con.execute(f"CREATE TABLE IF NOT EXISTS {name} ({column_sql})")
    return name

