"""Builds the dbt project (dbt_project/) on tiny hand-made warehouses and checks the marts.

Scenario "full": every table the marts use has landed. Scenario "minimal": only the required
tables (customers, orders) have landed, so attribution_channel must come out empty with its schema.
The expected values are computed by hand in the comments next to the data (as-of date 2024-03-31,
business time zone Asia/Shanghai = UTC+8, attribution lookback 30 days).
"""

from __future__ import annotations

import itertools
import json
import shutil
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
import yaml
from dbt.cli.main import dbtRunner, dbtRunnerResult
from dbt_metricflow.cli.cli_configuration import CLIConfiguration
from metricflow.engine.metricflow_engine import MetricFlowQueryRequest
from metricflow.validation.data_warehouse_model_validator import DataWarehouseModelValidator
from metricflow_semantic_interfaces.validations.semantic_manifest_validator import SemanticManifestValidator

from ecom.config import DBT_PROJECT_DIR, Settings
from ecom.contract import load_contract
from ecom.dbt_manifest import attribution_models
from ecom.ingest.layers import LINEAGE_COLUMNS, ensure_layer_table
from ecom.orchestrate import release_dbt_duckdb
from ecom.quality.dbt_results import record_dbt_target
from ecom.warehouse import connect

pytestmark = pytest.mark.slow(95)

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
    # anonymous, stitched to c3 by t11
    touch("t8", None, "social", datetime(2024, 3, 9), anonymous_id="dev3"),
    # exactly 30 days before o8 (included) and one minute earlier (excluded)
    touch("t9", "c4", "email_sms", datetime(2023, 12, 6, 2), touch_type="impression"),  # clicks only
    touch("t10", "c4", "search", datetime(2023, 12, 6, 1, 59)),
    touch("t11", "c3", "kol_live", datetime(2024, 3, 25), anonymous_id="dev3"),  # dev3 signed in as c3
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


def dbt_invoke(warehouse_dir: Path, *command: str) -> dbtRunnerResult:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ECOM_WAREHOUSE_DIR", str(warehouse_dir))
        patch.setenv("ECOM_BUSINESS_TZ", "Asia/Shanghai")
        patch.delenv("ECOM_AS_OF", raising=False)
        result = dbtRunner().invoke([
            *command,
            "--project-dir", str(DBT_PROJECT_DIR),
            "--profiles-dir", str(DBT_PROJECT_DIR),
            "--target-path", str(warehouse_dir / "dbt" / "target"),
            "--log-path", str(warehouse_dir / "dbt" / "logs"),
            "--vars", f"{{as_of_date: '{AS_OF}'}}",
            "--quiet",
        ])
    release_dbt_duckdb()  # dbt-duckdb keeps the warehouse open, with the pipeline's configuration
    return result


def dbt_build(warehouse_dir: Path) -> None:
    result = dbt_invoke(warehouse_dir, "build")
    failures = [f"{r.node.unique_id}: {r.status} {r.message}" for r in (result.result or [])
                if str(r.status) in {"error", "fail"}]
    assert result.success, f"dbt build failed: {result.exception or failures}"


def query(warehouse_dir: Path, sql: str) -> list[tuple]:
    # opened as the pipeline opens it (not read-only): dbt-duckdb (and MetricFlow through it) may still
    # hold the file with that configuration, and DuckDB refuses a second connection with another one
    with connect(Settings(landing_dir=warehouse_dir, warehouse_dir=warehouse_dir)) as con:
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
        select cohort_start, period_index, period_end, is_complete, cohort_size, active_customers,
               retention_rate, rolling_active_customers, orders, revenue, round(revenue_retention_rate, 6),
               cumulative_revenue, cumulative_revenue_per_customer
        from marts.cohort_retention
        where cohort_grain = 'month' and cohort_dimension = 'all'
        order by cohort_start, period_index""")
    d = date
    # December: c5 (30); January: c1 (2 orders 150, then 60 in March) and c4 (30); February: c2 (0 and
    # 40 on two days); March: c3 (80). The as-of date ends March, so every month is complete.
    assert rows == [
        (d(2023, 12, 1), 0, d(2023, 12, 31), True, 1, 1, 1.0, 1, 1, 30, 1.0, 30, 30.0),
        (d(2023, 12, 1), 1, d(2024, 1, 31), True, 1, 0, 0.0, 0, 0, 0, 0.0, 30, 30.0),
        (d(2023, 12, 1), 2, d(2024, 2, 29), True, 1, 0, 0.0, 0, 0, 0, 0.0, 30, 30.0),
        (d(2023, 12, 1), 3, d(2024, 3, 31), True, 1, 0, 0.0, 0, 0, 0, 0.0, 30, 30.0),
        (d(2024, 1, 1), 0, d(2024, 1, 31), True, 2, 2, 1.0, 2, 3, 180, 1.0, 180, 90.0),
        (d(2024, 1, 1), 1, d(2024, 2, 29), True, 2, 0, 0.0, 1, 0, 0, 0.0, 180, 90.0),
        (d(2024, 1, 1), 2, d(2024, 3, 31), True, 2, 1, 0.5, 1, 1, 60, round(60 / 180, 6), 240, 120.0),
        (d(2024, 2, 1), 0, d(2024, 2, 29), True, 1, 1, 1.0, 1, 2, 40, 1.0, 40, 40.0),
        (d(2024, 2, 1), 1, d(2024, 3, 31), True, 1, 0, 0.0, 0, 0, 0, 0.0, 40, 40.0),
        (d(2024, 3, 1), 0, d(2024, 3, 31), True, 1, 1, 1.0, 1, 1, 80, 1.0, 80, 80.0),
    ]


def test_cohort_retention_weekly_cohorts_start_on_monday(full_warehouse: Path) -> None:
    active = query(full_warehouse, """
        select cohort_start, period_index, active_customers, revenue
        from marts.cohort_retention
        where cohort_grain = 'week' and cohort_dimension = 'all' and active_customers > 0
        order by cohort_start, period_index""")
    d = date
    # first orders: c5 Wed 12-20, c4 Fri 01-05, c1 Wed 01-10 (again Fri 03-01, 7 weeks later),
    # c2 Thu 02-15 (again Tue 02-20, the next week), c3 Sun 03-10
    assert active == [
        (d(2023, 12, 18), 0, 1, 30), (d(2024, 1, 1), 0, 1, 30), (d(2024, 1, 8), 0, 1, 150),
        (d(2024, 1, 8), 7, 1, 60), (d(2024, 2, 12), 0, 1, 0), (d(2024, 2, 12), 1, 1, 40),
        (d(2024, 3, 4), 0, 1, 80),
    ]
    # as-of Sunday 2024-03-31 closes the week of Monday 03-25: periods up to 14, 12, 11, 6, 3
    spine = query(full_warehouse, """
        select count(*), max(period_index), bool_and(is_complete) from marts.cohort_retention
        where cohort_grain = 'week' and cohort_dimension = 'all'
        group by cohort_start order by cohort_start""")
    assert spine == [(15, 14, True), (13, 12, True), (12, 11, True), (7, 6, True), (4, 3, True)]


def test_cohort_cuts_fall_back_to_unknown(full_warehouse: Path) -> None:
    # every customer came from search in a tier-2 city; no order_items landed and no order has a coupon
    cuts = query(full_warehouse, """
        select cohort_dimension, list(distinct cohort_value), count(*) from marts.cohort_retention
        group by cohort_dimension order by cohort_dimension""")
    assert cuts == [
        ("acquisition_channel", ["search"], 10 + 51),
        ("all", ["all"], 10 + 51),
        ("city_tier", ["2"], 10 + 51),
        ("first_order_category", ["unknown"], 10 + 51),
        ("first_order_coupon", ["no_coupon"], 10 + 51),
    ]


def test_cohort_repeat_purchase_within_30_60_90_days(full_warehouse: Path) -> None:
    rows = query(full_warehouse, """
        select cohort_start, cohort_size, eligible_customers_30d, repeat_customers_30d, repeat_rate_30d,
               eligible_customers_60d, repeat_customers_60d, repeat_rate_60d,
               eligible_customers_90d, repeat_customers_90d, repeat_rate_90d
        from marts.cohort_repeat_purchase
        where cohort_grain = 'month' and cohort_dimension = 'all' order by cohort_start""")
    d = date
    assert rows == [
        # c5 (12-20) never came back; its 90-day window ended 03-19
        (d(2023, 12, 1), 1, 1, 0, 0.0, 1, 0, 0.0, 1, 0, 0.0),
        # c1 (01-10) came back after 51 days; c4 (01-05) never; neither is 90 days old
        (d(2024, 1, 1), 2, 2, 0, 0.0, 2, 1, 0.5, 0, 0, None),
        # c2 (02-15) came back 5 days later; only the 30-day window has ended (03-16)
        (d(2024, 2, 1), 1, 1, 1, 1.0, 0, 0, None, 0, 0, None),
        (d(2024, 3, 1), 1, 0, 0, None, 0, 0, None, 0, 0, None),
    ]


def test_retention_daily_uses_orders_without_clickstream(full_warehouse: Path) -> None:
    # all six customers signed up 2023-11-01; nobody ordered on day 1, 7 or 30
    assert query(full_warehouse, "select * from marts.retention_daily") == [
        (date(2023, 11, 1), 6, "orders", 0, 0.0, 0, 0.0, 0, 0.0),
    ]


def test_growth_accounting_months(full_warehouse: Path) -> None:
    rows = query(full_warehouse, "select * from marts.growth_accounting order by activity_month")
    d = date
    # active: Dec c5; Jan c1, c4; Feb c2; Mar c1 (back after February), c3
    assert rows == [
        (d(2023, 12, 1), True, 1, 0, 1, 0, 0, 0, None),
        (d(2024, 1, 1), True, 2, 1, 2, 0, 0, 1, 2.0),
        (d(2024, 2, 1), True, 1, 2, 1, 0, 0, 2, 0.5),
        (d(2024, 3, 1), True, 2, 1, 1, 0, 1, 1, 2.0),
    ]


# Journeys (clicks only, a touch credits the first conversion at or after it within 30 days):
# o1 (100) search t1, social t2, search t3; o2 (50) email_sms t4 (after o1); o4 (0) affiliate t7 (same
# instant); o6 (80) social t8 (anonymous dev3, stitched to c3). No touch -> direct: o3 (60; t5 is 41 days
# before), o5 (40; t7 credits o4 only), o8 (30; t9 an impression, t10 one minute too early), o10 (30).
# Non-converting journeys: c1 [kol_live t5], c1 [feed_ads t6], c4 [search t10], c3 [kol_live t11].
DIRECT = (4, 160)


def decay(days: float) -> float:
    return 2 ** (-days / 7)


# o1 at 2024-01-10 02:00 UTC; t1, t2, t3 at 9, 5 and 1 days and 2 hours before it
O1_DECAY = [decay(9 + 2 / 24), decay(5 + 2 / 24), decay(1 + 2 / 24)]
O1_SEARCH_DECAY = (O1_DECAY[0] + O1_DECAY[2]) / sum(O1_DECAY)
# Markov chain: start -> search 2/8, social 1/8, email_sms 1/8, affiliate 1/8, kol_live 2/8, feed_ads 1/8;
# search -> social, conversion, null 1/3 each; social -> search, conversion 1/2 each; email_sms and
# affiliate -> conversion; kol_live, feed_ads -> null. From search 3/5, from social 4/5: P = 1/2.
# Without search P = 5/16 (RE 3/8), without social 1/3 (RE 1/3), without email_sms or affiliate 3/8
# (RE 1/4 each), kol_live and feed_ads RE 0. Sum 29/24: 4 touched conversions (230) x RE / sum.
REMOVAL_EFFECTS = {"affiliate": 1 / 4, "email_sms": 1 / 4, "feed_ads": 0, "kol_live": 0, "search": 3 / 8,
                   "social": 1 / 3}
MARKOV_SHARE = {channel: effect * 24 / 29 for channel, effect in REMOVAL_EFFECTS.items()}
# (conversions, revenue) per model and channel; email_sms (o2 50) and affiliate (o4 0) always get 1.
CHANNEL_CREDITS = {
    "first_touch": {"search": (1, 100), "social": (1, 80)},
    "last_touch": {"search": (1, 100), "social": (1, 80)},
    "linear": {"search": (2 / 3, 200 / 3), "social": (4 / 3, 100 / 3 + 80)},
    "position_based": {"search": (0.8, 80), "social": (1.2, 100)},
    "time_decay": {"search": (O1_SEARCH_DECAY, 100 * O1_SEARCH_DECAY),
                   "social": (2 - O1_SEARCH_DECAY, 180 - 100 * O1_SEARCH_DECAY)},
    "shapley": {"search": (0.5, 50), "social": (1.5, 130)},
}
SPEND = {"search": 160, "social": 20, "kol_live": 10}  # on or before 2024-03-31, corrected search 60


def expected_channel_rows() -> list[tuple]:
    rows = []
    for model in sorted(attribution_models()):
        if model == "markov":
            credits = {channel: (4 * share, 230 * share) for channel, share in MARKOV_SHARE.items()}
        else:
            credits = {**CHANNEL_CREDITS[model], "email_sms": (1, 50), "affiliate": (1, 0),
                       "kol_live": (0, 0)}
        credits["direct"] = DIRECT
        for channel, (conversions, revenue) in sorted(credits.items()):
            spend = SPEND.get(channel, 0)
            rows.append((model, channel, round(conversions, 6), round(revenue, 6), spend,
                         round(revenue / spend, 6) if spend else None,
                         round(spend / conversions, 6) if conversions else None))
    return rows


def test_attribution_channel_credits_every_model_with_spend_roas_and_cpa(full_warehouse: Path) -> None:
    rows = query(full_warehouse, """
        select model, channel, round(conversions, 6), round(revenue, 6), spend, round(roas, 6), round(cpa, 6)
        from marts.attribution_channel where grain = 'channel' order by model, channel""")
    assert rows == expected_channel_rows()


def test_markov_removal_effects_are_the_hand_computed_ones(full_warehouse: Path) -> None:
    rows = query(full_warehouse, """
        select channel, removal_effect from intermediate.int_removal_effects_solved
        where grain = 'channel' order by channel""")
    assert [(channel, round(effect, 9)) for channel, effect in rows] == [
        (channel, round(effect, 9)) for channel, effect in sorted(REMOVAL_EFFECTS.items())
    ]


def test_shapley_is_the_exact_shapley_value_of_the_conversion_game(full_warehouse: Path) -> None:
    """Brute force over every order of the players: v(S) = conversions (or their revenue) of the
    journeys whose channel set is within S."""
    journeys = [({"search", "social"}, 100), ({"email_sms"}, 50), ({"affiliate"}, 0), ({"social"}, 80),
                ({"direct"}, 60), ({"direct"}, 40), ({"direct"}, 30), ({"direct"}, 30)]
    players = sorted(set().union(*(channels for channels, _ in journeys)))

    def value(coalition: set[str], weight: str) -> float:
        return sum(1 if weight == "conversions" else revenue
                   for channels, revenue in journeys if channels <= coalition)

    orders = list(itertools.permutations(players))
    expected = {}
    for player in players:
        for weight in ("conversions", "revenue"):
            before = [set(order[:order.index(player)]) for order in orders]
            marginal = sum(value(before_set | {player}, weight) - value(before_set, weight)
                           for before_set in before)
            expected[player, weight] = round(marginal / len(orders), 6)
    rows = query(full_warehouse, """
        select channel, round(conversions, 6), round(revenue, 6) from marts.attribution_channel
        where grain = 'channel' and model = 'shapley' and conversions > 0 order by channel""")
    assert rows == [(p, expected[p, "conversions"], expected[p, "revenue"]) for p in players]


def test_attribution_campaign_grain_and_touchpoint_credits(full_warehouse: Path) -> None:
    campaigns = query(full_warehouse, """
        select channel, campaign_id, conversions, revenue, spend from marts.attribution_channel
        where grain = 'campaign' and model = 'first_touch' order by channel, campaign_id""")
    assert campaigns == [  # no touch has a campaign: spend of k1, k2, k3 has no conversions
        ("affiliate", None, 1, 0, 0), ("direct", None, 4, 160, 0), ("email_sms", None, 1, 50, 0),
        ("kol_live", "k3", 0, 0, 10), ("search", "k1", 0, 0, 100), ("search", None, 1, 100, 60),
        ("social", "k2", 0, 0, 20), ("social", None, 1, 80, 0),
    ]
    totals = query(full_warehouse, """
        select grain, model, round(sum(conversions), 6), round(sum(revenue), 6)
        from marts.attribution_channel group by grain, model order by grain, model""")
    assert {(conversions, revenue) for *_, conversions, revenue in totals} == {(8, 390)}
    assert len(totals) == 14
    o1 = query(full_warehouse, """
        select model, string_agg(touchpoint_id, ' ' order by touch_position),
               string_agg(identity_source, ' ' order by touch_position), round(sum(credit), 9)
        from marts.attribution_touchpoint where order_id in ('o1', 'o6') group by model, order_id
        order by model, order_id""")
    assert {(touches, sources, total) for _, touches, sources, total in o1} == {
        ("t1 t2 t3", "signed_in signed_in signed_in", 1.0), ("t8", "stitched", 1.0)
    }


def test_conversion_paths_and_daily_trend(full_warehouse: Path) -> None:
    paths = query(full_warehouse, """
        select path_rank, path, journeys, conversions, conversion_rate, avg_path_length,
               round(avg_days_to_conversion, 6), revenue
        from marts.conversion_paths order by path_rank""")
    assert paths == [  # by conversions, then journeys, then path; days from first touch to conversion
        (1, "affiliate", 1, 1, 1.0, 1.0, 0.0, 0),  # t7 at o4's instant
        (2, "email_sms", 1, 1, 1.0, 1.0, round(2 / 24, 6), 50),  # t4 03:00, o2 05:00
        (3, "search > social > search", 1, 1, 1.0, 3.0, round(9 + 2 / 24, 6), 100),  # t1 01-01, o1 01-10
        (4, "social", 1, 1, 1.0, 1.0, round(26 / 24, 6), 80),  # t8 03-09, o6 03-10 02:00
        (5, "kol_live", 2, 0, 0.0, 1.0, None, 0),
        (6, "feed_ads", 1, 0, 0.0, 1.0, None, 0),
        (7, "search", 1, 0, 0.0, 1.0, None, 0),
    ]
    daily = query(full_warehouse, """
        select model, round(sum(conversions), 6), round(sum(revenue), 6), sum(spend)
        from marts.attribution_daily group by model order by model""")
    assert daily == [(model, 8, 390, 190) for model in sorted(CHANNEL_CREDITS | {"markov": {}})]


def test_attribution_marts_are_empty_with_their_schema_when_touchpoints_never_landed(
    minimal_warehouse: Path,
) -> None:
    for mart in ("attribution_channel", "attribution_touchpoint", "attribution_daily", "conversion_paths"):
        assert query(minimal_warehouse, f"select count(*) from marts.{mart}") == [(0,)], mart
    columns = query(minimal_warehouse, """
        select column_name, data_type from information_schema.columns
        where table_schema = 'marts' and table_name = 'attribution_channel' order by ordinal_position""")
    assert columns == [
        ("grain", "VARCHAR"), ("model", "VARCHAR"), ("conversion_type", "VARCHAR"), ("channel", "VARCHAR"),
        ("campaign_id", "VARCHAR"), ("conversions", "DOUBLE"), ("revenue", "DOUBLE"),
        ("spend", "DECIMAL(18,2)"), ("roas", "DOUBLE"), ("cpa", "DOUBLE"),
    ]
    # the marts that need only customers and orders are built as usual
    assert query(minimal_warehouse, "select count(*) from marts.user_portrait") == [(5,)]
    assert query(minimal_warehouse, "select count(*) from marts.cohort_retention") == [(5 * (10 + 51),)]
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
    assert model_count[0][0] >= 25  # 8 staging views + seed, 7 intermediate, 9 marts were inspected


def test_every_model_column_is_documented(full_warehouse: Path) -> None:
    manifest = json.loads((full_warehouse / "dbt" / "target" / "manifest.json").read_text())
    models = [node for node in manifest["nodes"].values() if node["resource_type"] in {"model", "seed"}]
    assert len(models) == 48  # with metricflow_time_spine
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


# ---- dbt's test results in audit.validation_results, beside the gates' (ecom.quality.dbt_results) ----

RECORDED = """
    select table_name, expectation, column_name, severity, success, message from audit.validation_results
    where run_id = ? and gate = 'dbt' order by all"""


def recorded(warehouse_dir: Path, run_id: str) -> list[tuple]:
    with duckdb.connect(str(warehouse_dir / "warehouse.duckdb")) as con:
        return con.execute(RECORDED, [run_id]).fetchall()


def record(warehouse_dir: Path, run_id: str) -> int:
    release_dbt_duckdb()
    settings = Settings(landing_dir=warehouse_dir, warehouse_dir=warehouse_dir)
    return record_dbt_target(settings, run_id, date.fromisoformat(AS_OF), warehouse_dir / "dbt" / "target")


def test_every_test_of_a_build_is_recorded_once_with_its_model_and_severity(full_warehouse: Path) -> None:
    run_results = json.loads((full_warehouse / "dbt" / "target" / "run_results.json").read_text())
    tests = [r for r in run_results["results"] if r["unique_id"].split(".")[0] in {"test", "unit_test"}]
    assert len(tests) > 250 and {r["status"] for r in tests} == {"pass"}

    assert record(full_warehouse, "build-1") == len(tests)
    assert record(full_warehouse, "build-1") == len(tests)  # a retried task replaces its results

    rows = recorded(full_warehouse, "build-1")
    assert len(rows) == len(tests) and all(success for *_, success, _ in rows)
    assert ("user_portrait", "unique", "customer_id", "error", True, "dbt test unique holds") in rows
    assert ("user_portrait", "relationships", "customer_id", "warning", True,
            "dbt test relationships(to=\"ref('stg_shop__customers')\", field='customer_id') holds") in rows
    assert ("cohort_retention", "accepted_range", "retention_rate", "error", True,
            "dbt test accepted_range(min_value=1, max_value=1) where period_index = 0 holds") in rows
    assert ("growth_accounting", "assert_growth_accounting_balances", None, "error", True,
            "dbt test assert_growth_accounting_balances holds") in rows
    unit_tests = [row for row in rows if row[1] == "unit_test"]
    assert len(unit_tests) == sum(r["unique_id"].startswith("unit_test.") for r in tests)
    held = "dbt test int_orders_filtered_keeps_non_cancelled_orders_up_to_the_as_of_date holds"
    assert ("int_orders_filtered", "unit_test", None, "error", True, held) in unit_tests


# Each breaks one rule of a mart that dbt tests (they were GX suites of the mart gate before).
BREAKS = """
    update marts.cohort_retention set retention_rate = 0.9, revenue_retention_rate = 0.9
    where cohort_grain = 'month' and cohort_dimension = 'all' and cohort_start = date '2024-03-01'
      and period_index = 0;
    update marts.growth_accounting set retained_customers = 3 where activity_month = date '2024-02-01';
    update marts.user_portrait set r_score = 6, recency_days = 90 where customer_id = 'c1';
    update marts.user_portrait set churn_risk = 'doomed' where customer_id = 'c2';
    insert into marts.user_tags select * from marts.user_tags where customer_id = 'c3' and tag = 'spend_band';
    update marts.attribution_touchpoint set model = 'bogus' where order_id = 'o6' and model = 'linear';
"""
BROKEN_MARTS = ["cohort_retention", "growth_accounting", "user_portrait", "user_tags",
                "attribution_touchpoint"]


@pytest.fixture(scope="module")
def broken_warehouse(full_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bool]:
    """A copy of the full warehouse with BREAKS applied, after `dbt test` of the broken marts (and
    whether that succeeded)."""
    release_dbt_duckdb()
    warehouse_dir = tmp_path_factory.mktemp("broken")
    shutil.copy(full_warehouse / "warehouse.duckdb", warehouse_dir / "warehouse.duckdb")
    query(warehouse_dir, BREAKS)
    result = dbt_invoke(warehouse_dir, "test", "--select", " ".join(BROKEN_MARTS))
    return warehouse_dir, result.success


def test_a_broken_mart_fails_its_dbt_tests_and_the_steward_sees_which(broken_warehouse) -> None:
    warehouse_dir, succeeded = broken_warehouse
    assert not succeeded

    record(warehouse_dir, "broken")

    failed = [row for row in recorded(warehouse_dir, "broken") if not row[4]]
    assert [(table, check, column, severity) for table, check, column, severity, *_ in failed] == [
        ("attribution_touchpoint", "accepted_values", "model", "error"),
        ("cohort_retention", "accepted_range", "retention_rate", "error"),
        ("cohort_retention", "accepted_range", "revenue_retention_rate", "warning"),
        ("growth_accounting", "assert_growth_accounting_balances", None, "error"),
        ("growth_accounting", "not_below_column", "previous_active_customers", "error"),
        ("user_portrait", "accepted_range", "r_score", "error"),
        ("user_portrait", "accepted_values", "churn_risk", "error"),
        ("user_portrait", "not_below_column", "tenure_days", "error"),
        ("user_tags", "unique_combination_of_columns", None, "error"),
    ]
    messages = [message for *_, message in failed]
    assert messages[0] == ("attribution_touchpoint, column model: dbt test "
                           "accepted_values(values=\"var('attribution_models')\") fails on 1 row(s)")
    assert messages[2] == ("cohort_retention, column revenue_retention_rate: dbt test accepted_range("
                           "min_value=1, max_value=1) where period_index = 0 fails on 1 row(s)")
    assert messages[4] == ("growth_accounting, column previous_active_customers: dbt test "
                           "not_below_column(other_column='retained_customers') fails on 1 row(s)")

def test_every_vocabulary_column_is_mapped_in_staging_and_tested_on_its_source(full_warehouse: Path) -> None:
    """The raw contract declares the vocabulary columns; the generated sources carry each one's
    vocabulary and test (an error for vocabularies whose unmapped values the model cannot interpret),
    and staging maps each through the vocabulary it reads from there."""
    manifest = json.loads((full_warehouse / "dbt" / "target" / "manifest.json").read_text())
    nodes = manifest["nodes"].values()
    models = {node["name"]: node for node in nodes if node["resource_type"] == "model"}
    tested = {
        (node["sources"][0][1], node["column_name"]):
            (node["test_metadata"]["kwargs"]["vocabulary"], node["config"]["severity"].lower())
        for node in nodes
        if node.get("test_metadata", {}).get("name") == "vocabulary_mapped"
    }
    declared = {}
    for table in load_contract().tables.values():
        for column in table.columns:
            if column.vocabulary is None:
                continue
            severity = "error" if column.vocabulary.quarantines_unmapped else "warn"
            declared[(table.name, column.name)] = (column.vocabulary.name, severity)
            model = models[f"stg_shop__{table.name}"]
            assert f"vocabulary_value('{column.name}')" in model["raw_code"], (table.name, column.name)
            # compiled: the macro looked the column's vocabulary up in the source (vocabulary_lookup)
            assert f"where vocabulary = '{column.vocabulary.name}'" in model["compiled_code"]
    assert len(declared) == 16
    assert tested == declared


LAST_TOUCH_CHANNELS = "grain = 'channel' and model = 'last_touch'"


@pytest.fixture(scope="module")
def metricflow(full_warehouse: Path) -> CLIConfiguration:
    """MetricFlow as `mf` runs it (dbt_metricflow's CLI configuration), on the full warehouse."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ECOM_WAREHOUSE_DIR", str(full_warehouse))
        patch.setenv("ECOM_AS_OF", AS_OF)
        config = CLIConfiguration()
        config.setup(dbt_profiles_path=DBT_PROJECT_DIR, dbt_project_path=DBT_PROJECT_DIR,
                     configure_file_logging=False)
        assert config.mf is not None  # connects now, while the environment names the warehouse
    return config


def rounded(rows: list[tuple]) -> list[tuple]:
    """Numbers as floats rounded to 9 places: MetricFlow's ratios and the marts' differ in the last bits."""
    return [tuple(round(float(v), 9) if isinstance(v, float | Decimal) else v for v in row) for row in rows]


def metric_rows(config: CLIConfiguration, metrics: list[str], group_by: list[str] | None = None,
                where: str | None = None) -> list[tuple]:
    request = MetricFlowQueryRequest.create(
        metric_names=metrics, group_by_names=group_by, order_by_names=group_by,
        where_constraints=[where] if where else None)
    return rounded(list(config.mf.query(request).result_df.rows))


def test_semantic_models_and_metrics_validate_and_run_on_the_warehouse(metricflow: CLIConfiguration) -> None:
    """What `mf validate-configs` checks: the semantics, then every element queried on the warehouse."""
    semantics = SemanticManifestValidator().validate_semantic_manifest(metricflow.semantic_manifest)
    assert list(semantics.all_issues) == []
    warehouse = DataWarehouseModelValidator(sql_client=metricflow.sql_client)
    checks = [warehouse.validate_semantic_models, warehouse.validate_dimensions, warehouse.validate_entities,
              warehouse.validate_simple_metrics, warehouse.validate_metrics]
    issues = [str(issue) for check in checks for issue in check(metricflow.semantic_manifest).all_issues]
    assert issues == []


def test_metrics_equal_the_hand_computed_values_and_the_marts(
    metricflow: CLIConfiguration, full_warehouse: Path
) -> None:
    (headline,) = metric_rows(metricflow, ["revenue", "orders", "customers", "aov", "repeat_purchase_rate",
                                           "customer_count", "clv", "spend"])
    # Orders that count: o1 100, o2 50, o3 60, o4 0, o5 40, o6 80 (corrected), o8 30, o10 30, of c1-c5;
    # c1 and c2 ordered on two days; spend on or before A: search 160, social 20, kol_live 10.
    assert headline[:6] == (390, 8, 5, 48.75, 0.4, 5) and headline[7] == 190
    assert [headline] == rounded(query(full_warehouse, f"""
        select sum(total_revenue), sum(order_count), count(*), sum(total_revenue) / sum(order_count),
               avg(case when frequency > 0 then 1 else 0 end), count(*), avg(predicted_clv_365d),
               (select sum(spend) from marts.attribution_channel where {LAST_TOUCH_CHANNELS})
        from marts.user_portrait"""))

    assert metric_rows(metricflow, ["revenue"], ["metric_time__month"]) == [
        (datetime(2023, 12, 1), 30), (datetime(2024, 1, 1), 180), (datetime(2024, 2, 1), 40),
        (datetime(2024, 3, 1), 140)]

    by_channel = metric_rows(metricflow, ["roas", "cpa"], ["channel", "attribution_day__model"],
                             "{{ Dimension('attribution_day__model') }} = 'last_touch'")
    assert by_channel == rounded(query(full_warehouse, f"""
        select channel, model, roas, cpa from marts.attribution_channel
        where {LAST_TOUCH_CHANNELS} order by 1"""))
    spend_by_channel = metric_rows(metricflow, ["spend"], ["channel"])
    assert spend_by_channel == rounded(query(full_warehouse, f"""
        select channel, spend from marts.attribution_channel where {LAST_TOUCH_CHANNELS} order by 1"""))
    assert {channel: spend for channel, spend in spend_by_channel if spend} == SPEND

    retention = metric_rows(metricflow, ["d1_retention", "d7_retention", "d30_retention"])
    rates = ", ".join(f"sum(day{n}_active_customers) / sum(case when day{n}_active_customers is not null "
                      "then cohort_size end)" for n in (1, 7, 30))
    assert retention == rounded(query(full_warehouse, f"select {rates} from marts.retention_daily"))
    cohorts = metric_rows(metricflow, ["cohort_retention"], ["cohort_cell__period_index"],
                          "{{ Dimension('cohort_cell__cohort_grain') }} = 'month' "
                          "and {{ Dimension('cohort_cell__cohort_dimension') }} = 'all'")
    assert cohorts == rounded(query(full_warehouse, """
        select period_index, sum(active_customers) / sum(cohort_size) from marts.cohort_retention
        where cohort_grain = 'month' and cohort_dimension = 'all' group by 1 order by 1"""))
    assert cohorts[0] == (0, 1.0) and len(cohorts) == 4  # cohorts from 2023-12, months 0 to 3
