"""After the raw gate passes: move pending rows into raw.<table>; and the last order day seen."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import duckdb

from ecom.config import Settings
from ecom.contract import load_contract
from ecom.ingest.layers import (
    PENDING_SCHEMA,
    RAW_SCHEMA,
    UTC_NOW_SQL,
    business_day_sql,
    ensure_layer_table,
    landed_relations,
    relation_name,
)
from ecom.sql import relation_exists
from ecom.warehouse import connect, ensure_audit_tables, transaction


def promote_pending(settings: Settings) -> dict[str, int]:
    """Move every pending row (of pending files, or released from waiting) to raw.<table> and mark pending
    files accepted, in one transaction. Rows set aside as waiting stay in raw_waiting.

    A table gets its raw relation as soon as one of its files is accepted, even with 0 rows.
    Returns the rows promoted per table that had pending files or rows.
    """
    contract = load_contract()
    promoted: dict[str, int] = {}
    with connect(settings) as con:
        ensure_audit_tables(con)
        with transaction(con):
            with_files = {row[0] for row in con.execute(
                "SELECT DISTINCT table_name FROM audit.load_manifest WHERE status = 'pending'"
            ).fetchall()}
            tables = sorted(with_files | {name for name in contract.tables if _has_pending_rows(con, name)})
            for table_name in tables:
                table = contract.table(table_name)
                pending = ensure_layer_table(con, PENDING_SCHEMA, table)
                raw = ensure_layer_table(con, RAW_SCHEMA, table)
                inserted = con.execute(f"INSERT INTO {raw} BY NAME SELECT * FROM {pending}").fetchone()
                con.execute(f"DELETE FROM {pending}")
                promoted[table_name] = int(inserted[0]) if inserted else 0
            con.execute(f"UPDATE audit.load_manifest SET status = 'accepted', accepted_at = {UTC_NOW_SQL} "
                        "WHERE status = 'pending'")
    return promoted


def _has_pending_rows(con: duckdb.DuckDBPyConnection, table_name: str) -> bool:
    if not relation_exists(con, PENDING_SCHEMA, table_name):
        return False
    [(found,)] = con.execute(f"SELECT exists (FROM {relation_name(PENDING_SCHEMA, table_name)})").fetchall()
    return bool(found)


def latest_order_date(settings: Settings, today: date | None = None) -> date | None:
    """The business-time-zone day of the last order landed (accepted, pending or waiting) that is not
    after `today` (default: today in the business time zone); None when there is none.

    An order dated after today has not happened: one stray far-future row (2099-12-31) must not become
    the run's as-of date and stretch every cohort and month series to it. Such rows wait, like any row
    after the as-of date.
    """
    if not settings.warehouse_db.exists():
        return None
    with connect(settings) as con:
        sources = landed_relations(con, "orders")
        if not sources:
            return None
        today = today or datetime.now(ZoneInfo(settings.business_tz)).date()
        day = business_day_sql("ordered_at", settings.business_tz)
        union = " UNION ALL ".join(f"SELECT max({day}) AS day FROM {s} WHERE {day} <= ?" for s in sources)
        row = con.execute(f"SELECT max(day) FROM ({union})", [today] * len(sources)).fetchone()
    return row[0] if row else None
