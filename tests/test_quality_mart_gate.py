"""The mart quality gate on tiny, hand-computed marts."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from ecom.config import Settings
from ecom.mart_docs import mart_models
from ecom.quality import run_mart_gate
from ecom.quality.mart_frames import ATTRIBUTION_MODELS, ATTRIBUTION_REQUIRED_RAW_TABLES

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
    ('month', date '2026-01-01', 0, date '2026-01-01', 2, 2, 1.0, 25.50, 1.0),
    ('month', date '2026-01-01', 1, date '2026-02-01', 2, 1, 0.5, 20.00, 0.7843),
    ('month', date '2026-02-01', 0, date '2026-02-01', 1, 1, 1.0, 0.00, null)
) as t(cohort_grain, cohort_start, period_index, period_start, cohort_size, active_customers,
       retention_rate, revenue, revenue_retention_rate)
"""
# Per model, conversions add up to 4 and revenue to 45.50.
ATTRIBUTION_CHANNEL = """
create table marts.attribution_channel as
select * from (values
    ('first_touch', 'search', 3.0, 30.00, 20.00, 1.5),
    ('first_touch', 'social', 1.0, 15.50, 10.00, 1.55),
    ('last_touch', 'search', 2.0, 15.00, 20.00, 0.75),
    ('last_touch', 'direct', 2.0, 30.50, 0.00, null),
    ('linear', 'search', 2.5, 22.75, 20.00, 1.1375),
    ('linear', 'social', 1.5, 22.75, 10.00, 2.275)
) as t(model, channel, conversions, revenue, spend, roas)
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
        for ddl in (USER_PORTRAIT, COHORT_RETENTION, ATTRIBUTION_CHANNEL, PORTRAIT_TAGS, PORTRAIT_MARTS):
            con.execute(ddl)
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
    assert reconciled == {"channel_rows", "conversions_difference", "revenue_difference"}
    assert {c.table for c in result.checks} == {
        "user_portrait", "cohort_retention", "attribution_channel", *PORTRAIT_MART_NAMES
    }
    with duckdb.connect(str(settings.warehouse_db)) as con:
        recorded = con.execute(
            "select count(*), count(distinct suite), bool_and(success), min(as_of) "
            "from audit.validation_results "
            "where run_id = 'marts-ok' and gate = 'mart'"
        ).fetchall()
    assert recorded == [(len(result.checks), 10, True, AS_OF)]
    assert result.data_docs_index is not None and result.data_docs_index.is_file()


def test_attribution_conversions_not_matching_orders_fail(settings):
    change(
        settings,
        "update marts.attribution_channel set conversions = 0.5 "
        "where model = 'linear' and channel = 'social'",
    )

    result = run_mart_gate(settings, "marts-conversions", AS_OF)

    assert not result.passed
    [error] = result.errors
    assert (error.table, error.column) == ("attribution_channel", "conversions_difference")
    assert error.message.endswith(
        "fails on 1 row(s): [conversions_difference=-1.0, model='linear', channel_rows=2, conversions=3.0, "
        "expected_conversions=4.0, revenue=45.5, expected_revenue=45.5]"
    )


def test_attribution_revenue_mismatch_and_missing_model_fail(settings):
    change(
        settings,
        "update marts.attribution_channel set revenue = 20.00 "
        "where model = 'first_touch' and channel = 'search'",
    )
    change(settings, "delete from marts.attribution_channel where model = 'linear'")

    result = run_mart_gate(settings, "marts-revenue", AS_OF)

    assert [(c.column, c.message.split(" row(s): ")[1]) for c in result.errors] == [
        (
            "channel_rows",
            "[channel_rows=0, model='linear', conversions=0.0, expected_conversions=4.0, "
            "revenue=0.0, expected_revenue=45.5]",
        ),
        (
            "conversions_difference",
            "[conversions_difference=-4.0, model='linear', channel_rows=0, conversions=0.0, "
            "expected_conversions=4.0, revenue=0.0, expected_revenue=45.5]",
        ),
        (
            "revenue_difference",
            "[revenue_difference=-10.0, model='first_touch', channel_rows=2, conversions=4.0, "
            "expected_conversions=4.0, revenue=35.5, expected_revenue=45.5], "
            "[revenue_difference=-45.5, model='linear', channel_rows=0, conversions=0.0, "
            "expected_conversions=4.0, revenue=0.0, expected_revenue=45.5]",
        ),
    ]


def test_empty_attribution_fails_while_touchpoints_have_landed_and_there_are_orders(settings):
    change(settings, "delete from marts.attribution_channel")

    result = run_mart_gate(settings, "marts-attribution-empty", AS_OF)

    assert not result.passed
    assert {(c.table, c.suite) for c in result.errors} == {
        ("attribution_channel", "marts_gate.attribution_reconciliation")
    }
    missing = next(c for c in result.errors if c.column == "channel_rows")
    assert missing.message == (
        "attribution_channel, column channel_rows: expect_column_values_to_be_between("
        "row_condition='expected_conversions > 0', min_value=1.0) fails on 3 row(s): "
        "[channel_rows=0, model='first_touch', conversions=0.0, expected_conversions=4.0, "
        "revenue=0.0, expected_revenue=45.5], "
        "[channel_rows=0, model='last_touch', conversions=0.0, expected_conversions=4.0, "
        "revenue=0.0, expected_revenue=45.5], "
        "[channel_rows=0, model='linear', conversions=0.0, expected_conversions=4.0, "
        "revenue=0.0, expected_revenue=45.5]"
    )


def test_empty_attribution_passes_while_touchpoints_have_not_landed(settings):
    change(settings, "delete from marts.attribution_channel; drop table raw.touchpoints")

    result = run_mart_gate(settings, "marts-no-touchpoints", AS_OF)

    assert result.passed, result.describe()
    assert not [c for c in result.checks if c.suite == "marts_gate.attribution_reconciliation"]
    assert result.notes == [
        "attribution reconciliation skipped: raw.touchpoints has not landed, so dbt builds "
        "marts.attribution_channel empty (its meta.requires_sources)"
    ]
    assert "note: attribution reconciliation skipped: raw.touchpoints" in result.describe()


def test_empty_attribution_reconciles_when_there_are_no_orders(settings):
    change(settings, "delete from marts.attribution_channel; delete from marts.user_portrait")

    result = run_mart_gate(settings, "marts-no-orders", AS_OF)

    reconciled = [c for c in result.checks if c.suite == "marts_gate.attribution_reconciliation"]
    assert [(c.column, c.success) for c in reconciled] == [
        ("channel_rows", True),
        ("conversions_difference", True),
        ("revenue_difference", True),
    ]
    assert result.notes == []


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
        "[retention_rate=0.9, cohort_grain='month', cohort_start=2026-02-01, period_index=0]"
    )


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
    [attribution] = [m for m in mart_models() if m["name"] == "attribution_channel"]
    assert attribution["config"]["meta"]["requires_sources"] == list(ATTRIBUTION_REQUIRED_RAW_TABLES)
    [reconciles] = [
        t["attribution_reconciles_with_orders"]
        for t in attribution["data_tests"]
        if "attribution_reconciles_with_orders" in t
    ]
    assert reconciles["arguments"]["models"] == list(ATTRIBUTION_MODELS)
    assert reconciles["arguments"]["requires_sources"] == list(ATTRIBUTION_REQUIRED_RAW_TABLES)
    assert ATTRIBUTION_MODELS == ("first_touch", "last_touch", "linear")
