"""Reading the working warehouse for the gates: DuckDB → Arrow → pandas, and small existence/count queries."""

from __future__ import annotations

import duckdb
import pandas as pd


def fetch_frame(
    con: duckdb.DuckDBPyConnection, sql: str, parameters: list | dict | None = None
) -> pd.DataFrame:
    return con.sql(sql, params=parameters).to_arrow_table().to_pandas()


def count_rows(con: duckdb.DuckDBPyConnection, sql: str, parameters: list | dict | None = None) -> int:
    """The single count a `select count(*) ...` returns."""
    [(count,)] = con.execute(sql, parameters or []).fetchall()
    return int(count)
