"""The whole DAG through Airflow (`ecom run`) on generated data, checked against an independent computation.

Scenarios share one landing folder and warehouse and run in order (each fixture builds on the last):
first run → second run on the same files (nothing new: nothing rebuilt) → a broken file lands. A
separate landing holding only the required tables first runs a dbt project with one failing model
(its task fails, what depends on it does not run, nothing is published), then the real project: the
rerun publishes, and marts needing a missing table are published empty, with the reason.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import independent_marts as expected
import pandas as pd
import pytest

from ecom.config import DBT_PROJECT_DIR
from ecom.dbt_manifest import GENERATED_DIRS, PROJECT_DIR_ENV
from ecom.generate import generate_shop

pytestmark = pytest.mark.e2e

ECOM = str(Path(sys.executable).with_name("ecom"))
PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
ID_NUMBER = re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)")
MANIFEST_ROWS = "select file_id, rows_loaded from audit.load_manifest order by 1"


@dataclass
class Run:
    returncode: int
    output: str


def ecom_run(landing: Path, warehouse: Path, dbt_project: Path | None = None) -> Run:
    env = {**os.environ, PROJECT_DIR_ENV: str(dbt_project)} if dbt_project else None
    done = subprocess.run(
        [ECOM, "run", "--landing", str(landing), "--warehouse", str(warehouse)],
        capture_output=True, text=True, timeout=900, env=env,
    )
    return Run(done.returncode, done.stdout + done.stderr)


def task_states(warehouse: Path) -> dict[str, str]:
    """Task id → state of the latest DAG run, as Airflow recorded it (`ecom run`'s metadata db)."""
    with sqlite3.connect(warehouse / "airflow" / "airflow.db") as con:
        return dict(con.execute(
            "SELECT task_id, state FROM task_instance WHERE run_id = "
            "(SELECT run_id FROM dag_run ORDER BY start_date DESC LIMIT 1)").fetchall())


def serving(warehouse: Path, sql: str) -> pd.DataFrame:
    """Rows from the published marts, DATE columns as datetime.date (pandas would make them datetimes)."""
    with duckdb.connect(str(warehouse / "serving.duckdb"), read_only=True) as con:
        relation = con.sql(sql)
        frame = relation.df()
        for column, column_type in zip(relation.columns, relation.types, strict=True):
            if str(column_type) == "DATE":
                frame[column] = frame[column].dt.date
        return frame


def warehouse_query(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse / "warehouse.duckdb"), read_only=True) as con:
        return con.sql(sql).fetchall()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def shop(tmp_path_factory) -> Path:
    landing = tmp_path_factory.mktemp("landing")
    generate_shop(out=landing, customers=200, days=120, seed=11, fmt="csv", end_date=date(2026, 6, 30))
    return landing


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("warehouse")


@pytest.fixture(scope="module")
def first_run(shop: Path, warehouse: Path) -> Run:
    return ecom_run(shop, warehouse)


@pytest.fixture(scope="module")
def as_of(shop: Path) -> date:
    return expected.last_order_day(shop)


@pytest.fixture(scope="module")
def orders(shop: Path, as_of: date) -> pd.DataFrame:
    return expected.valid_orders(shop, as_of)


def test_first_run_publishes_the_marts(first_run: Run, warehouse: Path) -> None:
    assert first_run.returncode == 0, first_run.output
    tables = serving(warehouse, "select table_name from information_schema.tables "
                                "where table_schema = 'marts'")
    assert {"user_portrait", "cohort_retention", "attribution_channel", "cohort_repeat_purchase",
            "retention_daily", "growth_accounting"} <= set(tables["table_name"])
    assert str(warehouse / "serving.duckdb") in first_run.output
    assert str(warehouse / "reports" / "run_report.html") in first_run.output


def test_user_portrait_matches_an_independent_computation(
    first_run: Run, warehouse: Path, orders: pd.DataFrame, as_of: date
) -> None:
    want = expected.user_portrait(orders, as_of)
    columns = ", ".join(want.columns)
    got = serving(warehouse, f"select {columns} from marts.user_portrait order by customer_id")
    got["total_revenue"] = got["total_revenue"].astype(float)
    got["monetary_value"] = got["monetary_value"].astype(float)
    assert len(got) == len(want) > 100
    pd.testing.assert_frame_equal(got, want, check_dtype=False)
    assert got["customer_id"].str.len().eq(got["customer_id"].str.len().iloc[0]).all()  # zero-padded ids kept


def test_rfm_scores_and_segments_are_filled(first_run: Run, warehouse: Path) -> None:
    portrait = serving(warehouse, "select r_score, f_score, m_score, rfm_segment, lifecycle_stage "
                                  "from marts.user_portrait")
    for score in ("r_score", "f_score", "m_score"):
        assert portrait[score].between(1, 5).all()
        assert portrait[score].nunique() >= 3
    assert portrait["rfm_segment"].notna().all()
    assert portrait["lifecycle_stage"].notna().all()


PORTRAIT_TAG_GROUPS = [
    "basic", "consumption", "credit", "engagement", "preference", "reviews", "social", "value",
]


def test_every_portrait_tag_group_is_filled_and_clv_is_fitted(first_run: Run, warehouse: Path) -> None:
    groups = serving(warehouse, "select tag_group, count(distinct customer_id) as customers "
                                "from marts.user_tags group by 1 order by 1")
    assert groups["tag_group"].tolist() == PORTRAIT_TAG_GROUPS
    portrait_size = len(serving(warehouse, "select customer_id from marts.user_portrait"))
    assert (groups["customers"] == portrait_size).all()  # each group has at least one tag per customer
    params = serving(warehouse, "select model, parameter, value, converged from marts.clv_model_params")
    assert sorted(zip(params["model"], params["parameter"], strict=True)) == sorted(
        [("bg_nbd", p) for p in ("r", "alpha", "a", "b")] + [("gamma_gamma", p) for p in ("p", "q", "v")]
    )
    assert params["converged"].all() and (params["value"] > 0).all()
    risk = serving(warehouse, "select count(*) as n from marts.user_portrait where churn_risk is null")
    assert risk["n"].iloc[0] == 0
    summary = serving(warehouse, "select dimension, sum(customers) as customers from marts.segment_summary "
                                 "group by 1")
    assert (summary["customers"] == portrait_size).all()
    report = (warehouse / "reports" / "run_report.html").read_text(encoding="utf-8")
    assert "User portrait" in report and 'alt="lifecycle funnel"' in report


@pytest.mark.parametrize(("grain", "dimension"), [
    (expected.MONTH, "all"), (expected.WEEK, "all"),
    (expected.MONTH, "acquisition_channel"), (expected.WEEK, "first_order_coupon"),
])
def test_cohort_retention_matches_an_independent_computation(
    first_run: Run, warehouse: Path, shop: Path, orders: pd.DataFrame, as_of: date,
    grain: expected.Grain, dimension: str,
) -> None:
    want = expected.cohort_retention(orders, expected.customer_cuts(shop, orders), as_of, grain, dimension)
    got = serving(warehouse, f"select {', '.join(want.columns)} from marts.cohort_retention "
                             f"where cohort_grain = '{grain.name}' and cohort_dimension = '{dimension}' "
                             "order by cohort_value, cohort_start, period_index")
    got["revenue"] = got["revenue"].astype(float)
    assert want["cohort_value"].nunique() >= (1 if dimension == "all" else 2)
    pd.testing.assert_frame_equal(got, want, check_dtype=False, atol=1e-9)
    assert (got.loc[got["period_index"] == 0, "retention_rate"] == 1.0).all()


def test_growth_accounting_matches_an_independent_computation(
    first_run: Run, warehouse: Path, orders: pd.DataFrame, as_of: date
) -> None:
    want = expected.growth_accounting(orders, as_of)
    got = serving(warehouse, f"select {', '.join(want.columns)} from marts.growth_accounting "
                             "order by activity_month")
    assert len(want) >= 4
    pd.testing.assert_frame_equal(got, want, check_dtype=False)


@pytest.mark.parametrize("grain", [expected.MONTH, expected.WEEK])
def test_repeat_purchase_matches_an_independent_computation(
    first_run: Run, warehouse: Path, orders: pd.DataFrame, as_of: date, grain: expected.Grain
) -> None:
    want = expected.repeat_purchase(orders, as_of, grain)
    got = serving(warehouse, f"select {', '.join(want.columns)} from marts.cohort_repeat_purchase "
                             f"where cohort_grain = '{grain.name}' and cohort_dimension = 'all' "
                             "order by cohort_start")
    assert want["repeat_customers_30d"].sum() > 0
    pd.testing.assert_frame_equal(got, want, check_dtype=False)


def test_retention_daily_matches_an_independent_computation(
    first_run: Run, warehouse: Path, shop: Path, orders: pd.DataFrame, as_of: date
) -> None:
    want = expected.retention_daily(shop, orders, as_of)
    got = serving(warehouse, f"select {', '.join(want.columns)} from marts.retention_daily "
                             "order by signup_date")
    assert want["day1_active_customers"].sum() > 0
    pd.testing.assert_frame_equal(got, want, check_dtype=False)
    sources = serving(warehouse, "select distinct activity_source from marts.retention_daily")
    assert list(sources["activity_source"]) == ["clickstream_and_orders"]


def test_attribution_matches_an_independent_computation(
    first_run: Run, warehouse: Path, shop: Path, orders: pd.DataFrame, as_of: date
) -> None:
    want = expected.attribution_by_channel(shop, orders, as_of)
    got = serving(warehouse, "select model, channel, conversions, revenue from marts.attribution_channel "
                             "where grain = 'channel' and model in ('first_touch', 'last_touch', 'linear') "
                             "and conversions > 0 order by model, channel")
    got["revenue"] = got["revenue"].astype(float)
    pd.testing.assert_frame_equal(got, want, check_dtype=False, atol=1e-6)
    assert want.loc[want["channel"] == "direct", "conversions"].iloc[0] < len(orders) / 2  # stitched
    totals = got.groupby("model")[["conversions", "revenue"]].sum()
    assert totals["conversions"].round(6).eq(len(orders)).all()
    assert (totals["revenue"] - orders["amount"].sum()).abs().lt(0.01).all()


def test_roas_is_revenue_over_spend(first_run: Run, warehouse: Path) -> None:
    rows = serving(warehouse, "select revenue, spend, roas from marts.attribution_channel where spend > 0")
    assert len(rows) > 0
    ratio = rows["revenue"].astype(float) / rows["spend"].astype(float)
    assert (ratio - rows["roas"].astype(float)).abs().lt(1e-6).all()


def test_no_personal_data_reaches_serving(first_run: Run, shop: Path, warehouse: Path) -> None:
    landed_personal = set()
    for table, columns in {"customers": ["name", "phone", "email", "address"],
                           "orders": ["shipping_address"]}.items():
        frame = expected.read_landed(shop, table)
        for column in columns:
            landed_personal |= {value for value in frame[column] if value}
    assert len(landed_personal) > 500
    with duckdb.connect(str(warehouse / "serving.duckdb"), read_only=True) as con:
        tables = con.sql("select table_schema, table_name from information_schema.tables").fetchall()
        for schema, table in tables:
            frame = con.sql(f'select * from "{schema}"."{table}"').df()
            assert not {"name", "phone", "email", "address", "shipping_address"} & set(frame.columns)
            for column in frame.select_dtypes(include=["object", "string"]).columns:
                values = set(frame[column].dropna().astype(str))
                assert not values & landed_personal, f"{schema}.{table}.{column} holds landed personal data"
                text = "\n".join(values)
                assert not PHONE.search(text), f"{schema}.{table}.{column} holds a phone number"
                assert not EMAIL.search(text), f"{schema}.{table}.{column} holds an e-mail address"
                assert not ID_NUMBER.search(text), f"{schema}.{table}.{column} holds an ID number"


def test_every_landed_row_is_accounted_for(first_run: Run, shop: Path, warehouse: Path) -> None:
    unbalanced = "select count(*) from audit.load_manifest where rows_read <> rows_loaded + rows_rejected"
    assert warehouse_query(warehouse, unbalanced) == [(0,)]
    landed = {table.name: sum(len(pd.read_csv(f, dtype=str)) for f in table.rglob("*.csv"))
              for table in shop.iterdir()}
    read = dict(warehouse_query(
        warehouse, "select table_name, sum(rows_read)::bigint from audit.load_manifest group by 1"
    ))
    assert read == landed
    raw_orders = warehouse_query(warehouse, "select count(*) from raw.orders")
    loaded_orders = warehouse_query(
        warehouse, "select sum(rows_loaded) from audit.load_manifest where table_name = 'orders'"
    )
    assert raw_orders == loaded_orders


@pytest.fixture(scope="module")
def second_run(first_run: Run, shop: Path, warehouse: Path) -> tuple[Run, list[tuple], str]:
    manifest_before = warehouse_query(warehouse, MANIFEST_ROWS)
    serving_before = sha256(warehouse / "serving.duckdb")
    return ecom_run(shop, warehouse), manifest_before, serving_before


def test_second_run_on_the_same_files_rebuilds_nothing(second_run, warehouse: Path) -> None:
    run, manifest_before, serving_before = second_run
    assert run.returncode == 0, run.output
    assert "nothing new since run manual__" in run.output
    assert warehouse_query(warehouse, MANIFEST_ROWS) == manifest_before
    assert warehouse_query(warehouse, "select count(*) - count(distinct order_id) from raw.orders") == [(0,)]
    assert sha256(warehouse / "serving.duckdb") == serving_before  # byte for byte
    runs = serving(warehouse, "select count(distinct run_id) as runs from meta.publish_log")
    assert runs["runs"].iloc[0] == 1
    states = task_states(warehouse)
    assert {task: state for task, state in states.items() if state != "skipped"} == {
        "ingest": "success", "anything_new": "success"}
    assert {"raw_quality_gate", "dbt.dbt_producer_watcher", "publish", "reports"} <= set(states)


@pytest.fixture(scope="module")
def broken_run(second_run, shop: Path, warehouse: Path) -> tuple[Run, str, str]:
    broken = shop / "orders" / "late" / "orders_no_amount.csv"
    broken.parent.mkdir(parents=True)
    broken.write_text(
        "order_id,customer_id,ordered_at,status\nX000001,000001,2026-06-29 10:00:00,paid\n", encoding="utf-8"
    )
    before = sha256(warehouse / "serving.duckdb")
    run = ecom_run(shop, warehouse)
    broken.unlink()
    return run, before, "orders/late/orders_no_amount.csv"


def test_file_missing_a_required_column_blocks_publishing(broken_run, warehouse: Path) -> None:
    run, serving_before, path = broken_run
    assert run.returncode != 0
    assert path in run.output
    assert "total_amount" in run.output
    assert sha256(warehouse / "serving.duckdb") == serving_before
    assert "run_report.html" in run.output


FAILING_MODEL = "int_customer_order_days"


@pytest.fixture(scope="module")
def required_only(shop: Path, tmp_path_factory) -> tuple[Path, Path]:
    landing = tmp_path_factory.mktemp("required_landing")
    for table in ("customers", "orders"):
        shutil.copytree(shop / table, landing / table)
    return landing, tmp_path_factory.mktemp("required_warehouse")


@pytest.fixture(scope="module")
def failed_model_run(required_only: tuple[Path, Path], tmp_path_factory) -> Run:
    """The dbt project with one model that fails when dbt builds it."""
    project = tmp_path_factory.mktemp("failing_project") / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns(*GENERATED_DIRS))
    model = project / "models" / "intermediate" / f"{FAILING_MODEL}.sql"
    assert model.is_file()
    model.write_text("select error('injected failure') as customer_id\n", encoding="utf-8")
    landing, warehouse = required_only
    return ecom_run(landing, warehouse, dbt_project=project)


def test_a_failed_model_fails_its_task_stops_what_depends_on_it_and_publishes_nothing(
    failed_model_run: Run, required_only: tuple[Path, Path]
) -> None:
    _, warehouse = required_only
    assert failed_model_run.returncode != 0
    assert f"task dbt.{FAILING_MODEL}.run failed" in failed_model_run.output
    states = task_states(warehouse)
    assert states[f"dbt.{FAILING_MODEL}.run"] == "failed"
    assert states[f"dbt.{FAILING_MODEL}.test"] == "upstream_failed"
    for downstream in ("int_customer_btyd", "growth_accounting", "cohort_retention", "user_portrait"):
        assert states[f"dbt.{downstream}.run"] == "upstream_failed", downstream
    for independent in ("stg_shop__orders", "int_orders", "int_attribution_conversions"):
        assert (states[f"dbt.{independent}.run"], states[f"dbt.{independent}.test"]) == ("success", "success")
    assert states["dbt.dbt_producer_watcher"] == "failed"  # the one dbt build, which ran every model
    assert (states["mart_quality_gate"], states["publish"], states["reports"]) == (
        "upstream_failed", "upstream_failed", "success")
    assert not (warehouse / "serving.duckdb").exists()


@pytest.fixture(scope="module")
def rerun(failed_model_run: Run, required_only: tuple[Path, Path]) -> Run:
    """The same landing and warehouse, run again with the project fixed."""
    landing, warehouse = required_only
    return ecom_run(landing, warehouse)


def test_only_required_tables_publish_empty_marts_with_the_reason(
    rerun: Run, required_only: tuple[Path, Path]
) -> None:
    run = rerun
    _, warehouse = required_only

    assert run.returncode == 0, run.output
    assert set(task_states(warehouse).values()) == {"success"}  # the rerun after the failure runs everything
    attribution = serving(warehouse, "select * from marts.attribution_channel")
    assert len(attribution) == 0
    assert list(attribution.columns)[:6] == ["grain", "model", "conversion_type", "channel", "campaign_id",
                                             "conversions"]
    assert len(serving(warehouse, "select * from marts.user_portrait")) > 100
    # without clickstream, day-based retention falls back to orders as the activity
    sources = serving(warehouse, "select distinct activity_source from marts.retention_daily")
    assert list(sources["activity_source"]) == ["orders"]
    notes = serving(warehouse, "select note from meta.publish_log where mart = 'attribution_channel'")
    assert notes["note"].iloc[0] == "empty: needs raw table touchpoints, which has not landed"
    assert "marts.attribution_channel" in run.output and "touchpoints, which has not landed" in run.output
