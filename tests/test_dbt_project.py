"""Builds the dbt project (dbt_project/) on tiny hand-made warehouses and checks the marts.

Scenario "full": every table the marts use has landed. Scenario "minimal": only the required
tables (customers, orders) have landed, so attribution_channel must come out empty with its schema.
The expected values are computed by hand in the comments next to the data (as-of date 2024-03-31,
business time zone Asia/Shanghai = UTC+8, attribution lookback 30 days).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest
import yaml
from dbt.cli.main import dbtRunner

from ecom.config import DBT_PROJECT_DIR
from ecom.contract import load_contract
from ecom.ingest.warehouse import LINEAGE_COLUMNS, ensure_layer_table

AS_OF = "2024-03-31"
MODEL_SCHEMAS = ("staging", "intermediate", "marts")

# Raw rows (UTC timestamps). Columns left out are null. Lineage columns come from the batch.
CUSTOMERS = [
    {"customer_id": f"c{i}", "name": f"Name {i}", "phone": f"1380000000{i}", "email": f"c{i}@example.com",
     "address": f"{i} Road", "gender": "F", "city_tier": 2, "acquisition_channel": "search",
     "signup_at": datetime(2023, 11, 1)}
    for i in range(1, 7)
]
ORDERS = [
    # c1: two orders on business day 2024-01-10 (150), one on 2024-03-01 (60).
    {"order_id": "o1", "customer_id": "c1", "ordered_at": datetime(2024, 1, 10, 2), "total_amount": 100},
    {"order_id": "o2", "customer_id": "c1", "ordered_at": datetime(2024, 1, 10, 5), "total_amount": 50},
    {"order_id": "o3", "customer_id": "c1", "ordered_at": datetime(2024, 3, 1, 2), "total_amount": 60},
    # c2: a free order at 2024-02-14 20:00 UTC = business day 2024-02-15, then 40 on 2024-02-20.
    {"order_id": "o4", "customer_id": "c2", "ordered_at": datetime(2024, 2, 14, 20), "total_amount": 0},
    {"order_id": "o5", "customer_id": "c2", "ordered_at": datetime(2024, 2, 20, 2), "total_amount": 40},
    # c3: o6 is corrected to 80 by a later batch; the cancelled o7 counts nowhere.
    {"order_id": "o6", "customer_id": "c3", "ordered_at": datetime(2024, 3, 10, 2), "total_amount": 70},
    {"order_id": "o7", "customer_id": "c3", "ordered_at": datetime(2024, 3, 20, 2), "total_amount": 500,
     "status": "cancelled"},
    # c4: o9 is after the as-of date: ignored.
    {"order_id": "o8", "customer_id": "c4", "ordered_at": datetime(2024, 1, 5, 2), "total_amount": 30,
     "status": "shipped"},
    {"order_id": "o9", "customer_id": "c4", "ordered_at": datetime(2024, 4, 2, 2), "total_amount": 999},
    # c5: empty status means completed.
    {"order_id": "o10", "customer_id": "c5", "ordered_at": datetime(2023, 12, 20, 2), "total_amount": 30,
     "status": None, "shipping_address": "5 Road"},
    # c6: only a cancelled order: no portrait row.
    {"order_id": "o11", "customer_id": "c6", "ordered_at": datetime(2024, 2, 1, 2), "total_amount": 20,
     "status": "cancelled"},
]
ORDER_CORRECTIONS = [
    {"order_id": "o6", "customer_id": "c3", "ordered_at": datetime(2024, 3, 10, 2), "total_amount": 80},
]


def touch(
    touchpoint_id: str, customer_id: str | None, channel: str, occurred_at: datetime, **extra: str
) -> dict:
    return {"touchpoint_id": touchpoint_id, "customer_id": customer_id, "channel": channel,
            "occurred_at": occurred_at, **extra}


TOUCHPOINTS = [
    touch("t1", "c1", "search", datetime(2024, 1, 1)),
    touch("t2", "c1", "social", datetime(2024, 1, 5)),
    touch("t3", "c1", "search", datetime(2024, 1, 9)),
    touch("t4", "c1", "email_sms", datetime(2024, 1, 10, 3)),  # between o1 and o2: o2's journey only
    touch("t5", "c1", "kol_live", datetime(2024, 1, 20)),  # 41 days before o3: outside the window
    touch("t6", "c1", "feed_ads", datetime(2024, 3, 2)),  # after o3
    touch("t7", "c2", "affiliate", datetime(2024, 2, 14, 20)),  # the very instant of o4: included
    touch("t8", None, "social", datetime(2024, 3, 9), anonymous_id="dev3"),  # anonymous: not attributed
    # exactly 30 days before o8 (included) and one minute earlier (excluded)
    touch("t9", "c4", "email_sms", datetime(2023, 12, 6, 2), touch_type="impression"),
    touch("t10", "c4", "search", datetime(2023, 12, 6, 1, 59)),
]
MARKETING_SPEND = [
    {"spend_date": date(2024, 1, 1), "channel": "search", "campaign_id": "k1", "spend": 100},
    {"spend_date": date(2024, 1, 1), "channel": "search", "campaign_id": None, "spend": 50},
    {"spend_date": date(2024, 2, 1), "channel": "social", "campaign_id": "k2", "spend": 20},
    {"spend_date": date(2024, 4, 5), "channel": "social", "campaign_id": "k2", "spend": 999},
    {"spend_date": date(2024, 1, 15), "channel": "kol_live", "campaign_id": "k3", "spend": 10},
]
SPEND_CORRECTIONS = [  # same key, null campaign: replaces the 50
    {"spend_date": date(2024, 1, 1), "channel": "search", "campaign_id": None, "spend": 60},
]


def insert_raw_rows(
    con: duckdb.DuckDBPyConnection, table_name: str, rows: list[dict], batch_id: str, loaded_at: datetime
) -> None:
    names = load_contract().table(table_name).column_names
    values = [
        [row.get(name) for name in names] + [f"file-{table_name}-{batch_id}", line, batch_id, loaded_at]
        for line, row in enumerate(rows, start=2)
    ]
    placeholders = ", ".join("?" for _ in range(len(names) + len(LINEAGE_COLUMNS)))
    con.executemany(f"insert into raw.{table_name} values ({placeholders})", values)


def build_warehouse(warehouse_dir: Path, tables: dict[str, list[list[dict]]]) -> None:
    """Creates warehouse.duckdb with one raw table per key, loaded batch after batch."""
    with duckdb.connect(str(warehouse_dir / "warehouse.duckdb")) as con:
        con.execute("create schema raw")
        for table_name, batches in tables.items():
            ensure_layer_table(con, "raw", load_contract().table(table_name))
            for number, rows in enumerate(batches, start=1):
                insert_raw_rows(con, table_name, rows, batch_id=f"batch-{number}",
                                loaded_at=datetime(2024, 4, 1, 0, 0, number))


def dbt_build(warehouse_dir: Path) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ECOM_WAREHOUSE_DIR", str(warehouse_dir))
        patch.setenv("ECOM_BUSINESS_TZ", "Asia/Shanghai")
        patch.delenv("ECOM_AS_OF", raising=False)
        result = dbtRunner().invoke([
            "build",
            "--project-dir", str(DBT_PROJECT_DIR),
            "--profiles-dir", str(DBT_PROJECT_DIR),
            "--target-path", str(warehouse_dir / "dbt" / "target"),
            "--log-path", str(warehouse_dir / "dbt" / "logs"),
            "--vars", f"{{as_of_date: '{AS_OF}'}}",
            "--quiet",
        ])
    failures = [f"{r.node.unique_id}: {r.status} {r.message}" for r in (result.result or [])
                if str(r.status) in {"error", "fail"}]
    assert result.success, f"dbt build failed: {result.exception or failures}"


def query(warehouse_dir: Path, sql: str) -> list[tuple]:
    # not read_only: dbt-duckdb keeps its in-process connection open and DuckDB refuses a second
    # connection to the same file with a different configuration
    with duckdb.connect(str(warehouse_dir / "warehouse.duckdb")) as con:
        return con.execute(sql).fetchall()


@pytest.fixture(scope="module")
def full_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    warehouse_dir = tmp_path_factory.mktemp("full")
    build_warehouse(warehouse_dir, {
        "customers": [CUSTOMERS],
        "orders": [ORDERS, ORDER_CORRECTIONS],
        "touchpoints": [TOUCHPOINTS],
        "marketing_spend": [MARKETING_SPEND, SPEND_CORRECTIONS],
    })
    dbt_build(warehouse_dir)
    yield warehouse_dir


@pytest.fixture(scope="module")
def minimal_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    warehouse_dir = tmp_path_factory.mktemp("minimal")
    build_warehouse(warehouse_dir, {"customers": [CUSTOMERS], "orders": [ORDERS]})
    dbt_build(warehouse_dir)
    yield warehouse_dir


def test_sources_declare_the_contract_columns_with_storage_types() -> None:
    document = yaml.safe_load((DBT_PROJECT_DIR / "models/staging/_shop__sources.yml").read_text())
    (shop,) = document["sources"]
    assert (shop["name"], shop["schema"]) == ("shop", "raw")
    declared = {table["name"]: table["columns"] for table in shop["tables"]}
    contract = load_contract()
    assert set(declared) == set(contract.tables)
    for name, table in contract.tables.items():
        expected = [(c.name, c.storage_type, c.personal) for c in table.columns]
        expected += [(column, sql_type, False) for column, sql_type in LINEAGE_COLUMNS]
        actual = [
            (c["name"], c["data_type"].upper(), c.get("config", {}).get("meta", {}).get("personal", False))
            for c in declared[name]
        ]
        assert actual == expected, name


def test_user_portrait_btyd_summary_and_scores(full_warehouse: Path) -> None:
    rows = query(full_warehouse, """
        select customer_id, first_order_date, last_order_date, order_count, total_revenue, avg_order_value,
               frequency, recency_days, tenure_days, monetary_value, days_since_last_order,
               r_score, f_score, m_score, rfm_segment, lifecycle_stage
        from marts.user_portrait order by customer_id""")
    d = date
    # R: days since 102, 86, 40, 30, 21 -> 1..5; F: orders 1, 1, 1 (tied), 2, 3; M: 30, 30 (tied), 40, 80, 210
    assert rows == [
        # c1: days 01-10 (150) and 03-01 (60): frequency 1, recency 51, T 81, monetary 60
        ("c1", d(2024, 1, 10), d(2024, 3, 1), 3, 210, 70, 1, 51, 81, 60, 30,
         4, 5, 5, "Loyal Customers", "active"),
        # c2: free order on 02-15 (business day), 40 on 02-20
        ("c2", d(2024, 2, 15), d(2024, 2, 20), 2, 40, 20, 1, 5, 45, 40, 40,
         3, 4, 3, "Loyal Customers", "active"),
        # c3: corrected o6 (80); the cancelled 500 is ignored
        ("c3", d(2024, 3, 10), d(2024, 3, 10), 1, 80, 80, 0, 0, 21, 0, 21,
         5, 1, 4, "Potential Loyalists", "new"),
        # c4: the order after the as-of date is ignored
        ("c4", d(2024, 1, 5), d(2024, 1, 5), 1, 30, 30, 0, 0, 86, 0, 86,
         2, 1, 1, "Hibernating", "active"),
        ("c5", d(2023, 12, 20), d(2023, 12, 20), 1, 30, 30, 0, 0, 102, 0, 102,
         1, 1, 1, "Lost", "at_risk"),
    ]


def test_cohort_retention_has_every_period_with_zeros(full_warehouse: Path) -> None:
    rows = query(full_warehouse, """
        select cohort_grain, cohort_start, period_index, cohort_size, active_customers,
               retention_rate, revenue, round(revenue_retention_rate, 6)
        from marts.cohort_retention order by cohort_start, period_index""")
    d = date
    assert rows == [
        ("month", d(2023, 12, 1), 0, 1, 1, 1.0, 30, 1.0),
        ("month", d(2023, 12, 1), 1, 1, 0, 0.0, 0, 0.0),
        ("month", d(2023, 12, 1), 2, 1, 0, 0.0, 0, 0.0),
        ("month", d(2023, 12, 1), 3, 1, 0, 0.0, 0, 0.0),
        ("month", d(2024, 1, 1), 0, 2, 2, 1.0, 180, 1.0),
        ("month", d(2024, 1, 1), 1, 2, 0, 0.0, 0, 0.0),
        ("month", d(2024, 1, 1), 2, 2, 1, 0.5, 60, round(60 / 180, 6)),
        ("month", d(2024, 2, 1), 0, 1, 1, 1.0, 40, 1.0),
        ("month", d(2024, 2, 1), 1, 1, 0, 0.0, 0, 0.0),
        ("month", d(2024, 3, 1), 0, 1, 1, 1.0, 80, 1.0),
    ]


def test_attribution_channel_credits_spend_and_roas(full_warehouse: Path) -> None:
    rows = query(full_warehouse, """
        select model, channel, round(conversions, 6), round(revenue, 6), spend, round(roas, 6)
        from marts.attribution_channel order by model, channel""")
    def r(value: float) -> float:
        return round(value, 6)

    assert rows == [
        # journeys: o1 [search, social, search] 100; o2 [search, social, search, email_sms] 50;
        # o4, o5 [affiliate] 0 and 40; o8 [email_sms] 30; o3, o6, o10 no touch -> direct 60+80+30
        ("first_touch", "affiliate", 2, 40, 0, None),
        ("first_touch", "direct", 3, 170, 0, None),
        ("first_touch", "email_sms", 1, 30, 0, None),
        ("first_touch", "kol_live", 0, 0, 10, 0),
        ("first_touch", "search", 2, 150, 160, r(150 / 160)),
        ("first_touch", "social", 0, 0, 20, 0),
        ("last_touch", "affiliate", 2, 40, 0, None),
        ("last_touch", "direct", 3, 170, 0, None),
        ("last_touch", "email_sms", 2, 80, 0, None),
        ("last_touch", "kol_live", 0, 0, 10, 0),
        ("last_touch", "search", 1, 100, 160, r(100 / 160)),
        ("last_touch", "social", 0, 0, 20, 0),
        ("linear", "affiliate", 2, 40, 0, None),
        ("linear", "direct", 3, 170, 0, None),
        ("linear", "email_sms", 1.25, 42.5, 0, None),
        ("linear", "kol_live", 0, 0, 10, 0),
        ("linear", "search", r(2 / 3 + 2 / 4), r(100 * 2 / 3 + 50 * 2 / 4), 160, r((100 * 2 / 3 + 25) / 160)),
        ("linear", "social", r(1 / 3 + 1 / 4), r(100 / 3 + 50 / 4), 20, r((100 / 3 + 12.5) / 20)),
    ]


def test_attribution_channel_is_empty_with_its_schema_when_touchpoints_never_landed(
    minimal_warehouse: Path,
) -> None:
    assert query(minimal_warehouse, "select count(*) from marts.attribution_channel") == [(0,)]
    columns = query(minimal_warehouse, """
        select column_name, data_type from information_schema.columns
        where table_schema = 'marts' and table_name = 'attribution_channel' order by ordinal_position""")
    assert columns == [
        ("model", "VARCHAR"), ("channel", "VARCHAR"), ("conversions", "DOUBLE"), ("revenue", "DOUBLE"),
        ("spend", "DECIMAL(18,2)"), ("roas", "DOUBLE"),
    ]
    # the marts that need only customers and orders are built as usual
    assert query(minimal_warehouse, "select count(*) from marts.user_portrait") == [(5,)]
    assert query(minimal_warehouse, "select count(*) from marts.cohort_retention") == [(10,)]
    assert query(minimal_warehouse, "select count(*) from staging.stg_shop__touchpoints") == [(0,)]


def test_portrait_tags_of_tables_that_never_landed_are_absent_not_guessed(minimal_warehouse: Path) -> None:
    # only customers and orders landed: no events, reviews, items, social activities or repayments,
    # and 5 customers are too few to fit the CLV models (clv_min_customers 20)
    groups = query(minimal_warehouse, "select distinct tag_group from marts.user_tags order by 1")
    assert groups == [("basic",), ("consumption",), ("value",)]
    tags = {tag for (tag,) in query(minimal_warehouse, "select distinct tag from marts.user_tags")}
    assert {"order_frequency_band", "spend_band", "tenure_band", "rfm_segment", "lifecycle_stage"} <= tags
    assert not tags & {"top_category", "main_device", "sessions_30d", "review_count", "shares_sent",
                       "credit_tier", "p_alive", "churn_risk", "value_tier", "predicted_clv_365d"}
    assert query(minimal_warehouse, """
        select count(*) from marts.user_portrait
        where main_device is not null or review_count is not null or shares_sent is not null
           or instalments_due is not null or p_alive is not null or value_tier is not null""") == [(0,)]
    assert query(minimal_warehouse, "select count(*) from marts.clv_model_params") == [(0,)]
    history = query(minimal_warehouse,
                    "select as_of_date, count(*) from marts.user_portrait_history group by all")
    assert history == [(date(2024, 3, 31), 5)]
    assert query(minimal_warehouse, "select count(*) from marts.segment_transitions") == [(0,)]


def test_personal_columns_stop_at_raw(full_warehouse: Path) -> None:
    personal = sorted({c.name for t in load_contract().tables.values() for c in t.columns if c.personal})
    assert personal == ["address", "email", "name", "phone", "shipping_address"]
    in_raw = query(full_warehouse, f"""
        select distinct column_name from information_schema.columns
        where table_schema = 'raw' and column_name in ({", ".join(f"'{p}'" for p in personal)})""")
    assert sorted(c for (c,) in in_raw) == personal  # the check below looks at the right names
    leaked = query(full_warehouse, f"""
        select table_schema, table_name, column_name from information_schema.columns
        where table_schema in ({", ".join(f"'{s}'" for s in MODEL_SCHEMAS)})
          and column_name in ({", ".join(f"'{p}'" for p in personal)})""")
    assert leaked == []
    model_count = query(full_warehouse, f"""
        select count(distinct table_schema || '.' || table_name) from information_schema.columns
        where table_schema in ({", ".join(f"'{s}'" for s in MODEL_SCHEMAS)})""")
    assert model_count[0][0] >= 14  # 8 staging views + seed, 3 intermediate, 3 marts were inspected


def test_every_model_column_is_documented(full_warehouse: Path) -> None:
    manifest = json.loads((full_warehouse / "dbt" / "target" / "manifest.json").read_text())
    models = [node for node in manifest["nodes"].values() if node["resource_type"] in {"model", "seed"}]
    assert len(models) == 28
    for node in models:
        built = query(full_warehouse, f"""
            select column_name from information_schema.columns
            where table_schema = '{node["schema"]}' and table_name = '{node["alias"]}'""")
        documented = {name for name, column in node["columns"].items() if column["description"].strip()}
        assert {c for (c,) in built} == documented, node["unique_id"]
        assert node["description"].strip(), node["unique_id"]
        if node["schema"] == "marts":
            assert node["config"]["contract"]["enforced"], node["unique_id"]
            assert node["config"]["meta"]["requires_sources"], node["unique_id"]
