"""The mart quality gate on tiny, hand-computed marts: publish readiness, reconciliation, drift.

The marts are created from their dbt contracts (the manifest's columns and types); the rows are
written by name, so a column a test does not need stays null. Row and column rules are dbt's
(tests/test_dbt_project.py breaks a built mart and sees its test fail).
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest
import yaml

from ecom.config import Settings
from ecom.dbt_manifest import attribution_models, manifest_path, mart_contracts
from ecom.publish import PUBLISH_LOG, PUBLISH_LOG_DDL
from ecom.quality import run_mart_gate
from ecom.quality.config import CONFIG_ENV, QUALITY_CONFIG_FILE
from ecom.sql import identifier

pytestmark = pytest.mark.slow(40)

AS_OF = date(2026, 2, 28)

MODELS = attribution_models()
CONTRACTS = mart_contracts(manifest_path())

# As of 2026-02-28, four orders worth 45.50 in all: c1 on Jan 3 (10.00) and Feb 10 (20.00), c2 on Jan 20
# (15.50), c3 a free purchase on Feb 1 (0.00). Columns as the dbt contract of the marts has them.
USER_PORTRAIT = """
insert into marts.user_portrait by name
select * from (values
    ('c1', date '2026-01-03', date '2026-02-10', 2, 30.00, 15.00, 1, 38, 56, 20.00, 18,
     5, 5, 5, 5, 'champions', 'active', date '2025-12-30', 'F', 1, 'Zhejiang', 'search'),
    ('c2', date '2026-01-20', date '2026-01-20', 1, 15.50, 15.50, 0, 0, 39, 0.00, 39,
     3, 1, 4, 3, 'promising', 'active', null, 'M', 2, 'Jiangsu', 'social'),
    ('c3', date '2026-02-01', date '2026-02-01', 1, 0.00, 0.00, 0, 0, 27, 0.00, 27,
     4, 1, 1, 1, 'new_customers', 'new', date '2026-01-31', 'U', null, null, 'direct')
) as t(customer_id, first_order_date, last_order_date, order_count, total_revenue, avg_order_value,
       frequency, recency_days, tenure_days, monetary_value, days_since_last_order, r_score, f_score,
       m_score, fm_score, rfm_segment, lifecycle_stage, signup_date, gender, city_tier, province,
       acquisition_channel)
"""
# January cohort: c1 and c2 (25.50 in January, c1's 20.00 in February); February cohort: c3 (0.00).
COHORT_RETENTION = """
insert into marts.cohort_retention by name
select * from (values
    ('month', 'all', 'all', date '2026-01-01', 0, date '2026-01-01', date '2026-01-31', true, 2, 2, 1.0, 2,
     1.0, 2, 25.50, 1.0, 25.50, 12.75),
    ('month', 'all', 'all', date '2026-01-01', 1, date '2026-02-01', date '2026-02-28', true, 2, 1, 0.5, 1,
     0.5, 1, 20.00, 0.7843, 45.50, 22.75),
    ('month', 'all', 'all', date '2026-02-01', 0, date '2026-02-01', date '2026-02-28', true, 1, 1, 1.0, 1,
     1.0, 1, 0.00, null, 0.00, 0.0)
) as t(cohort_grain, cohort_dimension, cohort_value, cohort_start, period_index, period_start, period_end,
       is_complete, cohort_size, active_customers, retention_rate, rolling_active_customers,
       rolling_retention_rate, orders, revenue, revenue_retention_rate, cumulative_revenue,
       cumulative_revenue_per_customer)
"""
# c1 (Jan 3) and c2 (Jan 20) are past their 30-day window and neither came back within it (c1 after
# 38 days); nobody is past 60 days. c3's first order (Feb 1) is less than 30 days before the as-of date.
COHORT_REPEAT_PURCHASE = """
insert into marts.cohort_repeat_purchase by name
select * from (values
    ('month', 'all', 'all', date '2026-01-01', 2, 2, 0, 0.0, 0, 0, null, 0, 0, null),
    ('month', 'all', 'all', date '2026-02-01', 1, 0, 0, null, 0, 0, null, 0, 0, null)
) as t(cohort_grain, cohort_dimension, cohort_value, cohort_start, cohort_size,
       eligible_customers_30d, repeat_customers_30d, repeat_rate_30d,
       eligible_customers_60d, repeat_customers_60d, repeat_rate_60d,
       eligible_customers_90d, repeat_customers_90d, repeat_rate_90d)
"""
# c1 signed up Dec 30 and first ordered on day 4; c3 signed up Jan 31 and ordered the next day.
RETENTION_DAILY = """
insert into marts.retention_daily by name
select * from (values
    (date '2025-12-30', 1, 'orders', 0, 0.0, 0, 0.0, 0, 0.0),
    (date '2026-01-31', 1, 'orders', 1, 1.0, 0, 0.0, null, null)
) as t(signup_date, cohort_size, activity_source, day1_active_customers, day1_retention_rate,
       day7_active_customers, day7_retention_rate, day30_active_customers, day30_retention_rate)
"""
# January: c1 and c2 new. February: c3 new, c1 retained, c2 churned.
GROWTH_ACCOUNTING = """
insert into marts.growth_accounting by name
select * from (values
    (date '2026-01-01', true, 2, 0, 2, 0, 0, 0, null),
    (date '2026-02-01', true, 2, 2, 1, 1, 0, 1, 1.0)
) as t(activity_month, is_complete, active_customers, previous_active_customers, new_customers,
       retained_customers, won_back_customers, churned_customers, quick_ratio)
"""
# Four conversions worth 45.50: o1 (c1, Jan 3, 10.00, touched by search), o2 (c1, Feb 10, 20.00, social),
# o3 (c2, Jan 20, 15.50, search, campaign k1), o4 (c3, Feb 1, 0.00, no touch: direct). One touch each,
# so every model credits each conversion wholly to it. The other attribution marts derive from this.
ATTRIBUTION_TOUCHPOINT = """
insert into marts.attribution_touchpoint by name
select model, 'all_orders' as conversion_type, order_id, order_date, order_date::timestamp as ordered_at,
       order_revenue, 1 as touch_position, 1 as touch_count, touchpoint_id, channel, campaign_id,
       'click' as touch_type, identity_source, order_date::timestamp as touched_at, 1.0 as credit,
       order_revenue::double as revenue_credit
from (values
    ('o1', date '2026-01-03', 10.00, 't1', 'search', null, 'signed_in'),
    ('o2', date '2026-02-10', 20.00, 't2', 'social', null, 'stitched'),
    ('o3', date '2026-01-20', 15.50, 't3', 'search', 'k1', 'signed_in'),
    ('o4', date '2026-02-01', 0.00, null, 'direct', null, null)
) as t(order_id, order_date, order_revenue, touchpoint_id, channel, campaign_id, identity_source)
cross join (select unnest($models::varchar[]) as model)
"""
ATTRIBUTION_CHANNEL = """
insert into marts.attribution_channel by name
select grain, model, 'all_orders' as conversion_type, channel,
       case when grain = 'campaign' then campaign_id end as campaign_id,
       sum(credit) as conversions, sum(revenue_credit) as revenue,
       case when channel = 'direct' then 0.00 else 20.00 end as spend,
       case when channel = 'direct' then null else sum(revenue_credit) / 20.0 end as roas,
       case when channel = 'direct' then 0.0 else 20.0 / sum(credit) end as cpa
from marts.attribution_touchpoint
cross join (values ('channel'), ('campaign')) as g(grain)
group by grain, model, channel, case when grain = 'campaign' then campaign_id end
"""
ATTRIBUTION_DAILY = """
insert into marts.attribution_daily by name
select order_date as activity_date, model, channel, sum(credit) as conversions,
       sum(revenue_credit) as revenue, null::decimal(18, 2) as spend, null::double as roas,
       null::double as cpa
from marts.attribution_touchpoint
group by order_date, model, channel
"""
CONVERSION_PATHS = """
insert into marts.conversion_paths by name
select * from (values
    (1, 'search', 3, 2, 2 / 3, 1.0, 0.0, 25.50),
    (2, 'social', 1, 1, 1.0, 1.0, 0.0, 20.00)
) as t(path_rank, path, journeys, conversions, conversion_rate, avg_path_length, avg_days_to_conversion,
       revenue)
"""

PORTRAIT_MARTS = """
insert into marts.user_tags by name
select * from (values ('c1', 'basic', 'tenure_band', 'under_3_months', date '2026-02-28'),
                      ('c1', 'value', 'lifecycle_stage', 'active', date '2026-02-28'))
    as t(customer_id, tag_group, tag, value, as_of_date);
"""

# attribution_channel's dbt meta.requires_sources have landed (the gate only asks whether they exist).
RAW_LANDED = """
create schema raw;
create table raw.orders (order_id varchar);
create table raw.touchpoints (touchpoint_id varchar);
"""


def create_from_contract(con: duckdb.DuckDBPyConnection, mart: str) -> None:
    columns = ", ".join(f"{identifier(name)} {kind}" for name, kind in CONTRACTS[mart].columns.items())
    con.execute(f"create table marts.{mart} ({columns})")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    with duckdb.connect(str(settings.warehouse_db)) as con:
        con.execute(RAW_LANDED)
        con.execute("create schema marts")
        for mart in CONTRACTS:
            create_from_contract(con, mart)
        for dml in (USER_PORTRAIT, COHORT_RETENTION, COHORT_REPEAT_PURCHASE, RETENTION_DAILY,
                    GROWTH_ACCOUNTING, ATTRIBUTION_TOUCHPOINT, ATTRIBUTION_CHANNEL, ATTRIBUTION_DAILY,
                    CONVERSION_PATHS, PORTRAIT_MARTS):
            con.execute(dml, {"models": MODELS} if "$models" in dml else None)
    return settings


def change(settings: Settings, sql: str) -> None:
    with duckdb.connect(str(settings.warehouse_db)) as con:
        con.execute(sql)


def published(settings: Settings, *runs: tuple[str, dict[str, int]]) -> None:
    """A serving db whose publish log holds `runs` (run id, rows per mart), published in that order."""
    with duckdb.connect(str(settings.serving_db)) as con:
        con.execute("create schema meta")
        con.execute(PUBLISH_LOG_DDL)
        for day, (run_id, rows) in enumerate(runs, start=1):
            con.executemany(
                f"insert into {PUBLISH_LOG} values (?, ?, ?, ?, ?, null)",
                [[run_id, AS_OF, datetime(2026, 2, day), mart, count] for mart, count in rows.items()],
            )


def reconciliation(result) -> list:
    return [c for c in result.checks if c.suite == "marts_gate.attribution_reconciliation"]


def test_consistent_marts_pass_and_every_result_is_recorded(settings):
    result = run_mart_gate(settings, "marts-ok", AS_OF)

    assert result.passed, result.describe()
    assert result.warnings == []
    assert result.notes == ["mart drift not judged: nothing has been published yet"]
    assert {c.column for c in reconciliation(result)} == {
        "credit_rows", "conversions_difference", "revenue_difference", "conversions_not_summing_to_one"
    }
    readiness = [(c.table, c.check) for c in result.checks if c.suite == "marts_gate.publish_readiness"]
    checks = ("mart_exists", "contract_columns", "personal_columns")
    assert sorted(readiness) == sorted((mart, check) for mart in CONTRACTS for check in checks)
    assert len(CONTRACTS) == 14
    with duckdb.connect(str(settings.warehouse_db)) as con:
        recorded = con.execute(
            "select count(*), count(distinct suite), bool_and(success), min(as_of) "
            "from audit.validation_results "
            "where run_id = 'marts-ok' and gate = 'mart'"
        ).fetchall()
    # readiness (3 per mart), reconciliation (4 expectations)
    assert recorded == [(3 * 14 + 4, 2, True, AS_OF)]
    assert result.data_docs_index is not None and result.data_docs_index.is_file()


def test_attribution_conversions_not_matching_orders_fail(settings):
    change(
        settings,
        "update marts.attribution_channel set conversions = 0.5 "
        "where grain = 'campaign' and model = 'shapley' and channel = 'social'",
    )

    result = run_mart_gate(settings, "marts-conversions", AS_OF)

    assert not result.passed
    [error] = result.errors
    assert (error.table, error.column) == ("attribution", "conversions_difference")
    assert error.message.endswith(
        "fails on 1 row(s): [conversions_difference=-0.5, mart='attribution_channel', grain='campaign', "
        "model='shapley', credit_rows=4, conversions=3.5, expected_conversions=4.0, revenue=45.5, "
        "expected_revenue=45.5]"
    )


def test_attribution_revenue_mismatch_and_missing_model_fail(settings):
    change(
        settings,
        "update marts.attribution_touchpoint set revenue_credit = 0.0 "
        "where model = 'markov' and order_id = 'o2'",
    )
    change(settings, "delete from marts.attribution_daily where model = 'time_decay'")

    result = run_mart_gate(settings, "marts-revenue", AS_OF)

    failing = {(c.column, row.split(", ")[1], row.split(", ")[3])
               for c in result.errors for row in c.message.split(" row(s): ")[1].split("], [")}
    assert failing == {
        ("credit_rows", "mart='attribution_daily'", "model='time_decay'"),
        ("conversions_difference", "mart='attribution_daily'", "model='time_decay'"),
        ("revenue_difference", "mart='attribution_daily'", "model='time_decay'"),
        ("revenue_difference", "mart='attribution_touchpoint'", "model='markov'"),
    }


def test_touch_credits_moved_between_conversions_fail_although_the_totals_match(settings):
    # half of o1's credit moved to a second touch of o2: o1 sums to 0.5, o2 to 1.5, the model to 4
    change(settings, """
        update marts.attribution_touchpoint set credit = 0.5 where model = 'time_decay' and order_id = 'o1';
        insert into marts.attribution_touchpoint
        select * replace ('t9' as touchpoint_id, 0.5 as credit, 0.0 as revenue_credit)
        from marts.attribution_touchpoint where model = 'time_decay' and order_id = 'o2'""")

    result = run_mart_gate(settings, "marts-shares", AS_OF)

    [error] = result.errors
    assert error.column == "conversions_not_summing_to_one"
    assert "[conversions_not_summing_to_one=2, mart='attribution_touchpoint', grain='touchpoint', " \
           "model='time_decay', credit_rows=5, conversions=4.0, " in error.message


def test_empty_attribution_fails_while_touchpoints_have_landed_and_there_are_orders(settings):
    change(settings, "delete from marts.attribution_channel")

    result = run_mart_gate(settings, "marts-attribution-empty", AS_OF)

    assert not result.passed
    assert {(c.table, c.suite) for c in result.errors} == {
        ("attribution", "marts_gate.attribution_reconciliation")
    }
    missing = next(c for c in result.errors if c.column == "credit_rows")
    # both grains of every model
    assert f"fails on {2 * len(MODELS)} row(s)" in missing.message
    first = f"[credit_rows=0, mart='attribution_channel', grain='campaign', model='{sorted(MODELS)[0]}', "
    assert first in missing.message


def test_a_model_dropped_from_every_mart_fails_reconciliation(settings):
    # the marts as they were before a model joined the dbt var attribution_models
    dropped = MODELS[-1]
    marts = ("attribution_channel", "attribution_touchpoint", "attribution_daily")
    change(settings, "; ".join(f"delete from marts.{mart} where model = '{dropped}'" for mart in marts))

    result = run_mart_gate(settings, "marts-model-dropped", AS_OF)

    missing = next(c for c in result.errors if c.column == "credit_rows")
    assert "fails on 4 row(s)" in missing.message  # channel, campaign, touchpoint and day
    assert {row.split(", ")[3] for row in missing.message.split(" row(s): ")[1].split("], [")} == {
        f"model='{dropped}'"
    }


def test_empty_attribution_passes_while_touchpoints_have_not_landed(settings):
    change(settings, "delete from marts.attribution_channel; drop table raw.touchpoints")

    result = run_mart_gate(settings, "marts-no-touchpoints", AS_OF)

    assert result.passed, result.describe()
    assert not reconciliation(result)
    assert result.notes[0] == (
        "attribution reconciliation skipped: raw.touchpoints has not landed, so dbt builds "
        "marts.attribution_channel, marts.attribution_touchpoint, marts.attribution_daily empty "
        "(their meta.requires_sources)"
    )
    assert "note: attribution reconciliation skipped: raw.touchpoints" in result.describe()


def test_empty_attribution_reconciles_when_there_are_no_orders(settings):
    change(settings, "delete from marts.attribution_channel; delete from marts.attribution_touchpoint; "
                     "delete from marts.attribution_daily; delete from marts.user_portrait")

    result = run_mart_gate(settings, "marts-no-orders", AS_OF)

    assert [(c.column, c.success) for c in reconciliation(result)] == [
        ("credit_rows", True),
        ("conversions_difference", True),
        ("revenue_difference", True),
        ("conversions_not_summing_to_one", True),
    ]
    assert result.passed


def test_first_orders_reconcile_with_each_customers_first_order(settings):
    # conversion_type first_orders: c1's Feb order o2 is no conversion; 3 conversions worth 25.50
    change(settings, """
        create schema intermediate;
        create table intermediate.int_orders_filtered as select * from (values
            ('o1', 'c1', timestamp '2026-01-03 02:00', 10.00),
            ('o2', 'c1', timestamp '2026-02-10 02:00', 20.00),
            ('o3', 'c2', timestamp '2026-01-20 02:00', 15.50),
            ('o4', 'c3', timestamp '2026-02-01 02:00', 0.00)
        ) as t(order_id, customer_id, ordered_at_utc, total_amount);
        delete from marts.attribution_touchpoint where order_id = 'o2';
        update marts.attribution_touchpoint set conversion_type = 'first_orders';
        delete from marts.attribution_channel;
        insert into marts.attribution_channel by name
        select grain, model, 'first_orders' as conversion_type, channel, sum(credit) as conversions,
               sum(revenue_credit) as revenue
        from marts.attribution_touchpoint cross join (values ('channel'), ('campaign')) as g(grain)
        group by grain, model, channel;
        delete from marts.attribution_daily where channel = 'social';
    """)

    result = run_mart_gate(settings, "marts-first-orders", AS_OF)

    assert result.passed, result.describe()
    change(settings, "update marts.attribution_channel set conversion_type = 'all_orders'")
    result = run_mart_gate(settings, "marts-first-orders-as-all", AS_OF)
    assert {c.column for c in result.errors} == {"conversions_difference", "revenue_difference"}


def test_missing_mart_fails(settings):
    change(settings, "drop table marts.cohort_retention")

    result = run_mart_gate(settings, "marts-missing", AS_OF)

    assert [(c.table, c.check, c.message) for c in result.errors] == [
        (
            "cohort_retention",
            "mart_exists",
            "cohort_retention: relation marts.cohort_retention does not exist (did the dbt build run?)",
        )
    ]


def test_without_a_dbt_manifest_nothing_is_ready_to_publish(settings, tmp_path, monkeypatch):
    monkeypatch.setenv("ECOM_DBT_PROJECT_DIR", str(tmp_path / "no_project"))

    result = run_mart_gate(settings, "marts-no-manifest", AS_OF)

    [error] = result.errors
    assert (error.table, error.check) == ("marts", "manifest_marts")
    assert error.message == (
        f"the dbt manifest {tmp_path / 'no_project' / 'target' / 'manifest.json'} lists no mart "
        "(python -m ecom.dbt_manifest builds it)"
    )


def test_columns_that_differ_from_the_dbt_contract_fail(settings):
    change(settings, """
        alter table marts.growth_accounting drop column quick_ratio;
        alter table marts.growth_accounting add column churn_ratio double;
        alter table marts.segment_summary alter customers type integer""")

    result = run_mart_gate(settings, "marts-contract", AS_OF)

    assert [(c.table, c.check, c.message) for c in result.errors] == [
        ("growth_accounting", "contract_columns",
         "growth_accounting: columns differ from its dbt contract: missing quick_ratio; "
         "not in the contract: churn_ratio"),
        ("segment_summary", "contract_columns",
         "segment_summary: columns differ from its dbt contract: customers is INTEGER, "
         "the contract says bigint"),
    ]


def test_personal_data_fails(settings):
    change(settings, "alter table marts.user_portrait add column email varchar")

    result = run_mart_gate(settings, "marts-portrait", AS_OF)

    assert sorted((c.table, c.check) for c in result.errors) == [
        ("user_portrait", "contract_columns"),  # it is not in the contract either
        ("user_portrait", "personal_columns"),
    ]
    [error] = [c for c in result.errors if c.check == "personal_columns"]
    assert (error.table, error.column) == ("user_portrait", "email")
    assert error.message == (
        "user_portrait: column 'email' is named after a personal column of the raw contract "
        "(customers.email); personal data never reaches a mart"
    )


def test_personal_words_in_column_names_fail_in_any_case(settings):
    change(settings, "alter table marts.attribution_channel add column customer_email varchar")
    change(settings, "alter table marts.cohort_retention add column Phone_Number varchar")

    result = run_mart_gate(settings, "marts-personal-words", AS_OF)

    assert [(c.table, c.column, c.message) for c in result.errors if c.check == "personal_columns"] == [
        (
            "attribution_channel",
            "customer_email",
            "attribution_channel: column 'customer_email' is named after a personal column of the raw "
            "contract (customers.email); personal data never reaches a mart",
        ),
        (
            "cohort_retention",
            "Phone_Number",
            "cohort_retention: column 'Phone_Number' is named after a personal column of the raw "
            "contract (customers.phone); personal data never reaches a mart",
        ),
    ]


@pytest.fixture
def drift_settings(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """quality.yml with mart_drift judging marts that served at least 10 rows."""
    document = yaml.safe_load(QUALITY_CONFIG_FILE.read_text(encoding="utf-8"))
    document["mart_drift"] |= {"min_baseline_rows": 10, "min_ratio": 0.5, "max_ratio": 3.0}
    path = tmp_path / "quality.yml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    monkeypatch.setenv(CONFIG_ENV, str(path))
    return settings


def test_marts_that_lost_or_gained_most_rows_since_the_last_publish_warn(drift_settings):
    # now: attribution_touchpoint 4 x 7 = 28 rows, user_portrait 3, cohort_retention 3, conversion_paths 2
    published(drift_settings, ("run-1", {"user_portrait": 1000}), ("run-2", {
        "attribution_touchpoint": 56,  # half: judged, passes
        "user_portrait": 12,  # a quarter: warning
        "conversion_paths": 9,  # below 10 rows: not judged
        "cohort_retention": 0,  # not judged
    }))
    change(drift_settings, "insert into marts.growth_accounting by name "  # 2 + 48 rows
                           "select range::date as activity_month "
                           "from range(date '2020-01-01', date '2024-01-01', interval 1 month)")

    result = run_mart_gate(drift_settings, "marts-drift", AS_OF)

    assert result.passed, result.describe()
    assert result.notes == []
    drift = sorted((c.table, c.success, c.severity)
                   for c in result.checks if c.suite == "marts_gate.mart_drift")
    assert drift == [("attribution_touchpoint", True, "warning"), ("user_portrait", False, "warning")]
    [warning] = result.warnings
    assert warning.message == (
        "user_portrait: 3 rows, 12 when run run-2 published: 0.25 times as many, outside [0.5, 3.0] "
        "(quality.yml mart_drift)"
    )
    published_growth = {"growth_accounting": 16}  # now 50: 3.1 times as many
    drift_settings.serving_db.unlink()
    published(drift_settings, ("run-3", published_growth))
    [warning] = run_mart_gate(drift_settings, "marts-growth", AS_OF).warnings
    assert warning.table == "growth_accounting" and "3.12 times as many" in warning.message
