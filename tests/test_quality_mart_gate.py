"""The mart quality gate on tiny, hand-computed marts."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from ecom.config import Settings
from ecom.mart_docs import mart_models
from ecom.quality import run_mart_gate
from ecom.quality.mart_frames import ATTRIBUTION_MARTS, ATTRIBUTION_MODELS, ATTRIBUTION_REQUIRED_RAW_TABLES

AS_OF = date(2026, 2, 28)

# As of 2026-02-28, four orders worth 45.50 in all: c1 on Jan 3 (10.00) and Feb 10 (20.00), c2 on Jan 20
# (15.50), c3 a free purchase on Feb 1 (0.00). Columns as the dbt contract of the marts has them.
USER_PORTRAIT = """
create table marts.user_portrait as
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
create table marts.cohort_retention as
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
create table marts.cohort_repeat_purchase as
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
create table marts.retention_daily as
select * from (values
    (date '2025-12-30', 1, 'orders', 0, 0.0, 0, 0.0, 0, 0.0),
    (date '2026-01-31', 1, 'orders', 1, 1.0, 0, 0.0, null, null)
) as t(signup_date, cohort_size, activity_source, day1_active_customers, day1_retention_rate,
       day7_active_customers, day7_retention_rate, day30_active_customers, day30_retention_rate)
"""
# January: c1 and c2 new. February: c3 new, c1 retained, c2 churned.
GROWTH_ACCOUNTING = """
create table marts.growth_accounting as
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
create table marts.attribution_touchpoint as
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
create table marts.attribution_channel as
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
create table marts.attribution_daily as
select order_date as activity_date, model, channel, sum(credit) as conversions,
       sum(revenue_credit) as revenue, null::decimal(18, 2) as spend, null::double as roas,
       null::double as cpa
from marts.attribution_touchpoint
group by order_date, model, channel
"""
CONVERSION_PATHS = """
create table marts.conversion_paths as
select * from (values
    (1, 'search', 3, 2, 2 / 3, 1.0, 0.0, 25.50),
    (2, 'social', 1, 1, 1.0, 1.0, 0.0, 20.00)
) as t(path_rank, path, journeys, conversions, conversion_rate, avg_path_length, avg_days_to_conversion,
       revenue)
"""

# The portrait's tag columns (all tags absent here except the tenure band) and its other marts, empty.
PORTRAIT_TAGS = """
alter table marts.user_portrait add column tenure_band varchar default 'under_3_months';
alter table marts.user_portrait add column as_of_date date default date '2026-02-28';
""" + "".join(
    f"alter table marts.user_portrait add column {column} {kind};\n"
    for column, kind in (
        ("age_band", "varchar"), ("city", "varchar"), ("region", "varchar"),
        ("order_frequency_band", "varchar"), ("aov_band", "varchar"), ("spend_band", "varchar"),
        ("top_category", "varchar"), ("top_brand", "varchar"),
        ("preferred_payment_method", "varchar"), ("uses_instalments", "boolean"),
        ("promotion_order_share", "double"), ("promotion_sensitive", "boolean"), ("return_rate", "double"),
        ("main_device", "varchar"), ("main_platform", "varchar"), ("active_hour_band", "varchar"),
        ("active_day_type", "varchar"), ("browse_to_buy_ratio", "double"), ("views_per_purchase", "double"),
        ("is_researcher", "boolean"), ("search_session_share", "double"), ("sessions_7d", "integer"),
        ("sessions_30d", "integer"), ("sessions_90d", "integer"), ("active_days_7d", "integer"),
        ("active_days_30d", "integer"), ("active_days_90d", "integer"),
        ("avg_session_dwell_seconds", "double"),
        ("cart_abandonment_rate", "double"), ("engagement_level", "varchar"), ("review_count", "integer"),
        ("avg_rating", "double"), ("negative_review_share", "double"), ("reviewer_type", "varchar"),
        ("shares_sent", "integer"), ("friends_referred", "integer"), ("group_buys_joined", "integer"),
        ("social_role", "varchar"), ("instalments_due", "integer"), ("overdue_rate", "double"),
        ("credit_tier", "varchar"), ("p_alive", "double"), ("expected_purchases_90d", "double"),
        ("expected_order_value", "double"), ("predicted_clv_365d", "double"), ("value_tier", "varchar"),
        ("churn_risk", "varchar"),
    )
)
PORTRAIT_MARTS = """
create table marts.user_tags (
    customer_id varchar, tag_group varchar, tag varchar, value varchar, as_of_date date);
insert into marts.user_tags values ('c1', 'basic', 'tenure_band', 'under_3_months', date '2026-02-28'),
    ('c1', 'value', 'lifecycle_stage', 'active', date '2026-02-28');
create table marts.segment_summary (dimension varchar, segment varchar, customers bigint,
    customer_share double, revenue decimal(18, 2), revenue_share double, avg_predicted_clv_365d double,
    as_of_date date);
create table marts.user_portrait_history (as_of_date date, customer_id varchar, rfm_segment varchar,
    lifecycle_stage varchar, value_tier varchar, churn_risk varchar, p_alive double,
    predicted_clv_365d double, total_revenue decimal(18, 2));
create table marts.segment_transitions (dimension varchar, from_as_of_date date, to_as_of_date date,
    from_segment varchar, to_segment varchar, customers bigint);
create table marts.clv_model_params (model varchar, parameter varchar, value double, customers_used bigint,
    log_likelihood double, converged boolean, as_of_date date);
"""
PORTRAIT_MART_NAMES = {"user_tags", "segment_summary", "user_portrait_history", "segment_transitions",
                       "clv_model_params"}

# attribution_channel's dbt meta.requires_sources have landed (the gate only asks whether they exist).
RAW_LANDED = """
create schema raw;
create table raw.orders (order_id varchar);
create table raw.touchpoints (touchpoint_id varchar);
"""


@pytest.fixture
def settings(settings: Settings) -> Settings:
    with duckdb.connect(str(settings.warehouse_db)) as con:
        con.execute(RAW_LANDED)
        con.execute("create schema marts")
        for ddl in (USER_PORTRAIT, COHORT_RETENTION, COHORT_REPEAT_PURCHASE, RETENTION_DAILY,
                    GROWTH_ACCOUNTING, ATTRIBUTION_TOUCHPOINT, ATTRIBUTION_CHANNEL, ATTRIBUTION_DAILY,
                    CONVERSION_PATHS, PORTRAIT_TAGS, PORTRAIT_MARTS):
            con.execute(ddl, {"models": list(ATTRIBUTION_MODELS)} if "$models" in ddl else None)
    return settings


def change(settings: Settings, sql: str) -> None:
    with duckdb.connect(str(settings.warehouse_db)) as con:
        con.execute(sql)


def test_consistent_marts_pass_and_every_result_is_recorded(settings):
    result = run_mart_gate(settings, "marts-ok", AS_OF)

    assert result.passed, result.describe()
    assert result.warnings == []
    assert result.notes == []
    reconciled = {c.column for c in result.checks if c.suite == "marts_gate.attribution_reconciliation"}
    assert reconciled == {
        "credit_rows", "conversions_difference", "revenue_difference", "conversions_not_summing_to_one"
    }
    assert {c.table for c in result.checks} == {
        "user_portrait", "cohort_retention", "attribution_channel", "attribution_touchpoint",
        "attribution_daily", "conversion_paths", "attribution",
        "cohort_repeat_purchase", "retention_daily", "growth_accounting", *PORTRAIT_MART_NAMES,
    }
    with duckdb.connect(str(settings.warehouse_db)) as con:
        recorded = con.execute(
            "select count(*), count(distinct suite), bool_and(success), min(as_of) "
            "from audit.validation_results "
            "where run_id = 'marts-ok' and gate = 'mart'"
        ).fetchall()
    # one suite per mart (14), personal data, reconciliation
    assert recorded == [(len(result.checks), 14 + 2, True, AS_OF)]
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
    # both grains of all seven models
    assert "fails on 14 row(s)" in missing.message
    first = "[credit_rows=0, mart='attribution_channel', grain='campaign', model='first_touch', "
    assert first in missing.message


def test_empty_attribution_passes_while_touchpoints_have_not_landed(settings):
    change(settings, "delete from marts.attribution_channel; drop table raw.touchpoints")

    result = run_mart_gate(settings, "marts-no-touchpoints", AS_OF)

    assert result.passed, result.describe()
    assert not [c for c in result.checks if c.suite == "marts_gate.attribution_reconciliation"]
    assert result.notes == [
        "attribution reconciliation skipped: raw.touchpoints has not landed, so dbt builds "
        "marts.attribution_channel, marts.attribution_touchpoint, marts.attribution_daily empty "
        "(their meta.requires_sources)"
    ]
    assert "note: attribution reconciliation skipped: raw.touchpoints" in result.describe()


def test_empty_attribution_reconciles_when_there_are_no_orders(settings):
    change(settings, "delete from marts.attribution_channel; delete from marts.attribution_touchpoint; "
                     "delete from marts.attribution_daily; delete from marts.user_portrait")

    result = run_mart_gate(settings, "marts-no-orders", AS_OF)

    reconciled = [c for c in result.checks if c.suite == "marts_gate.attribution_reconciliation"]
    assert [(c.column, c.success) for c in reconciled] == [
        ("credit_rows", True),
        ("conversions_difference", True),
        ("revenue_difference", True),
        ("conversions_not_summing_to_one", True),
    ]
    assert result.notes == []


def test_first_orders_reconcile_with_each_customers_first_order(settings):
    # conversion_type first_orders: c1's Feb order o2 is no conversion; 3 conversions worth 25.50
    change(settings, """
        create schema intermediate;
        create table intermediate.int_orders as select * from (values
            ('o1', 'c1', timestamp '2026-01-03 02:00', 10.00),
            ('o2', 'c1', timestamp '2026-02-10 02:00', 20.00),
            ('o3', 'c2', timestamp '2026-01-20 02:00', 15.50),
            ('o4', 'c3', timestamp '2026-02-01 02:00', 0.00)
        ) as t(order_id, customer_id, ordered_at_utc, total_amount);
        delete from marts.attribution_touchpoint where order_id = 'o2';
        update marts.attribution_touchpoint set conversion_type = 'first_orders';
        delete from marts.attribution_channel;
        insert into marts.attribution_channel
        select grain, model, 'first_orders', channel, null, sum(credit), sum(revenue_credit), null, null, null
        from marts.attribution_touchpoint cross join (values ('channel'), ('campaign')) as g(grain)
        group by grain, model, channel;
        delete from marts.attribution_daily where channel = 'social';
    """)

    result = run_mart_gate(settings, "marts-first-orders", AS_OF)

    assert result.passed, result.describe()
    change(settings, "update marts.attribution_channel set conversion_type = 'all_orders'")
    result = run_mart_gate(settings, "marts-first-orders-as-all", AS_OF)
    assert {c.column for c in result.errors} == {"conversions_difference", "revenue_difference"}


def test_retention_rules_fail_naming_the_cohort_row(settings):
    change(
        settings,
        "update marts.cohort_retention set retention_rate = 0.9 where cohort_start = date '2026-02-01'",
    )

    result = run_mart_gate(settings, "marts-retention", AS_OF)

    [error] = result.errors
    assert (error.table, error.column) == ("cohort_retention", "retention_rate")
    assert "row_condition='period_index == 0'" in error.message
    assert error.message.endswith(
        "fails on 1 row(s): "
        "[retention_rate=0.9, cohort_grain='month', cohort_dimension='all', cohort_value='all', "
        "cohort_start=2026-02-01, period_index=0]"
    )


def test_growth_accounting_rules_fail_naming_the_month(settings):
    change(
        settings,
        "update marts.growth_accounting set retained_customers = 3 where activity_month = date '2026-02-01'",
    )

    result = run_mart_gate(settings, "marts-growth", AS_OF)

    [error] = result.errors
    assert error.table == "growth_accounting"
    assert error.column == "previous_active_customers,retained_customers"
    assert "activity_month=2026-02-01" in error.message


def test_personal_data_and_broken_scores_fail(settings):
    change(settings, "alter table marts.user_portrait add column email varchar")
    change(settings, "update marts.user_portrait set r_score = 6, recency_days = 60 where customer_id = 'c1'")
    change(
        settings,
        "update marts.cohort_retention set revenue_retention_rate = 0.9 "
        "where cohort_start = date '2026-01-01' and period_index = 0",
    )

    result = run_mart_gate(settings, "marts-portrait", AS_OF)

    assert sorted((c.table, c.check, c.column) for c in result.errors) == [
        ("user_portrait", "expect_column_pair_values_a_to_be_greater_than_b", "tenure_days,recency_days"),
        ("user_portrait", "expect_column_values_to_be_between", "r_score"),
        ("user_portrait", "expect_column_values_to_not_match_regex", "email"),
    ]
    personal = next(c for c in result.errors if c.column == "email")
    assert personal.message == (
        "user_portrait: column 'email' is named after a personal column of the raw contract; "
        "personal data never reaches a mart"
    )
    assert [(c.table, c.column, c.severity) for c in result.warnings] == [
        ("cohort_retention", "revenue_retention_rate", "warning")
    ]


def test_personal_words_in_column_names_fail_in_any_case(settings):
    change(settings, "alter table marts.attribution_channel add column customer_email varchar")
    change(settings, "alter table marts.cohort_retention add column Phone_Number varchar")

    result = run_mart_gate(settings, "marts-personal-words", AS_OF)

    assert [(c.table, c.column, c.message) for c in result.errors] == [
        (
            "attribution_channel",
            "customer_email",
            "attribution_channel: column 'customer_email' is named after a personal column of the raw "
            "contract; personal data never reaches a mart",
        ),
        (
            "cohort_retention",
            "Phone_Number",
            "cohort_retention: column 'Phone_Number' is named after a personal column of the raw "
            "contract; personal data never reaches a mart",
        ),
    ]


def test_a_tag_given_twice_and_an_unknown_churn_risk_fail(settings):
    change(settings, "insert into marts.user_tags values "
                     "('c1', 'value', 'lifecycle_stage', 'new', date '2026-02-28')")
    change(settings, "update marts.user_portrait set churn_risk = 'doomed' where customer_id = 'c2'")

    result = run_mart_gate(settings, "marts-tags", AS_OF)

    assert sorted((c.table, c.check) for c in result.errors) == [
        ("user_portrait", "expect_column_values_to_be_in_set"),
        ("user_tags", "expect_compound_columns_to_be_unique"),
    ]


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


def test_attribution_models_and_required_raw_tables_follow_the_dbt_project():
    attribution = {m["name"]: m for m in mart_models() if m["name"] in ATTRIBUTION_MARTS}
    assert set(attribution) == set(ATTRIBUTION_MARTS)
    for mart in attribution.values():
        assert mart["config"]["meta"]["requires_sources"] == list(ATTRIBUTION_REQUIRED_RAW_TABLES)
    [reconciles] = [
        t["attribution_reconciles_with_orders"]
        for t in attribution["attribution_channel"]["data_tests"]
        if "attribution_reconciles_with_orders" in t
    ]
    assert reconciles["arguments"]["models"] == list(ATTRIBUTION_MODELS)
    assert reconciles["arguments"]["requires_sources"] == list(ATTRIBUTION_REQUIRED_RAW_TABLES)
    [model_column] = [c for c in attribution["attribution_touchpoint"]["columns"] if c["name"] == "model"]
    assert model_column["data_tests"][0]["accepted_values"]["arguments"]["values"] == list(ATTRIBUTION_MODELS)
