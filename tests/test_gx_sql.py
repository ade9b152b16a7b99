"""Great Expectations runs its metrics as queries in the warehouse (ecom.quality.gx_sql)."""

from __future__ import annotations

import duckdb
import great_expectations as gx
import sqlalchemy as sa
from great_expectations.core.expectation_suite import ExpectationSuite

from ecom.config import Settings
from ecom.quality.gx_sql import connection_string
from ecom.quality.validate import GateValidator

ROWS = 1000  # ids 0..999; every 7th c is null, every 10th d is 'x'


def build_table(settings: Settings) -> duckdb.DuckDBPyConnection:
    database = settings.warehouse_db
    con = duckdb.connect(str(database), config=settings.duckdb_config(database))
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
    with engine.connect() as connection:
        result = connection.execute(sa.text("select count(*), count(c) from t"))
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
