"""A shop whose vocabulary is nothing like the demo's loads, maps through its edited seed, and is
attributed per channel; only what the model cannot interpret is quarantined.

The shop's dbt project is a copy of dbt_project/ (ECOM_DBT_PROJECT_DIR) whose seed
shop_vocabulary.csv gains the shop's own names. A tiny landing is ingested, promoted and built
(`ecom.direct_run.dbt_build`); the expected values are computed by hand in the comments next to the
data (as-of 2024-03-31, Asia/Shanghai = UTC+8, lookback 30 days, clicks only).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import pytest

from ecom.config import DBT_PROJECT_DIR, Settings
from ecom.dbt_manifest import GENERATED_DIRS, PROJECT_DIR_ENV
from ecom.direct_run import dbt_build
from ecom.ingest import ingest, promote_pending
from ecom.vocabulary import UnmappedValue, VocabularySeedError, load_vocabulary, unmapped_values

pytestmark = pytest.mark.slow(70)

AS_OF = date(2024, 3, 31)

# The shop's rows added to the demo's seed. xiaohongshu is nobody's: it stays unmapped.
SHOP_SEED_ROWS = """\
channel,baidu_sem,search
channel,shenma_sem,search
channel,douyin,social
channel,WeChat Moments,social
order_status,已完成,completed
order_status,已取消,cancelled
order_status,refunded,returned
touch_type,view,impression
touch_type,tap,click
"""

LANDING = {
    "customers/customers.csv": """\
customer_id,signup_at,acquisition_channel
c1,2024-01-01 10:00:00,douyin
c2,2024-01-01 10:00:00,baidu_sem
c3,2024-01-01 10:00:00,xiaohongshu
""",
    # o4 is cancelled (counts nowhere); on_hold (line 6) is in no group of order_status: quarantined
    "orders/orders.csv": """\
order_id,customer_id,ordered_at,total_amount,status
o1,c1,2024-03-10T02:00:00Z,100.00,已完成
o2,c2,2024-03-12T02:00:00Z,60.00,refunded
o3,c3,2024-03-15T02:00:00Z,40.00,
o4,c1,2024-03-20T02:00:00Z,500.00,已取消
o5,c2,2024-03-21T02:00:00Z,30.00,on_hold
""",
    # journeys: o1 = [t1 search, t2 social] (t3 is an impression); o2 = [t4 xiaohongshu];
    # o3 = [t5 search, t6 social] (Baidu_SEM and TAP match case-insensitively)
    "touchpoints/touchpoints.csv": """\
touchpoint_id,customer_id,channel,occurred_at,touch_type
t1,c1,baidu_sem,2024-03-01T02:00:00Z,tap
t2,c1,WeChat Moments,2024-03-05T02:00:00Z,tap
t3,c1,douyin,2024-03-08T02:00:00Z,view
t4,c2,xiaohongshu,2024-03-11T02:00:00Z,
t5,c3,Baidu_SEM,2024-03-14T00:00:00Z,tap
t6,c3,douyin,2024-03-14T12:00:00Z,TAP
""",
    # search spend is baidu_sem + shenma_sem: 50 + 30
    "marketing_spend/marketing_spend.csv": """\
spend_date,channel,spend
2024-03-01,baidu_sem,50.00
2024-03-01,shenma_sem,30.00
2024-03-01,xiaohongshu,20.00
""",
}


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, Path]]:
    """The shop's landing ingested, promoted and built with its own dbt project (seed edited)."""
    root = tmp_path_factory.mktemp("shop_vocabulary")
    project = root / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns(*GENERATED_DIRS))
    with open(project / "seeds" / "shop_vocabulary.csv", "a", encoding="utf-8") as seed:
        seed.write(SHOP_SEED_ROWS)
    settings = Settings(landing_dir=root / "landing", warehouse_dir=root / "warehouse")
    for relative, text in LANDING.items():
        (settings.landing_dir / relative).parent.mkdir(parents=True, exist_ok=True)
        (settings.landing_dir / relative).write_text(text, encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(PROJECT_DIR_ENV, str(project))
        ingest(settings, "b1")
        promote_pending(settings)
        dbt_build(settings, AS_OF, "vocabulary")
        yield settings, project


def query(settings: Settings, sql: str) -> list[tuple]:
    with duckdb.connect(str(settings.warehouse_db), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_every_row_loads_but_the_status_the_model_cannot_interpret(shop) -> None:
    settings, project = shop
    files = query(
        settings, "select path, rows_read, rows_loaded, rows_rejected from audit.load_manifest order by 1"
    )
    assert files == [
        ("customers/customers.csv", 3, 3, 0),
        ("marketing_spend/marketing_spend.csv", 3, 3, 0),
        ("orders/orders.csv", 5, 4, 1),
        ("touchpoints/touchpoints.csv", 6, 6, 0),
    ]
    seed = project / "seeds" / "shop_vocabulary.csv"
    assert query(settings, "select path, line, column_name, raw_value, reason from audit.rejects") == [
        ("orders/orders.csv", 6, "status", "on_hold",
         f"orders.status value not mapped in {seed} (vocabulary order_status): "
         "map it there to one of paid, shipped, completed, returned, cancelled"),
    ]


def test_staging_holds_the_groups_and_keeps_unmapped_names(shop) -> None:
    settings, _ = shop
    orders = query(settings, "select order_id, status, is_cancelled from staging.stg_shop__orders order by 1")
    assert orders == [
        ("o1", "completed", False), ("o2", "returned", False), ("o3", "completed", False),
        ("o4", "cancelled", True),
    ]
    assert query(settings, "select touchpoint_id, channel, touch_type from staging.stg_shop__touchpoints "
                           "order by 1") == [
        ("t1", "search", "click"), ("t2", "social", "click"), ("t3", "social", "impression"),
        ("t4", "xiaohongshu", "click"), ("t5", "search", "click"), ("t6", "social", "click"),
    ]
    assert query(settings, "select channel, spend from staging.stg_shop__marketing_spend order by 1") == [
        ("search", 80), ("xiaohongshu", 20),
    ]


def test_attribution_per_channel_on_the_shops_channel_names(shop) -> None:
    settings, _ = shop
    rows = query(settings, """
        select model, channel, conversions, revenue, spend, roas, cpa from marts.attribution_channel
        where grain = 'channel' and model in ('first_touch', 'last_touch', 'linear') and conversions > 0
        order by model, channel""")
    # first_touch: o1, o3 -> search (140), o2 -> xiaohongshu; last_touch: o1, o3 -> social; linear:
    # half of o1 and of o3 each to search and social (70 each). ROAS = revenue / spend, CPA = spend /
    # conversions; social spent 0 (spend landed, none on it).
    assert rows == [
        ("first_touch", "search", 2.0, 140.0, 80, 1.75, 40.0),
        ("first_touch", "xiaohongshu", 1.0, 60.0, 20, 3.0, 20.0),
        ("last_touch", "social", 2.0, 140.0, 0, None, 0.0),
        ("last_touch", "xiaohongshu", 1.0, 60.0, 20, 3.0, 20.0),
        ("linear", "search", 1.0, 70.0, 80, 0.875, 80.0),
        ("linear", "social", 1.0, 70.0, 0, None, 0.0),
        ("linear", "xiaohongshu", 1.0, 60.0, 20, 3.0, 20.0),
    ]


def test_the_portrait_and_cohorts_read_the_groups(shop) -> None:
    settings, _ = shop
    # c1: o1 completed (o4 cancelled counts nowhere); c2: o2 refunded = returned; c3: empty = completed
    portrait = query(settings, "select customer_id, order_count, total_revenue, return_rate "
                               "from marts.user_portrait order by 1")
    assert portrait == [("c1", 1, 100, 0.0), ("c2", 1, 60, 1.0), ("c3", 1, 40, 0.0)]
    cuts = query(settings, """
        select distinct cohort_value from marts.cohort_retention
        where cohort_dimension = 'acquisition_channel' order by 1""")
    assert cuts == [("search",), ("social",), ("xiaohongshu",)]


def test_unmapped_values_are_listed_by_table_and_column(shop) -> None:
    settings, project = shop
    vocabulary = load_vocabulary(project / "seeds" / "shop_vocabulary.csv")
    with duckdb.connect(str(settings.warehouse_db), read_only=True) as con:
        assert unmapped_values(con, "raw", vocabulary) == [
            UnmappedValue("customers", "acquisition_channel", "xiaohongshu", 1),
            UnmappedValue("marketing_spend", "channel", "xiaohongshu", 1),
            UnmappedValue("touchpoints", "channel", "xiaohongshu", 1),
        ]
    results = json.loads((settings.warehouse_dir / "dbt" / "target" / "run_results.json").read_text())
    tests = {r["unique_id"].split(".")[2]: (r["status"], r["failures"]) for r in results["results"]
             if r["unique_id"].startswith("test.ecom.source_vocabulary_mapped_")}
    warned = {name: outcome for name, outcome in tests.items() if outcome != ("pass", 0)}
    assert warned == {
        "source_vocabulary_mapped_shop_customers_acquisition_channel__channel": ("warn", 1),
        "source_vocabulary_mapped_shop_marketing_spend_channel__channel": ("warn", 1),
        "source_vocabulary_mapped_shop_touchpoints_channel__channel": ("warn", 1),
    }
    assert len(tests) == 16  # every vocabulary column of the contract ran its test


def test_mapping_a_value_in_the_seed_remaps_rows_already_built(shop) -> None:
    """The incremental staging model re-derives t4 (outside the late-arrival window, loaded before its
    last build) because the vocabulary changed."""
    settings, project = shop
    with open(project / "seeds" / "shop_vocabulary.csv", "a", encoding="utf-8") as seed:
        seed.write("channel,xiaohongshu,social\n")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(PROJECT_DIR_ENV, str(project))
        dbt_build(settings, AS_OF, "vocabulary")
    t4 = query(settings, "select channel from staging.stg_shop__touchpoints where touchpoint_id = 't4'")
    assert t4 == [("social",)]
    assert query(settings, """
        select channel, conversions, revenue from marts.attribution_channel
        where grain = 'channel' and model = 'last_touch' and conversions > 0""") == [("social", 3.0, 200.0)]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("colour,red,red", "line 66: 'colour' is not a vocabulary of the raw contract"),
        ("order_status,done,finished",
         "line 66: 'finished' is not a group of order_status the model interprets"),
        ("channel,search,social",
         "line 66: channel value 'search' maps to 'social', but line 5 maps it to 'search'"),
        ("touch_type,swipe,", "line 66: canonical_value is empty"),
    ],
)
def test_a_seed_the_model_cannot_use_is_refused_naming_its_line(
    tmp_path: Path, row: str, message: str
) -> None:
    seed = tmp_path / "shop_vocabulary.csv"
    demo = (DBT_PROJECT_DIR / "seeds" / "shop_vocabulary.csv").read_text(encoding="utf-8")
    seed.write_text(demo + row + "\n", encoding="utf-8")
    with pytest.raises(VocabularySeedError, match=message):
        load_vocabulary(seed)


def test_an_empty_status_is_quarantined_when_the_seed_does_not_map_it(tmp_path: Path) -> None:
    """Without the demo's row `order_status,,completed`, an empty status (or a file without the
    column) is as uninterpretable as an unknown one."""
    project = tmp_path / "project"
    (project / "seeds").mkdir(parents=True)
    demo = (DBT_PROJECT_DIR / "seeds" / "shop_vocabulary.csv").read_text(encoding="utf-8")
    assert "order_status,,completed\n" in demo
    (project / "seeds" / "shop_vocabulary.csv").write_text(demo.replace("order_status,,completed\n", ""),
                                                           encoding="utf-8")
    settings = Settings(landing_dir=tmp_path / "landing", warehouse_dir=tmp_path / "warehouse")
    (settings.landing_dir / "orders").mkdir(parents=True)
    header = "order_id,customer_id,ordered_at,total_amount"
    (settings.landing_dir / "orders" / "a.csv").write_text(
        f"{header},status\no1,c1,2024-03-10 10:00:00,1.00,Paid\no2,c1,2024-03-10 10:00:00,1.00,  \n",
        encoding="utf-8",
    )
    (settings.landing_dir / "orders" / "b.csv").write_text(f"{header}\no3,c1,2024-03-10 10:00:00,1.00\n",
                                                           encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(PROJECT_DIR_ENV, str(project))
        result = ingest(settings, "b1")
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (3, 1, 2)
    reason = (f"orders.status value not mapped in {project / 'seeds' / 'shop_vocabulary.csv'} (vocabulary "
              "order_status): map it there to one of paid, shipped, completed, returned, cancelled")
    rejects = query(settings, "select path, line, column_name, raw_value, reason from audit.rejects "
                              "order by 1")
    assert rejects == [
        ("orders/a.csv", 3, "status", "  ", reason),
        ("orders/b.csv", 2, "status", None, reason),
    ]
