"""An empty mart whose raw tables landed says why, from its own `meta.empty_reason` in the dbt project
(the real manifest: the reasons are declared once, next to the mart)."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from ecom.config import Settings
from ecom.dbt_manifest import manifest_path, mart_empty_reasons
from ecom.publish import publish

AS_OF = date(2026, 6, 30)


@pytest.fixture
def settings(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """A warehouse where customers and orders landed, 17 customers have a BTYD summary, the portrait
    history holds one as-of date, and the CLV parameters and segment transitions are empty."""
    monkeypatch.delenv("ECOM_DBT_PROJECT_DIR", raising=False)
    with duckdb.connect(str(settings.warehouse_db)) as con:
        con.execute("""
            CREATE SCHEMA raw; CREATE SCHEMA intermediate; CREATE SCHEMA marts;
            CREATE TABLE raw.customers (customer_id VARCHAR); CREATE TABLE raw.orders (order_id VARCHAR);
            CREATE TABLE intermediate.int_customer_btyd_summarized AS
                SELECT lpad(range::VARCHAR, 6, '0') AS customer_id, 0 AS frequency FROM range(17);
            CREATE TABLE marts.user_portrait_history AS
                SELECT DATE '2026-06-30' AS as_of_date, customer_id
                FROM intermediate.int_customer_btyd_summarized;
            CREATE TABLE marts.clv_model_params (model VARCHAR, parameter VARCHAR, value DOUBLE);
            CREATE TABLE marts.segment_transitions (dimension VARCHAR, customers BIGINT);
        """)
    return settings


def notes(settings: Settings, run_id: str) -> dict[str, str | None]:
    with duckdb.connect(str(settings.serving_db), read_only=True) as con:
        sql = "SELECT mart, note FROM meta.publish_log WHERE run_id = ?"
        return dict(con.execute(sql, [run_id]).fetchall())


def test_empty_marts_name_their_reason(settings: Settings) -> None:
    assert set(mart_empty_reasons(manifest_path())) >= {"clv_model_params", "segment_transitions"}

    publish(settings, "run-1", AS_OF)

    assert notes(settings, "run-1") == {
        "clv_model_params": "empty: 17 customers, fewer than clv_min_customers = 20: too few to fit",
        "segment_transitions":
            "empty: needs runs on two as-of dates; user_portrait_history holds 1 (2026-06-30)",
        "user_portrait_history": None,
    }


def test_a_declared_reason_that_does_not_apply_leaves_the_general_note(settings: Settings) -> None:
    with duckdb.connect(str(settings.warehouse_db)) as con:
        con.execute("INSERT INTO intermediate.int_customer_btyd_summarized "
                    "SELECT 'x' || range, 1 FROM range(30)")
        con.execute("INSERT INTO marts.user_portrait_history VALUES ('2026-07-01', '000001')")

    publish(settings, "run-2", AS_OF)

    general = "empty: its raw tables (customers, orders) have landed, but no rows qualify"
    assert notes(settings, "run-2")["segment_transitions"] == general
    assert notes(settings, "run-2")["clv_model_params"] == (
        "empty: its raw tables (orders) have landed, but no rows qualify")
