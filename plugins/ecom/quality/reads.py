"""Reading the working warehouse for the gates: DuckDB → Arrow → pandas, and small existence/count queries."""

from __future__ import annotations

import duckdb
import pandas as pd


def relation_exists(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    sql = "select count(*) from information_schema.tables where table_schema = ? and table_name = ?"
    return count_rows(con, sql, [schema, name]) > 0


def fetch_frame(
    con: duckdb.DuckDBPyConnection, sql: str, parameters: list | dict | None = None
) -> pd.DataFrame:
    return con.sql(sql, params=parameters).to_arrow_table().to_pandas()


def count_rows(con: duckdb.DuckDBPyConnection, sql: str, parameters: list | None = None) -> int:
    """The single count a `select count(*) ...` returns."""
    [(count,)] = con.execute(sql, parameters or []).fetchall()
    return int(count)
