"""Frames of the steward checks the raw gate adds to its suites (see steward_checks.py).

Each frame is a small aggregate DuckDB computes (one row per pending file, table, day or column):
rows are never fetched. Every frame has `table_name` and, where a check is about one file,
`file_path`; the checked value and its limit sit side by side so the stored result shows both. Days
are business days (time zone `business_tz`); "landed" rows are the accepted rows plus those of files
awaiting acceptance.
"""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import pandas as pd

from ecom.contract import Contract, load_contract
from ecom.ingest.layers import (
    PENDING_SCHEMA,
    RAW_SCHEMA,
    business_day_sql,
    business_day_start_sql,
    relation_name,
)
from ecom.quality.config import QualityConfig
from ecom.quality.quarantine import PARTITION_DAY_PATTERN
from ecom.quality.reads import fetch_frame
from ecom.sql import identifier, literal, relation_exists
from ecom.vocabulary import unmapped_values as unmapped_vocabulary_values

_PENDING_FILES = "m.status = 'pending'"
_PARTITION_DAY = f"TRY_CAST(regexp_extract(m.path, {literal(PARTITION_DAY_PATTERN)}, 1) AS DATE)"
# Values compared per side in a distribution check: bounds the work on a long history, and the
# statistics' sampling error (about 1/sqrt(n)) stays far under their limits.
SAMPLE_ROWS = 100_000
KS, TVD = "ks", "tvd"


def quarantine_shares(con: duckdb.DuckDBPyConnection, config: QualityConfig) -> pd.DataFrame:
    """Per table of files awaiting acceptance: rows read, rows quarantined, their share and its limit."""
    rows = con.execute(
        "SELECT table_name, sum(rows_read), sum(rows_rejected) FROM audit.load_manifest m "
        f"WHERE {_PENDING_FILES} GROUP BY ALL ORDER BY 1"
    ).fetchall()
    return pd.DataFrame(
        [
            (table, int(read), int(rejected), rejected / read if read else 0.0, config.max_share(table))
            for table, read, rejected in rows
        ],
        columns=["table_name", "rows_read", "rows_quarantined", "quarantined_share", "max_share"],
    )


def pending_files(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """One row per file awaiting acceptance: its rows read."""
    return fetch_frame(
        con,
        "SELECT table_name, path AS file_path, rows_read FROM audit.load_manifest m "
        f"WHERE {_PENDING_FILES} ORDER BY table_name, path",
    )


def unmapped_values(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Per vocabulary column and value of the pending rows that the vocabulary seed does not map: rows."""
    unmapped = unmapped_vocabulary_values(con, PENDING_SCHEMA)
    rows = [(u.table_name, u.column_name, u.value, u.row_count) for u in unmapped]
    return pd.DataFrame(rows, columns=["table_name", "column_name", "value", "row_count"])


def schema_changes(con: duckdb.DuckDBPyConnection, contract: Contract) -> pd.DataFrame:
    """Per pending file with columns: columns added and removed against its table's last accepted file.

    Before any file of the table was accepted, only columns outside the contract count (added): a file
    may lack the contract's optional columns. An empty file is left to the file_schema and no-rows checks.
    """
    declared = ", ".join(
        f"({literal(table.name)}, [{', '.join(literal(c) for c in table.column_names)}]::VARCHAR[])"
        for table in contract.tables.values()
    )
    return fetch_frame(
        con,
        f"""
        WITH contract (table_name, columns) AS (VALUES {declared}),
        accepted AS (
            SELECT table_name, arg_max(columns_present, accepted_at) AS columns
            FROM audit.load_manifest WHERE status = 'accepted' GROUP BY ALL
        ),
        compared AS (
            SELECT m.table_name, m.path AS file_path, m.columns_present AS present, a.columns AS accepted,
                   CASE WHEN len(a.columns) > 0 THEN a.columns ELSE c.columns END AS reference
            FROM audit.load_manifest m
            JOIN contract c USING (table_name)
            LEFT JOIN accepted a USING (table_name)
            WHERE {_PENDING_FILES} AND len(m.columns_present) > 0
        ),
        changes AS (
            SELECT *, list_filter(present, lambda c: NOT list_contains(reference, c)) AS added,
                   list_filter(coalesce(accepted, []), lambda c: NOT list_contains(present, c))
                       AS removed
            FROM compared
        )
        SELECT table_name, file_path, array_to_string(added, ', ') AS added_columns,
               array_to_string(removed, ', ') AS removed_columns,
               len(added) + len(removed) > 0 AS schema_changed,
               CASE WHEN accepted IS NULL THEN 'contract' ELSE 'last accepted file' END AS compared_with
        FROM changes ORDER BY table_name, file_path
        """,
    )


def late_rows(con: duckdb.DuckDBPyConnection, config: QualityConfig, business_tz: str) -> pd.DataFrame:
    """Per pending file in a dt=YYYY-MM-DD partition: rows whose day is over max_days_late before it."""
    late_before = f"partition_day - {int(config.max_days_late)}"
    parts = [
        f"""
        SELECT f.table_name, f.path AS file_path, f.partition_day,
               {_day_of(table, column, f"min(p.{identifier(column)})", business_tz)} AS oldest_day,
               count(*) FILTER (WHERE p.{identifier(column)} < f.late_limit) AS late_rows
        FROM (SELECT *, {_day_start(table, column, late_before, business_tz)} AS late_limit FROM (
                  SELECT file_id, table_name, path, {_PARTITION_DAY} AS partition_day
                  FROM audit.load_manifest m WHERE {_PENDING_FILES} AND m.table_name = {literal(table)}
              ) WHERE partition_day IS NOT NULL) f
        LEFT JOIN {relation_name(PENDING_SCHEMA, table)} p ON p._file_id = f.file_id
        GROUP BY ALL
        """
        for table, column in config.event_time.items()
        if relation_exists(con, PENDING_SCHEMA, table)
    ]
    columns = ["table_name", "file_path", "partition_day", "oldest_day", "late_rows"]
    if not parts:
        return pd.DataFrame(columns=columns)
    return fetch_frame(con, " UNION ALL ".join(parts) + " ORDER BY table_name, file_path")[columns]


def daily_volume(
    con: duckdb.DuckDBPyConnection, config: QualityConfig, as_of: date, business_tz: str
) -> pd.DataFrame:
    """Rows per day of the recent window against the median day of the trailing window before it.

    Tables whose median is under min_baseline_rows are left out (too few rows to judge).
    """
    volume = config.volume
    recent, trailing = int(volume["recent_days"]), int(volume["trailing_days"])
    first_day = as_of - timedelta(days=recent + trailing - 1)
    first_recent = as_of - timedelta(days=recent - 1)
    parts = [
        f"""
        SELECT {literal(table)} AS table_name, d.day, coalesce(c.rows, 0) AS rows
        FROM (SELECT unnest(generate_series($first_day, $as_of, INTERVAL 1 DAY))::DATE AS day) d
        LEFT JOIN (SELECT {_day_of(table, column, "value", business_tz)} AS day, count(*) AS rows
                   FROM ({landed}) WHERE NOT {_before_day(table, column, "$first_day", business_tz, "value")}
                   AND {_before_day(table, column, "$as_of + 1", business_tz, "value")}
                   GROUP BY ALL) c USING (day)
        """
        for table, column in config.event_time.items()
        if (landed := _landed_values_sql(con, table, column)) is not None
    ]
    columns = ["table_name", "day", "rows", "baseline_rows", "ratio"]
    if not parts:
        return pd.DataFrame(columns=columns)
    return fetch_frame(
        con,
        f"""
        WITH per_day AS ({" UNION ALL ".join(parts)}),
        baseline AS (
            SELECT table_name, median(rows)::DOUBLE AS baseline_rows FROM per_day
            WHERE day < $first_recent GROUP BY ALL
        )
        SELECT table_name, day, rows, baseline_rows, rows / baseline_rows AS ratio
        FROM per_day JOIN baseline USING (table_name)
        WHERE day >= $first_recent AND baseline_rows >= $min_baseline_rows
        ORDER BY table_name, day
        """,
        {"first_day": first_day, "as_of": as_of, "first_recent": first_recent,
         "min_baseline_rows": volume["min_baseline_rows"]},
    )[columns]


def freshness(
    con: duckdb.DuckDBPyConnection, config: QualityConfig, as_of: date, business_tz: str
) -> pd.DataFrame:
    """Per table with a freshness limit and landed rows: its last day on or before as_of, days since."""
    rows = []
    for table, max_days in config.freshness_max_days.items():
        column = config.event_time[table]
        landed = _landed_values_sql(con, table, column)
        if landed is None:
            continue
        [(last_day,)] = con.execute(
            f"SELECT {_day_of(table, column, 'max(value)', business_tz)} FROM ({landed}) "
            f"WHERE {_before_day(table, column, '$as_of + 1', business_tz, 'value')}",
            {"as_of": as_of},
        ).fetchall()
        if last_day is not None:
            rows.append((table, last_day, (as_of - last_day).days, max_days))
    return pd.DataFrame(rows, columns=["table_name", "last_day", "days_since_last_row", "max_days"])


def null_rate_shifts(con: duckdb.DuckDBPyConnection, config: QualityConfig) -> pd.DataFrame:
    """Per key column: null share of pending rows against that of accepted rows."""
    settings = config.null_rate
    rows = []
    for table, columns in settings["columns"].items():
        for column in columns:
            shares = _null_shares(con, table, column)
            if shares is None or shares[1] < settings["min_rows"]:
                continue
            accepted_share, _, pending_share = shares
            rows.append(
                (
                    table,
                    column,
                    accepted_share,
                    pending_share,
                    pending_share - accepted_share,
                    float(settings["max_increase"]),
                )
            )
    return pd.DataFrame(
        rows,
        columns=[
            "table_name",
            "column_name",
            "accepted_null_rate",
            "pending_null_rate",
            "null_rate_increase",
            "max_increase",
        ],
    )


def distribution_shifts(con: duckdb.DuckDBPyConnection, config: QualityConfig) -> pd.DataFrame:
    """Per key column: Kolmogorov-Smirnov statistic (numbers) or total variation distance (categories)
    between the pending and the accepted values, each side a random sample of at most SAMPLE_ROWS."""
    settings = config.distribution
    rows = []
    kinds = (("numeric", settings["max_ks"], KS), ("categorical", settings["max_tvd"], TVD))
    for kind, limit, statistic in kinds:
        for table, columns in settings[kind].items():
            for column in columns:
                samples = _accepted_and_pending_samples(con, table, column)
                if samples is None:
                    continue
                [(shift, accepted_rows, pending_rows)] = con.execute(
                    distribution_shift_sql(statistic, *samples)
                ).fetchall()
                if min(accepted_rows or 0, pending_rows or 0) < settings["min_rows"]:
                    continue
                rows.append((table, column, statistic, float(shift), float(limit)))
    return pd.DataFrame(rows, columns=["table_name", "column_name", "statistic", "shift", "max_shift"])


def distribution_shift_sql(statistic: str, sample_a: str, sample_b: str) -> str:
    """One row: the statistic (KS or TVD) between the non-null `value`s of two queries, and their counts.

    KS: the largest gap between the two empirical distribution functions, taken at every value either
    side holds. TVD: half the sum of the absolute differences of the value shares.
    """
    per_value = f"""
        SELECT value, count(*) FILTER (WHERE side = 'a') AS in_a, count(*) FILTER (WHERE side = 'b') AS in_b
        FROM (SELECT value, 'a' AS side FROM ({sample_a}) UNION ALL SELECT value, 'b' FROM ({sample_b}))
        WHERE value IS NOT NULL GROUP BY ALL"""
    if statistic == KS:  # the gap at each value (a window), then the largest
        shift = """SELECT coalesce(max(gap), 0), any_value(rows_a), any_value(rows_b) FROM (
            SELECT abs(sum(in_a) OVER w / rows_a - sum(in_b) OVER w / rows_b) AS gap, rows_a, rows_b
            FROM per_value, totals WINDOW w AS (ORDER BY value))"""
    else:
        shift = """SELECT coalesce(sum(abs(in_a / rows_a - in_b / rows_b)) / 2, 0), any_value(rows_a),
            any_value(rows_b) FROM per_value, totals"""
    return (f"WITH per_value AS ({per_value}), "
            f"totals AS (SELECT sum(in_a) AS rows_a, sum(in_b) AS rows_b FROM per_value) {shift}")


def _is_timestamp(table: str, column: str) -> bool:
    return load_contract().table(table).column(column).type == "timestamp"


def _day_of(table: str, column: str, value_sql: str, business_tz: str) -> str:
    """SQL for the business day of `value_sql`, a value of the table's event-time column."""
    return business_day_sql(value_sql, business_tz) if _is_timestamp(table, column) else value_sql


def _day_start(table: str, column: str, day_sql: str, business_tz: str) -> str:
    """SQL for the smallest event-time value on the business day `day_sql`: the instant it begins for a
    timestamp column (business_day_start_sql), the day itself for a date column."""
    return business_day_start_sql(day_sql, business_tz) if _is_timestamp(table, column) else day_sql


def _before_day(table: str, column: str, day_sql: str, business_tz: str, value_sql: str) -> str:
    """SQL: the event time `value_sql` falls on a business day before `day_sql` (compared as values, so a
    filter converts no row to its day)."""
    return f"{value_sql} < {_day_start(table, column, day_sql, business_tz)}"


def _landed_values_sql(con: duckdb.DuckDBPyConnection, table: str, column: str) -> str | None:
    """The event-time `value` of every landed row of the table, or None when nothing has landed."""
    value = f"p.{identifier(column)}"
    sources = (
        [f"SELECT {value} AS value FROM {relation_name(RAW_SCHEMA, table)} p"]
        if relation_exists(con, RAW_SCHEMA, table)
        else []
    )
    if relation_exists(con, PENDING_SCHEMA, table):
        sources.append(
            f"SELECT {value} AS value FROM {relation_name(PENDING_SCHEMA, table)} p "
            f"JOIN audit.load_manifest m ON m.file_id = p._file_id WHERE {_PENDING_FILES}"
        )
    return " UNION ALL ".join(sources) or None


def _null_shares(con: duckdb.DuckDBPyConnection, table: str, column: str) -> tuple[float, int, float] | None:
    """(accepted null share, pending rows, pending null share), or None without accepted rows."""
    if not (relation_exists(con, RAW_SCHEMA, table) and relation_exists(con, PENDING_SCHEMA, table)):
        return None
    value = f"p.{identifier(column)}"
    [(accepted_rows, accepted_share)] = con.execute(
        f"SELECT count(*), avg(({value} IS NULL)::INT) FROM {relation_name(RAW_SCHEMA, table)} p"
    ).fetchall()
    [(pending_rows, pending_share)] = con.execute(
        f"SELECT count(*), avg(({value} IS NULL)::INT) FROM {relation_name(PENDING_SCHEMA, table)} p "
        f"JOIN audit.load_manifest m ON m.file_id = p._file_id WHERE {_PENDING_FILES}"
    ).fetchall()
    if not accepted_rows or not pending_rows:
        return None
    return float(accepted_share), int(pending_rows), float(pending_share)


def _accepted_and_pending_samples(
    con: duckdb.DuckDBPyConnection, table: str, column: str
) -> tuple[str, str] | None:
    """Queries of the non-null `value`s of accepted and of pending rows, each a random sample of at most
    SAMPLE_ROWS; None unless both relations exist."""
    if not (relation_exists(con, RAW_SCHEMA, table) and relation_exists(con, PENDING_SCHEMA, table)):
        return None
    value = f"p.{identifier(column)}"
    accepted = f"SELECT {value} AS value FROM {relation_name(RAW_SCHEMA, table)} p WHERE {value} IS NOT NULL"
    pending = (
        f"SELECT {value} AS value FROM {relation_name(PENDING_SCHEMA, table)} p JOIN audit.load_manifest m "
        f"ON m.file_id = p._file_id WHERE {_PENDING_FILES} AND {value} IS NOT NULL"
    )
    sample = f"USING SAMPLE reservoir({SAMPLE_ROWS} ROWS) REPEATABLE (42)"
    return f"SELECT value FROM ({accepted}) {sample}", f"SELECT value FROM ({pending}) {sample}"
