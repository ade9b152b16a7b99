"""The raw gate's quarantine rules: pending rows that need the as-of date or other tables to judge.

Ingestion quarantines what one value shows (untypable, empty yet required, outside the contract's
allowed values or range: a far-future stray timestamp among them). These rules find more: exact
duplicates and conflicting keys within a file, event times after the as-of date, orders of unknown
customers, order totals that differ from their items. Rules run in order (each switched on or off in
quality.yml `quarantine_rules`), each on the rows the earlier ones left. A row after the as-of date is
no defect: it waits (`waits`) for a run whose as-of date covers it, and the later rules judge it then.
The gate only reads: what the rules find goes into a temporary table of this connection
(ecom.ingest.quarantine.FINDINGS_COLUMNS), which the raw layer then applies
(ecom.ingest.quarantine_rows, ecom.ingest.set_aside_waiting).

Duplicates and conflicts are judged on the rows whose key occurs more than once in their file, found
in one pass over the table's pending rows (usually few rows): the other rules are filters and joins.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb

from ecom.contract import Contract, Table
from ecom.ingest.layers import (
    PENDING_SCHEMA,
    RAW_SCHEMA,
    business_day_sql,
    business_day_start_sql,
    business_time_sql,
    relation_name,
)
from ecom.ingest.quarantine import FINDINGS_COLUMNS
from ecom.quality.config import QuarantineRules
from ecom.quality.repeated_keys import repeated_keys, same_key_sql
from ecom.sql import identifier, literal, relation_exists

FINDINGS = "gate_quarantine_findings"
SHARED_KEYS = "gate_rows_sharing_a_key"
# The day of a file's partition folder, e.g. orders/dt=2026-06-30/orders.csv.
PARTITION_DAY_PATTERN = r"(?:^|/)dt=(\d{4}-\d{2}-\d{2})(?:/|$)"
# Rows not found by an earlier rule (p: a pending row); not quarantined by one (they may wait).
_FOUND = f"SELECT 1 FROM {FINDINGS} f WHERE f._file_id = p._file_id AND f._line = p._line"
_NOT_FOUND = f"NOT EXISTS ({_FOUND})"
_NOT_QUARANTINED = f"NOT EXISTS ({_FOUND} AND NOT f.waits)"


# The rule whose rows wait for a later as-of date instead of being quarantined.
WAITING_RULE = "future_timestamps"


@dataclass(frozen=True)
class RuleOutcome:
    rule: str
    table: str
    rows: int

    def describe(self) -> str:
        if self.rule == WAITING_RULE:
            return f"{self.table}: {self.rows} row(s) after the as-of date wait (rule {self.rule})"
        return f"{self.table}: {self.rows} row(s) quarantined by rule {self.rule}"


@dataclass(frozen=True)
class Findings:
    """The rows to quarantine or set aside, in the temporary table `relation`, and how many each rule
    found."""

    relation: str
    outcomes: list[RuleOutcome]


def find_quarantine_rows(
    con: duckdb.DuckDBPyConnection,
    contract: Contract,
    rules: QuarantineRules,
    event_time: dict[str, str],
    as_of: date,
    business_tz: str,
) -> Findings:
    """Apply every enabled rule to the rows of pending files; nothing durable is written."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE {FINDINGS} ({FINDINGS_COLUMNS})")
    outcomes: list[RuleOutcome] = []
    if not relation_exists(con, "audit", "load_manifest"):
        return Findings(FINDINGS, outcomes)
    for table in contract.tables.values():
        if not relation_exists(con, PENDING_SCHEMA, table.name):
            continue
        pending = _pending_rows_sql(table)
        if rules.exact_duplicates or rules.conflicting_keys:
            _find_rows_sharing_a_key(con, table, pending)
        rule_sql: list[tuple[str, str | None]] = [
            ("exact_duplicates", _exact_duplicates_sql(table) if rules.exact_duplicates else None),
            ("conflicting_keys", _conflicting_keys_sql(table) if rules.conflicting_keys else None),
            (
                WAITING_RULE,
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
            if sql is not None and (rows := _record(con, table, sql, waits=rule == WAITING_RULE)):
                outcomes.append(RuleOutcome(rule=rule, table=table.name, rows=rows))
        con.execute(f"DROP TABLE IF EXISTS {SHARED_KEYS}")
    return Findings(FINDINGS, outcomes)


def _pending_rows_sql(table: Table) -> str:
    """The table's rows under judgement (of pending files, or released from waiting) that no earlier rule
    found, with the file's path as `_path`."""
    return (
        f"(SELECT p.*, m.path AS _path FROM {relation_name(PENDING_SCHEMA, table.name)} p "
        f"JOIN audit.load_manifest m ON m.file_id = p._file_id WHERE {_NOT_FOUND})"
    )


def _find_rows_sharing_a_key(con: duckdb.DuckDBPyConnection, table: Table, pending: str) -> None:
    """Keep, in a temporary table, the pending rows whose primary key occurs more than once: the only rows
    an exact duplicate or a conflicting key (within a file) can be among."""
    # Grouping the key alone (over all files: a few more candidates, a much smaller hash table than by
    # file and key), then picking those rows back, is far cheaper than a window over whole rows.
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {SHARED_KEYS} AS SELECT * FROM {pending} p "
        f"SEMI JOIN {repeated_keys(con, table)} s ON {same_key_sql(table, 'p', 's')}"
    )


def _record(con: duckdb.DuckDBPyConnection, table: Table, caught_sql: str, waits: bool) -> int:
    """Add the rows `caught_sql` selects (_file_id, _line, column_name, raw_value, reason) to the findings,
    once per row, as waiting or to quarantine; returns how many."""
    [(added,)] = con.execute(
        f"INSERT INTO {FINDINGS} SELECT {literal(table.name)}, *, {waits} "
        f"FROM (SELECT DISTINCT ON (_file_id, _line) * FROM ({caught_sql}))"
    ).fetchall()
    return int(added)


def _key_text(table: Table, alias: str = "") -> str:
    """The primary key as text for messages, e.g. order_id='O1'."""
    parts = [
        f"{literal(column + '=')} || coalesce(chr(39) || {alias}{identifier(column)}::VARCHAR || chr(39), "
        f"'NULL')"
        for column in table.primary_key
    ]
    return " || ', ' || ".join(parts)


def _shared_key_rows_sql() -> str:
    """The rows sharing a key in their file that no earlier rule found."""
    return f"(SELECT * FROM {SHARED_KEYS} p WHERE {_NOT_FOUND})"


def _exact_duplicates_sql(table: Table) -> str:
    columns = ", ".join(identifier(c) for c in table.column_names)
    return (
        f"SELECT _file_id, _line, NULL AS column_name, {_key_text(table)} AS raw_value, "
        f"'exact duplicate of line ' || first_line || ' of the same file' AS reason "
        f"FROM (SELECT *, min(_line) OVER (PARTITION BY _file_id, {columns}) AS first_line "
        f"FROM {_shared_key_rows_sql()}) WHERE _line > first_line"
    )


def _conflicting_keys_sql(table: Table) -> str:
    key = ", ".join(identifier(c) for c in table.primary_key)
    return (
        f"SELECT _file_id, _line, {literal(table.primary_key[0])} AS column_name, "
        f"{_key_text(table)} AS raw_value, "
        f"'primary key ' || {_key_text(table)} || ' appears with different values on lines ' || lines "
        f"|| ' of the same file' AS reason "
        f"FROM (SELECT *, count(*) OVER w AS copies, "
        f"string_agg(_line::VARCHAR, ', ' ORDER BY _line) OVER w AS lines "
        f"FROM {_shared_key_rows_sql()} WINDOW w AS (PARTITION BY _file_id, {key} "
        f"ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)) WHERE copies > 1"
    )


def _future_sql(
    table: Table, pending: str, column_name: str | None, as_of: date, business_tz: str
) -> str | None:
    """Rows whose day is after the as-of date and after the day of their file's dt=YYYY-MM-DD partition:
    they wait.

    The partition day keeps a backfill (an as-of date before files already landed) from holding back
    the later days' rows: a row is in the future only when no file and no as-of date vouches for it.
    """
    if column_name is None:
        return None
    column = table.column(column_name)
    value = f"p.{identifier(column.name)}"
    timestamp = column.type == "timestamp"
    day = business_day_sql(value, business_tz) if timestamp else value
    # what landed: a timestamp is stored in UTC, and landed (when naive) in business local time
    landed = business_time_sql(value, business_tz) if timestamp else value
    as_of_sql = f"DATE {literal(as_of.isoformat())}"
    partition_day = f"TRY_CAST(regexp_extract(path, {literal(PARTITION_DAY_PATTERN)}, 1) AS DATE)"
    # Per file, the first day after the last one vouched for (and for timestamps the instant it begins),
    # so that only the rows caught are converted to their day.
    first_future = f"greatest({as_of_sql}, coalesce({partition_day}, {as_of_sql})) + 1"
    limit = business_day_start_sql(first_future, business_tz) if timestamp else first_future
    return (
        f"SELECT p._file_id, p._line, {literal(column.name)} AS column_name, {landed}::VARCHAR AS raw_value, "
        f"{literal(column.name + ' is after the as-of date ' + as_of.isoformat() + ' (business day ')} "
        f"|| {day}::VARCHAR || ')' AS reason FROM {pending} p "
        f"JOIN (SELECT file_id, {limit} AS first_future FROM audit.load_manifest "
        f"WHERE table_name = {literal(table.name)}) f ON f.file_id = p._file_id "
        f"WHERE {value} >= f.first_future"
    )


def _landed_sql(con: duckdb.DuckDBPyConnection, table: str, columns: str) -> str | None:
    """Accepted rows plus rows under judgement of a table that no rule quarantined (a customer after the
    as-of date has landed all the same), or None when neither exists."""
    sources = []
    if relation_exists(con, RAW_SCHEMA, table):
        sources.append(f"SELECT {columns} FROM {relation_name(RAW_SCHEMA, table)}")
    if relation_exists(con, PENDING_SCHEMA, table):
        sources.append(
            f"SELECT {columns} FROM {relation_name(PENDING_SCHEMA, table)} p WHERE {_NOT_QUARANTINED}"
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
