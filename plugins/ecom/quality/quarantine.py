"""Row-level quarantine by the raw gate: rules that need the as-of date or other tables.

Ingestion quarantines what one value shows (untypable, empty yet required, outside the contract's
allowed values or range). Before validating, the raw gate moves the pending rows these rules catch
to audit.rejects, with a reason, and keeps audit.load_manifest reconciled (rows_loaded goes down and
rows_rejected up by the same count), so the rest of each file still loads. Rules run in order, each
on the rows the earlier ones left; each is switched on or off in quality.yml (`quarantine_rules`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb

from ecom.contract import Contract, Table
from ecom.ingest.warehouse import (
    PENDING_SCHEMA,
    RAW_SCHEMA,
    UTC_NOW_SQL,
    business_day_sql,
    relation_name,
    transaction,
)
from ecom.quality.config import QuarantineRules
from ecom.sql import identifier, literal, relation_exists

CAUGHT = "gate_quarantine_caught"
# The day of a file's partition folder, e.g. orders/dt=2026-06-30/orders.csv.
PARTITION_DAY_PATTERN = r"(?:^|/)dt=(\d{4}-\d{2}-\d{2})(?:/|$)"
# A rule's SELECT gives the pending rows it catches: _file_id, _line, column_name, raw_value, reason.
CAUGHT_COLUMNS = "_file_id VARCHAR, _line BIGINT, column_name VARCHAR, raw_value VARCHAR, reason VARCHAR"


@dataclass(frozen=True)
class RuleOutcome:
    rule: str
    table: str
    rows: int

    def describe(self) -> str:
        return f"{self.table}: {self.rows} row(s) quarantined by rule {self.rule}"


def quarantine_pending_rows(
    con: duckdb.DuckDBPyConnection,
    contract: Contract,
    rules: QuarantineRules,
    event_time: dict[str, str],
    as_of: date,
    business_tz: str,
) -> list[RuleOutcome]:
    """Apply every enabled rule to the rows of pending files; returns what each rule quarantined."""
    if not relation_exists(con, "audit", "load_manifest"):
        return []
    outcomes: list[RuleOutcome] = []
    for table in contract.tables.values():
        if not relation_exists(con, PENDING_SCHEMA, table.name):
            continue
        pending = _pending_rows_sql(table)
        rule_sql: list[tuple[str, str | None]] = [
            ("exact_duplicates", _exact_duplicates_sql(table, pending) if rules.exact_duplicates else None),
            ("conflicting_keys", _conflicting_keys_sql(table, pending) if rules.conflicting_keys else None),
            (
                "future_timestamps",
                _future_sql(table, pending, event_time.get(table.name), as_of, business_tz)
                if rules.future_timestamps
                else None,
            ),
            (
                "unknown_customers",
                _unknown_customers_sql(con, table, pending) if rules.unknown_customers else None,
            ),
            (
                "order_totals",
                _order_totals_sql(con, table, pending, rules.order_total_tolerance)
                if rules.order_totals
                else None,
            ),
        ]
        for rule, sql in rule_sql:
            if sql is not None and (rows := _quarantine(con, table, sql)):
                outcomes.append(RuleOutcome(rule=rule, table=table.name, rows=rows))
    return outcomes


def _pending_rows_sql(table: Table) -> str:
    return (
        f"(SELECT p.*, m.path AS _path FROM {relation_name(PENDING_SCHEMA, table.name)} p "
        f"JOIN audit.load_manifest m ON m.file_id = p._file_id WHERE m.status = 'pending')"
    )


def _quarantine(con: duckdb.DuckDBPyConnection, table: Table, caught_sql: str) -> int:
    """Move the caught rows to audit.rejects and out of raw_pending, reconciling the manifest."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE {CAUGHT} ({CAUGHT_COLUMNS})")
    con.execute(f"INSERT INTO {CAUGHT} SELECT DISTINCT ON (_file_id, _line) * FROM ({caught_sql})")
    [(caught,)] = con.execute(f"SELECT count(*) FROM {CAUGHT}").fetchall()
    if not caught:
        return 0
    with transaction(con):
        con.execute(
            "INSERT INTO audit.rejects (batch_id, file_id, table_name, path, line, column_name, raw_value, "
            "reason, rejected_at) "
            "SELECT m.batch_id, c._file_id, m.table_name, m.path, c._line, c.column_name, "
            f"c.raw_value, c.reason, {UTC_NOW_SQL} FROM {CAUGHT} c JOIN audit.load_manifest m "
            "ON m.file_id = c._file_id"
        )
        con.execute(
            f"DELETE FROM {relation_name(PENDING_SCHEMA, table.name)} p USING {CAUGHT} c "
            "WHERE p._file_id = c._file_id AND p._line = c._line"
        )
        con.execute(
            "UPDATE audit.load_manifest m SET rows_loaded = m.rows_loaded - c.n, "
            "rows_rejected = m.rows_rejected + c.n "
            f"FROM (SELECT _file_id, count(*) AS n FROM {CAUGHT} GROUP BY ALL) c WHERE m.file_id = c._file_id"
        )
    con.execute(f"DROP TABLE {CAUGHT}")
    return int(caught)


def _key_text(table: Table, alias: str = "") -> str:
    """The primary key as text for messages, e.g. order_id='O1'."""
    parts = [
        f"{literal(column + '=')} || coalesce(chr(39) || {alias}{identifier(column)}::VARCHAR || chr(39), "
        f"'NULL')"
        for column in table.primary_key
    ]
    return " || ', ' || ".join(parts)


def _exact_duplicates_sql(table: Table, pending: str) -> str:
    columns = ", ".join(identifier(c) for c in table.column_names)
    return (
        f"SELECT _file_id, _line, NULL AS column_name, {_key_text(table)} AS raw_value, "
        f"'exact duplicate of line ' || first_line || ' of the same file' AS reason "
        f"FROM (SELECT *, min(_line) OVER (PARTITION BY _file_id, {columns}) AS first_line FROM {pending}) "
        f"WHERE _line > first_line"
    )


def _conflicting_keys_sql(table: Table, pending: str) -> str:
    key = ", ".join(identifier(c) for c in table.primary_key)
    return (
        f"SELECT _file_id, _line, {literal(table.primary_key[0])} AS column_name, "
        f"{_key_text(table)} AS raw_value, "
        f"'primary key ' || {_key_text(table)} || ' appears with different values on lines ' || lines "
        f"|| ' of the same file' AS reason "
        f"FROM (SELECT *, count(*) OVER w AS copies, "
        f"string_agg(_line::VARCHAR, ', ' ORDER BY _line) OVER w AS lines "
        f"FROM {pending} WINDOW w AS (PARTITION BY _file_id, {key} ROWS BETWEEN UNBOUNDED PRECEDING "
        f"AND UNBOUNDED FOLLOWING)) WHERE copies > 1"
    )


def _future_sql(
    table: Table, pending: str, column_name: str | None, as_of: date, business_tz: str
) -> str | None:
    """Rows whose day is after the as-of date and after the day of their file's dt=YYYY-MM-DD partition.

    The partition day keeps a backfill (an as-of date before files already landed) from quarantining
    the later days' rows: a row is in the future only when no file and no as-of date vouches for it.
    """
    if column_name is None:
        return None
    column = table.column(column_name)
    value = identifier(column.name)
    day = business_day_sql(value, business_tz) if column.type == "timestamp" else value
    as_of_sql = f"DATE {literal(as_of.isoformat())}"
    partition_day = f"TRY_CAST(regexp_extract(_path, {literal(PARTITION_DAY_PATTERN)}, 1) AS DATE)"
    return (
        f"SELECT _file_id, _line, {literal(column.name)} AS column_name, {value}::VARCHAR AS raw_value, "
        f"{literal(column.name + ' is after the as-of date ' + as_of.isoformat() + ' (business day ')} "
        f"|| {day}::VARCHAR || ')' AS reason FROM {pending} "
        f"WHERE {day} > greatest({as_of_sql}, coalesce({partition_day}, {as_of_sql}))"
    )


def _landed_sql(con: duckdb.DuckDBPyConnection, table: str, columns: str) -> str | None:
    """Accepted rows plus rows of pending files of a table, or None when neither exists."""
    sources = []
    if relation_exists(con, RAW_SCHEMA, table):
        sources.append(f"SELECT {columns} FROM {relation_name(RAW_SCHEMA, table)}")
    if relation_exists(con, PENDING_SCHEMA, table):
        sources.append(
            f"SELECT {columns} FROM {relation_name(PENDING_SCHEMA, table)} p JOIN audit.load_manifest m "
            "ON m.file_id = p._file_id WHERE m.status = 'pending'"
        )
    return " UNION ALL ".join(sources) or None


def _unknown_customers_sql(con: duckdb.DuckDBPyConnection, table: Table, pending: str) -> str | None:
    if table.name != "orders":
        return None
    customers = _landed_sql(con, "customers", "customer_id")
    known = f"SELECT customer_id FROM ({customers})" if customers else "SELECT NULL::VARCHAR WHERE false"
    return (
        f"SELECT _file_id, _line, 'customer_id' AS column_name, customer_id AS raw_value, "
        f"'customer_id ' || chr(39) || customer_id || chr(39) || ' is in no landed customers row' AS reason "
        f"FROM {pending} WHERE customer_id NOT IN ({known})"
    )


def _order_totals_sql(
    con: duckdb.DuckDBPyConnection, table: Table, pending: str, tolerance: float
) -> str | None:
    if table.name != "orders":
        return None
    items = _landed_sql(
        con, "order_items", "order_item_id, order_id, quantity, unit_price, discount_amount, _loaded_at"
    )
    if items is None:
        return None
    return (
        f"WITH latest_items AS (SELECT * FROM ({items}) "
        f"  QUALIFY row_number() OVER (PARTITION BY order_item_id ORDER BY _loaded_at DESC) = 1), "
        f"item_totals AS (SELECT order_id, "
        f"  sum(quantity * unit_price - coalesce(discount_amount, 0)) AS subtotal "
        f"  FROM latest_items GROUP BY ALL) "
        f"SELECT o._file_id, o._line, 'total_amount' AS column_name, o.total_amount::VARCHAR AS raw_value, "
        f"'order_items add up to ' || i.subtotal::VARCHAR || ' less the order discount ' "
        f"|| coalesce(o.discount_amount, 0)::VARCHAR || ' = ' "
        f"|| (i.subtotal - coalesce(o.discount_amount, 0))::VARCHAR || ', not total_amount ' "
        f"|| o.total_amount::VARCHAR AS reason "
        f"FROM {pending} o JOIN item_totals i USING (order_id) "
        f"WHERE abs(i.subtotal - coalesce(o.discount_amount, 0) - o.total_amount) > {tolerance}"
    )
