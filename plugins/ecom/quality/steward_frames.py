"""Frames of the steward checks the raw gate adds to its suites (see steward_checks.py).

Every frame has `table_name` and, where a check is about one file, `file_path`; the checked value and
its limit sit side by side so the stored result shows both. Days are business days (time zone
`business_tz`); "landed" rows are the accepted rows plus those of files awaiting acceptance.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from statistics import median

import duckdb
import numpy as np
import pandas as pd

from ecom.contract import Contract, load_contract
from ecom.ingest.warehouse import PENDING_SCHEMA, RAW_SCHEMA, business_day_sql, relation_name
from ecom.quality.config import QualityConfig
from ecom.quality.quarantine import PARTITION_DAY_PATTERN
from ecom.quality.reads import fetch_frame
from ecom.sql import identifier, relation_exists
from ecom.vocabulary import unmapped_values as unmapped_vocabulary_values

PARTITION_DAY = re.compile(PARTITION_DAY_PATTERN)
_PENDING_FILES = "m.status = 'pending'"
# Values compared per side in a distribution check: bounds memory, and the statistics' sampling error
# (about 1/sqrt(n)) stays far under their limits.
SAMPLE_ROWS = 100_000


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
    """One row per file awaiting acceptance: rows read and its columns."""
    return fetch_frame(
        con,
        "SELECT table_name, path AS file_path, rows_read, columns_present FROM audit.load_manifest m "
        f"WHERE {_PENDING_FILES} ORDER BY table_name, path",
    )


def unmapped_values(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Per vocabulary column and value of the pending rows that the vocabulary seed does not map: rows."""
    unmapped = unmapped_vocabulary_values(con, PENDING_SCHEMA)
    rows = [(u.table_name, u.column_name, u.value, u.row_count) for u in unmapped]
    return pd.DataFrame(rows, columns=["table_name", "column_name", "value", "row_count"])


def schema_changes(con: duckdb.DuckDBPyConnection, contract: Contract) -> pd.DataFrame:
    """Per pending file: columns added and removed against its table's last accepted file.

    Before any file of the table was accepted, only columns outside the contract count (added): a file
    may lack the contract's optional columns.
    """
    accepted = dict(
        con.execute(
            "SELECT table_name, arg_max(columns_present, accepted_at) FROM audit.load_manifest "
            "WHERE status = 'accepted' GROUP BY ALL"
        ).fetchall()
    )
    rows = []
    for file in pending_files(con).itertuples():
        if file.table_name not in contract.tables or not file.columns_present.size:
            continue  # an empty file: the file_schema and no-rows checks report it
        last_accepted = list(accepted.get(file.table_name) or [])
        reference = last_accepted or contract.table(file.table_name).column_names
        present = list(file.columns_present)
        added = [c for c in present if c not in reference]
        removed = [c for c in last_accepted if c not in present]
        rows.append(
            (
                file.table_name,
                file.file_path,
                ", ".join(added),
                ", ".join(removed),
                bool(added or removed),
                "last accepted file" if file.table_name in accepted else "contract",
            )
        )
    return pd.DataFrame(
        rows,
        columns=[
            "table_name",
            "file_path",
            "added_columns",
            "removed_columns",
            "schema_changed",
            "compared_with",
        ],
    )


def late_rows(con: duckdb.DuckDBPyConnection, config: QualityConfig, business_tz: str) -> pd.DataFrame:
    """Per pending file in a dt=YYYY-MM-DD partition: rows whose day is over max_days_late before it."""
    rows = []
    for file in pending_files(con).itertuples():
        column = config.event_time.get(file.table_name)
        match = PARTITION_DAY.search(file.file_path)
        if column is None or match is None or not relation_exists(con, PENDING_SCHEMA, file.table_name):
            continue
        partition = date.fromisoformat(match.group(1))
        day = _day_sql(file.table_name, column, business_tz)
        [(late, oldest)] = con.execute(
            f"SELECT count(*) FILTER (WHERE {day} < ?), min({day}) "
            f"FROM {relation_name(PENDING_SCHEMA, file.table_name)} p JOIN audit.load_manifest m "
            "ON m.file_id = p._file_id WHERE m.path = ? AND m.status = 'pending'",
            [partition - timedelta(days=config.max_days_late), file.file_path],
        ).fetchall()
        rows.append((file.table_name, file.file_path, partition, oldest, int(late)))
    return pd.DataFrame(rows, columns=["table_name", "file_path", "partition_day", "oldest_day", "late_rows"])


def daily_volume(
    con: duckdb.DuckDBPyConnection, config: QualityConfig, as_of: date, business_tz: str
) -> pd.DataFrame:
    """Rows per day of the recent window against the median day of the trailing window before it.

    Tables whose median is under min_baseline_rows are left out (too few rows to judge).
    """
    volume = config.volume
    recent, trailing = int(volume["recent_days"]), int(volume["trailing_days"])
    first_day = as_of - timedelta(days=recent + trailing - 1)
    rows = []
    for table, column in config.event_time.items():
        landed = _landed_days_sql(con, table, column, business_tz)
        if landed is None:
            continue
        counts = dict(
            con.execute(
                f"SELECT day, count(*) FROM ({landed}) WHERE day BETWEEN ? AND ? GROUP BY ALL",
                [first_day, as_of],
            ).fetchall()
        )
        days = [first_day + timedelta(days=i) for i in range(recent + trailing)]
        baseline = median(counts.get(day, 0) for day in days[:trailing])
        if baseline < volume["min_baseline_rows"]:
            continue
        rows += [
            (table, day, counts.get(day, 0), float(baseline), counts.get(day, 0) / baseline)
            for day in days[trailing:]
        ]
    return pd.DataFrame(rows, columns=["table_name", "day", "rows", "baseline_rows", "ratio"])


def freshness(
    con: duckdb.DuckDBPyConnection, config: QualityConfig, as_of: date, business_tz: str
) -> pd.DataFrame:
    """Per table with a freshness limit and landed rows: its last day on or before as_of, days since."""
    rows = []
    for table, max_days in config.freshness_max_days.items():
        landed = _landed_days_sql(con, table, config.event_time[table], business_tz)
        if landed is None:
            continue
        [(last_day,)] = con.execute(f"SELECT max(day) FROM ({landed}) WHERE day <= ?", [as_of]).fetchall()
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
    between the pending and the accepted values."""
    settings = config.distribution
    rows = []
    for kind, limit, statistic in (
        ("numeric", settings["max_ks"], ks_statistic),
        ("categorical", settings["max_tvd"], total_variation_distance),
    ):
        for table, columns in settings[kind].items():
            for column in columns:
                values = _accepted_and_pending(con, table, column)
                if values is None or min(len(v) for v in values) < settings["min_rows"]:
                    continue
                rows.append(
                    (table, column, "ks" if kind == "numeric" else "tvd", statistic(*values), float(limit))
                )
    return pd.DataFrame(rows, columns=["table_name", "column_name", "statistic", "shift", "max_shift"])


def ks_statistic(sample_a: np.ndarray, sample_b: np.ndarray) -> float:
    """Two-sample Kolmogorov-Smirnov statistic: the largest gap between the two empirical CDFs."""
    a, b = np.sort(sample_a.astype(float)), np.sort(sample_b.astype(float))
    points = np.concatenate([a, b])
    gaps = np.searchsorted(a, points, side="right") / len(a) - np.searchsorted(b, points, side="right") / len(
        b
    )
    return float(np.max(np.abs(gaps)))


def total_variation_distance(sample_a: np.ndarray, sample_b: np.ndarray) -> float:
    """Half the sum of absolute differences of the value shares (None counts as a value)."""
    shares_a = pd.Series(sample_a).value_counts(normalize=True, dropna=False)
    shares_b = pd.Series(sample_b).value_counts(normalize=True, dropna=False)
    both = shares_a.to_frame("a").join(shares_b.to_frame("b"), how="outer").fillna(0.0)
    return float((both["a"] - both["b"]).abs().sum() / 2)


def _day_sql(table: str, column: str, business_tz: str, alias: str = "p") -> str:
    """SQL for the business day of a row (of relation `alias`) by its event-time column."""
    column_type = load_contract().table(table).column(column).type
    value = f"{alias}.{identifier(column)}"
    return business_day_sql(value, business_tz) if column_type == "timestamp" else value


def _landed_days_sql(con: duckdb.DuckDBPyConnection, table: str, column: str, business_tz: str) -> str | None:
    day = _day_sql(table, column, business_tz)
    sources = (
        [f"SELECT {day} AS day FROM {relation_name(RAW_SCHEMA, table)} p"]
        if relation_exists(con, RAW_SCHEMA, table)
        else []
    )
    if relation_exists(con, PENDING_SCHEMA, table):
        sources.append(
            f"SELECT {day} AS day FROM {relation_name(PENDING_SCHEMA, table)} p "
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


def _accepted_and_pending(
    con: duckdb.DuckDBPyConnection, table: str, column: str
) -> tuple[np.ndarray, np.ndarray] | None:
    """Non-null values of accepted and of pending rows, each a random sample of at most SAMPLE_ROWS."""
    if not (relation_exists(con, RAW_SCHEMA, table) and relation_exists(con, PENDING_SCHEMA, table)):
        return None
    value = f"p.{identifier(column)}"
    accepted = f"SELECT {value} AS value FROM {relation_name(RAW_SCHEMA, table)} p WHERE {value} IS NOT NULL"
    pending = (
        f"SELECT {value} AS value FROM {relation_name(PENDING_SCHEMA, table)} p JOIN audit.load_manifest m "
        f"ON m.file_id = p._file_id WHERE {_PENDING_FILES} AND {value} IS NOT NULL"
    )
    sampled = [
        con.execute(
            f"SELECT value FROM ({rows}) USING SAMPLE reservoir({SAMPLE_ROWS} ROWS) REPEATABLE (42)"
        ).fetchnumpy()["value"]
        for rows in (accepted, pending)
    ]
    return np.asarray(sampled[0]), np.asarray(sampled[1])
