"""Small frames the raw gate validates besides the pending rows: one row per file, table or run.

Each is a DuckDB aggregate (rows are never fetched). Shapes follow docs/architecture.md "Raw layer":
raw_pending.<table> / raw.<table> hold the contract columns plus lineage columns; audit.load_manifest
has one row per landed file version.
"""

from __future__ import annotations

from datetime import date

import duckdb
import pandas as pd

from ecom.contract import Contract
from ecom.ingest.layers import (
    PENDING_SCHEMA,
    RAW_SCHEMA,
    business_day_sql,
    business_day_start_sql,
    landed_relations,
    relation_name,
)
from ecom.quality.reads import count_rows, fetch_frame
from ecom.sql import relation_exists

PENDING = "pending"


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
    day_after, week_start = (business_day_start_sql(day, business_tz) for day in ("$as_of + 1", "$as_of - 6"))
    sources = [f"select ordered_at from {relation}" for relation in landed_relations(con, "orders")]
    orders = " union all ".join(sources) or "select null::timestamp as ordered_at where false"
    return fetch_frame(
        con,
        f"""
        with orders as ({orders}),
        activity as (  -- instants compared, not each order converted to its day
            select
                {business_day_sql(f"max(ordered_at) filter (where ordered_at < {day_after})", business_tz)}
                    as last_order_day,
                count(*) filter (where ordered_at >= {week_start} and ordered_at < {day_after})
                    as orders_in_last_7_days
            from orders
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
