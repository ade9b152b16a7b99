"""The whole DAG through Airflow (`ecom run`) on generated data, checked against an independent computation.

Scenarios share one landing folder and warehouse and run in order (each fixture builds on the last):
first run → second run on the same files (nothing new: nothing rebuilt) → a broken file lands. A
separate landing holding only the required tables first runs a dbt project with one failing model
(its task fails, what depends on it does not run, nothing is published), then the real project: the
rerun publishes, and marts needing a missing table are published empty, with the reason.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import independent_marts as expected
import pandas as pd
import psycopg
import pytest

import client_envs
from ecom.config import DBT_PROJECT_DIR
from ecom.dbt_manifest import GENERATED_DIRS, PROJECT_DIR_ENV, manifest_path, mart_names
from ecom.generate import generate_shop
from postgres_server import PostgresServer

pytestmark = pytest.mark.e2e

ECOM = str(Path(sys.executable).with_name("ecom"))
PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
ID_NUMBER = re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)")
MANIFEST_ROWS = "select file_id, rows_loaded from audit.load_manifest order by 1"
SUPERSET_INSPECT = client_envs.PINS_DIR / "superset_inspect.py"


@dataclass
class Run:
    returncode: int
    output: str


def ecom_run(landing: Path, warehouse: Path, serving_url: str = "", dbt_project: Path | None = None) -> Run:
    env = {**os.environ, "ECOM_SERVING_URL": serving_url}
    if dbt_project:
        env[PROJECT_DIR_ENV] = str(dbt_project)
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
def serving_postgres(postgres_server: PostgresServer) -> str:
    """The PostgreSQL the shared warehouse's runs also publish to (ECOM_SERVING_URL)."""
    with psycopg.connect(postgres_server.url(), autocommit=True) as conn:
        conn.execute("CREATE DATABASE end_to_end")
    return postgres_server.url("end_to_end")


@pytest.fixture(scope="module")
def first_run(shop: Path, warehouse: Path, serving_postgres: str) -> Run:
    return ecom_run(shop, warehouse, serving_postgres)


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


def test_the_demo_runs_without_a_warning(first_run: Run, warehouse: Path) -> None:
    """The demo's data is correct as generated (repayments re-sent once paid included): every check of
    the gates and every dbt test passes."""
    assert first_run.returncode == 0, first_run.output
    assert warehouse_query(warehouse, "select count(*) > 0 from audit.validation_results") == [(True,)]
    assert warehouse_query(warehouse, """
        select gate, suite, expectation, column_name, message from audit.validation_results
        where not success order by all""") == []


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
    unbalanced = ("select count(*) from audit.load_manifest "
                  "where rows_read <> rows_loaded + rows_rejected + rows_waiting")
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


READ_EVERY_TABLE = """
import duckdb, json, sys
with duckdb.connect(sys.argv[1], read_only=True) as con:
    tables = con.execute("select table_schema, table_name from information_schema.tables order by all")
    print(json.dumps({"version": duckdb.__version__,
                      "rows": {f"{s}.{t}": len(con.execute(f'select * from "{s}"."{t}"').fetchall())
                               for s, t in tables.fetchall()}}))
"""


def published_rows(warehouse: Path) -> dict[str, list[tuple]]:
    """schema.table -> rows of every table in serving.duckdb, read with our DuckDB."""
    with duckdb.connect(str(warehouse / "serving.duckdb"), read_only=True) as con:
        tables = con.execute("select schema_name, table_name from duckdb_tables() order by all").fetchall()
        return {f"{s}.{t}": con.execute(f'select * from "{s}"."{t}"').fetchall() for s, t in tables}


def test_bi_clients_read_every_published_mart_and_its_descriptions(first_run: Run, warehouse: Path) -> None:
    assert first_run.returncode == 0, first_run.output
    tables = {table: len(rows) for table, rows in published_rows(warehouse).items()}
    marts = mart_names(manifest_path(DBT_PROJECT_DIR))
    assert set(tables) == {f"marts.{mart}" for mart in marts} | {"meta.publish_log"}
    assert sum(tables.values()) > 10_000

    oldest = client_envs.run("duckdb_oldest", READ_EVERY_TABLE, str(warehouse / "serving.duckdb"))
    assert oldest["version"].startswith("1.") and oldest["rows"] == tables

    published = "database_name = 'serving' and schema_name in ('marts', 'meta')"
    described = serving(warehouse, f"select count(*) as columns, count(nullif(comment, '')) as described "
                                   f"from duckdb_columns() where {published}")
    assert described["columns"].iloc[0] == described["described"].iloc[0] > 150
    tables_described = serving(warehouse, f"select count(nullif(comment, '')) as n from duckdb_tables() "
                                          f"where {published}")
    assert tables_described["n"].iloc[0] == len(tables)

    url = f"duckdb:///{warehouse / 'serving.duckdb'}?access_mode=read_only"
    seen = client_envs.run("superset", SUPERSET_INSPECT, url, "marts")
    assert sorted(seen["tables"]) == marts
    for table, found in seen["tables"].items():
        assert all(comment for _, _, comment in found["columns"]), table
        assert found["sample_rows"] == min(tables[f"marts.{table}"], 100), table


def test_postgres_holds_what_the_serving_file_holds(
    first_run: Run, warehouse: Path, serving_postgres: str
) -> None:
    assert first_run.returncode == 0, first_run.output
    assert "and postgresql://127.0.0.1:" in first_run.output
    with psycopg.connect(serving_postgres) as conn:
        for table, rows in published_rows(warehouse).items():
            schema, name = table.split(".")
            theirs = conn.execute(f'select * from "{schema}"."{name}"').fetchall()
            assert normalised(theirs) == normalised(rows), table
        undescribed = conn.execute(
            "select attrelid::regclass, attname from pg_attribute a join pg_class c on c.oid = a.attrelid "
            "join pg_namespace n on n.oid = c.relnamespace where nspname in ('marts', 'meta') "
            "and c.relkind = 'r' and attnum > 0 and col_description(attrelid, attnum) is null").fetchall()
        assert undescribed == []


def test_lineage_events_of_every_task_reach_the_published_marts(
    first_run: Run, warehouse: Path, serving_postgres: str
) -> None:
    assert first_run.returncode == 0, first_run.output
    run_id = re.search(r"^run (\S+) published to", first_run.output, re.MULTILINE)[1]
    tasks = re.findall(r"^  (\S+)\s+ok \(", first_run.output, re.MULTILINE)
    lines = (warehouse / "lineage" / "events.jsonl").read_text(encoding="utf-8").splitlines()
    events = [e for e in map(json.loads, lines)
              if e["run"]["facets"].get("airflow", {}).get("dagRun", {}).get("run_id") == run_id]
    kinds: dict[str, list[str]] = {}
    for event in events:
        kinds.setdefault(event["job"]["name"].removeprefix("ecommerce_marts."), []).append(event["eventType"])
    assert len(tasks) > 30 and {task: kinds.get(task) for task in tasks} == {task: ["START", "COMPLETE"]
                                                                             for task in tasks}

    def datasets(task: str, side: str) -> set[str]:
        (complete,) = [e for e in events if e["job"]["name"] == f"ecommerce_marts.{task}"
                       and e["eventType"] == "COMPLETE"]
        return {f"{d['namespace']}/{d['name']}" for d in complete[side]}

    marts = mart_names(manifest_path(DBT_PROJECT_DIR))
    port = serving_postgres.rsplit(":", 1)[1].split("/")[0]
    assert datasets("publish", "outputs") == (
        {f"duckdb://{warehouse / 'serving.duckdb'}/serving.marts.{mart}" for mart in marts}
        | {f"postgres://127.0.0.1:{port}/end_to_end.marts.{mart}" for mart in marts})
    built_by_dbt = set().union(*(datasets(task, "outputs") for task in tasks if task.startswith("dbt.")))
    assert datasets("publish", "inputs") == {
        f"duckdb://{warehouse / 'warehouse.duckdb'}/warehouse.marts.{mart}" for mart in marts}
    assert datasets("publish", "inputs") <= built_by_dbt  # one graph: dbt's outputs are publish's inputs
    # the one dbt build (cosmos' watcher producer) reads the raw tables the raw gate promoted
    assert datasets("raw_quality_gate", "outputs") & datasets("dbt.dbt_producer_watcher", "inputs")


def normalised(rows: list[tuple]) -> list[str]:
    """Rows as sorted text, numbers to 12 significant digits: to compare two databases' rows."""
    def cell(value: object) -> str:
        if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
            return f"{float(value):.12g}"
        return "null" if value is None else str(value)
    return sorted("|".join(cell(v) for v in row) for row in rows)


def test_every_dbt_test_is_recorded_once_beside_the_gates_checks(first_run: Run, warehouse: Path) -> None:
    manifest = json.loads((DBT_PROJECT_DIR / "target" / "manifest.json").read_text(encoding="utf-8"))
    buildable = {uid for uid, node in manifest["nodes"].items() if node["resource_type"] in {"model", "seed"}}
    buildable |= set(manifest["sources"])  # source tests (vocabulary_mapped) run in the build too
    tests = {uid for uid, node in manifest["nodes"].items()
             if node["resource_type"] == "test" and set(node["depends_on"]["nodes"]) <= buildable}
    tests |= set(manifest["unit_tests"])
    [(run_id,)] = warehouse_query(warehouse, "select distinct run_id from audit.validation_results "
                                             "where gate = 'mart'")
    recorded = warehouse_query(warehouse, f"""
        select suite, count(*) from audit.validation_results
        where run_id = '{run_id}' and gate = 'dbt' group by suite""")
    # the one dbt build (cosmos' watcher producer) recorded every test it ran, each exactly once
    assert {suite for suite, _ in recorded} == tests
    assert {count for _, count in recorded} == {1}
    report = (warehouse / "reports" / "run_report.html").read_text(encoding="utf-8")
    assert "<td>dbt</td>" in report


@pytest.fixture(scope="module")
def second_run(
    first_run: Run, shop: Path, warehouse: Path, serving_postgres: str
) -> tuple[Run, list[tuple], str]:
    manifest_before = warehouse_query(warehouse, MANIFEST_ROWS)
    serving_before = sha256(warehouse / "serving.duckdb")
    return ecom_run(shop, warehouse, serving_postgres), manifest_before, serving_before


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
def broken_run(second_run, shop: Path, warehouse: Path, serving_postgres: str) -> tuple[Run, str, str]:
    broken = shop / "orders" / "late" / "orders_no_amount.csv"
    broken.parent.mkdir(parents=True)
    broken.write_text(
        "order_id,customer_id,ordered_at,status\nX000001,000001,2026-06-29 10:00:00,paid\n", encoding="utf-8"
    )
    before = sha256(warehouse / "serving.duckdb")
    run = ecom_run(shop, warehouse, serving_postgres)
    broken.unlink()
    return run, before, "orders/late/orders_no_amount.csv"


def test_file_missing_a_required_column_blocks_publishing(
    broken_run, warehouse: Path, serving_postgres: str
) -> None:
    run, serving_before, path = broken_run
    assert run.returncode != 0
    assert path in run.output
    assert "total_amount" in run.output
    assert sha256(warehouse / "serving.duckdb") == serving_before
    assert "run_report.html" in run.output
    # PostgreSQL still holds the first run's publish (the second had nothing new), as the file does
    log = "select run_id, mart, row_count from meta.publish_log order by 1, 2"
    with duckdb.connect(str(warehouse / "serving.duckdb"), read_only=True) as con:
        in_file = con.execute(log).fetchall()
    with psycopg.connect(serving_postgres) as conn:
        assert conn.execute(log).fetchall() == in_file and len({run_id for run_id, _, _ in in_file}) == 1


FAILING_MODEL = "int_orders_aggregated_to_customer_days"


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
    for downstream in (
        "int_customer_btyd_summarized", "growth_accounting", "cohort_retention", "user_portrait"
    ):
        assert states[f"dbt.{downstream}.run"] == "upstream_failed", downstream
    for independent in ("stg_shop__orders", "int_orders_filtered", "int_conversions_selected"):
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
