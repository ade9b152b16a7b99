"""What the report calls each quality check: words from the GX type, its columns and its arguments."""

from __future__ import annotations

import pytest

from ecom.report_checks import check_label


@pytest.mark.parametrize(("suite", "expectation", "column", "label"), [
    # raw suites, built from the contract: its arguments give the limits (total_amount's maximum is the
    # decimal type's default) and the conditions of row rules
    ("raw.orders", "expect_column_values_to_be_between", "total_amount",
     "total_amount between 0 and 100000000"),
    ("raw.reviews", "expect_column_values_to_be_between", "rating", "rating between 1 and 5"),
    # the key: among the latest versions (a re-send replaces what it re-sends)
    ("raw.orders", "expect_column_values_to_be_unique", "order_id",
     "order_id is unique (latest version of each key)"),
    ("raw.repayments", "expect_column_values_to_be_unique", "repayment_id",
     "repayment_id is unique (latest version of each key)"),
    ("raw.marketing_spend", "expect_column_values_to_be_unique", "spend_date,channel,campaign_id",
     "spend_date, channel, campaign_id is unique (latest version of each key)"),
    ("raw.orders", "expect_column_values_to_not_be_null", "order_id", "order_id is filled in"),
    ("raw.events", "expect_column_values_to_not_be_null", "order_id",
     "order_id is filled in where event_type = purchase"),
    ("raw.touchpoints", "expect_column_values_to_not_be_null", "anonymous_id",
     "anonymous_id is filled in where customer_id is empty"),
    # the mart gate's committed suite: its JSON's arguments
    ("marts_gate.attribution_reconciliation", "expect_column_values_to_be_between", "credit_rows",
     "attribution reconciliation: credit_rows ≥ 1 where expected_conversions > 0"),
    ("marts.user_tags", "expect_compound_columns_to_be_unique", "customer_id,tag",
     "one row per (customer_id, tag)"),
    ("marts.user_tags", "expect_table_columns_to_match_set", None, "has exactly the expected columns"),
    # a suite with no arguments to read (the marts' rules are dbt tests): the meaning stays
    ("marts.cohort_retention", "expect_column_values_to_be_between", "retention_rate",
     "retention_rate within its allowed range"),
    # steward checks built from quality.yml: named by their suite
    ("raw_gate.quarantine_share", "expect_column_pair_values_a_to_be_greater_than_b",
     "max_share,quarantined_share", "quarantine share: quarantined_share within the limit max_share"),
    ("raw_gate.file_schema", "expect_column_values_to_be_in_set", "is_present",
     "file schema: is_present is one of True"),
    # a type without words of its own
    ("raw.orders", "expect_table_row_count_to_be_between", None, "table row count to be between"),
])
def test_check_labels(suite: str, expectation: str, column: str | None, label: str) -> None:
    assert check_label(suite, expectation, column) == label
