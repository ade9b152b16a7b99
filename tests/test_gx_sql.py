"""Great Expectations runs its metrics as queries in the warehouse (ecom.quality.gx_sql)."""

from __future__ import annotations

import subprocess
import sys

import duckdb
import great_expectations as gx
import pytest
import sqlalchemy as sa
from great_expectations.core.expectation_suite import ExpectationSuite

from ecom.config import Settings
from ecom.quality import gx_sql
from ecom.quality.gx_sql import connection_string
from ecom.quality.validate import GateValidator
from ecom.warehouse import duckdb_config

ROWS = 1000  # ids 0..999; every 7th c is null, every 10th d is 'x'


def build_table(settings: Settings) -> duckdb.DuckDBPyConnection:
    database = settings.warehouse_db
    con = duckdb.connect(str(database), config=duckdb_config(settings, database))
    con.execute(
        f"""create table t as select
              'f' || (range // 500) as file, range % 500 + 2 as line,
              case when range % 7 = 0 then null else 'a' end as c,
              case when range % 10 = 0 then 'x' else 'y' end as d
            from range({ROWS})"""
    )
    return con


def test_the_dialect_returns_rows_after_the_connection_is_given_back(settings: Settings):
    build_table(settings).close()
    engine = sa.create_engine(connection_string(settings.warehouse_db))
    table = sa.table("t", sa.column("c"))
    with engine.connect() as connection:  # GX's metric queries are SQLAlchemy constructs like this one
        result = connection.execute(sa.select(sa.func.count(), sa.func.count(table.c.c)).select_from(table))
    # Plain duckdb-engine gives [] here: returning the connection rolls back its unfetched result.
    assert result.fetchall() == [(ROWS, ROWS - len(range(0, ROWS, 7)))]
    engine.dispose()


def test_a_suite_runs_in_the_database_the_gate_holds_open(settings: Settings):
    con = build_table(settings)  # held open, as a gate holds the warehouse
    suite = ExpectationSuite(
        name="t.rows",
        expectations=[
            gx.expectations.ExpectColumnValuesToNotBeNull(column="c"),
            gx.expectations.ExpectColumnValuesToBeInSet(column="d", value_set=["y"]),
            gx.expectations.ExpectColumnValuesToNotBeNull(column="line"),
        ],
    )
    with GateValidator(settings, "raw", "run-1") as validator:
        result = validator.validate_query(suite, "select * from t", ["file", "line"])
    by_column = {r.expectation_config.kwargs["column"]: r for r in result.results}
    assert not result.success
    nulls, outside, lines = by_column["c"], by_column["d"], by_column["line"]
    assert nulls.result["element_count"] == ROWS
    assert nulls.result["unexpected_count"] == 143  # 0, 7, ..., 994
    assert nulls.result["partial_unexpected_index_list"][:2] == [
        {"file": "f0", "line": 2, "c": None},
        {"file": "f0", "line": 9, "c": None},
    ]
    assert outside.result["unexpected_count"] == 100
    assert lines.success and lines.result["unexpected_count"] == 0
    # The result is stored for Data Docs like a frame's; the warehouse is free again afterwards.
    assert len(validator.stored_result_ids()) == 1
    con.close()
    duckdb.connect(str(settings.warehouse_db), config={"memory_limit": "1GB"}).close()


def test_the_rows_of_a_query_asset_are_not_fetched_to_learn_its_columns(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
):
    """GX runs a query asset's own text to read its column names; buffering that result fetched the whole
    batch into Python. Only metric results (aggregates, row listings cut by GX) may be buffered."""
    buffered: list[int] = []

    class Recorded(gx_sql.FullyBufferedCursorFetchStrategy):
        def __init__(self, *args: object) -> None:
            super().__init__(*args)
            buffered.append(len(self._rowbuffer))

    monkeypatch.setattr(gx_sql, "FullyBufferedCursorFetchStrategy", Recorded)
    con = build_table(settings)
    not_null = gx.expectations.ExpectColumnValuesToNotBeNull(column="c")
    suite = ExpectationSuite(name="t.c", expectations=[not_null])
    with GateValidator(settings, "raw", "run-1") as validator:
        result = validator.evaluate_query(suite, "select * from t", ["file", "line"])
    con.close()
    assert result.results[0].result["unexpected_count"] == 143
    assert buffered and max(buffered) == 143 < ROWS  # the listing of offending rows, never all rows


def test_a_process_using_gx_and_duckdb_engine_exits_without_leak_reports():
    """nanobind reports DuckDB type objects still alive at exit, ~100 lines after `ecom run`'s output."""
    done = subprocess.run(
        [sys.executable, "-c", "import duckdb_engine, great_expectations; import ecom.quality.gx_sql"],
        capture_output=True, text=True, check=True,
    )
    assert "nanobind" not in done.stderr
