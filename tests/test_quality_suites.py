"""The committed expectation suites: loadable, in step with the raw data contract, and evaluable."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from ecom.config import EXPECTATIONS_DIR, Settings
from ecom.contract import Column, load_contract
from ecom.quality.outcomes import FILE_COLUMN, LINE_COLUMN, check_results
from ecom.quality.suites import SuiteError, load_suite, suite_path
from ecom.quality.validate import GateValidator

CONTRACT = load_contract()


def expectations_of(layer: str, name: str) -> list[tuple[str, str, str]]:
    """(type, kwargs as JSON, severity) of each expectation in the suite file."""
    document = json.loads(suite_path(layer, name).read_text(encoding="utf-8"))
    return [
        (e["type"], json.dumps(e["kwargs"], sort_keys=True), e["severity"]) for e in document["expectations"]
    ]


def test_every_committed_suite_loads_with_a_severity_on_each_expectation():
    files = sorted(EXPECTATIONS_DIR.glob("*/*.json"))
    # raw, raw gate, mart gate (the marts' own rules are dbt tests)
    assert len(files) == 11 + 3 + 1
    for path in files:
        suite = load_suite(path)
        assert suite.name == f"{path.parent.name}.{path.stem}"
        assert {e.severity.value for e in suite.expectations} <= {"critical", "warning"}


@pytest.mark.parametrize("table", sorted(CONTRACT.tables))
def test_raw_suite_states_the_contract_rules(table: str):
    spec = CONTRACT.table(table)
    expected = []
    for column in spec.columns:
        if not column.nullable:
            expected.append(("expect_column_values_to_not_be_null", {"column": column.name}, "critical"))
        if column.allowed_values:
            expected.append(
                (
                    "expect_column_values_to_be_in_set",
                    {"column": column.name, "value_set": list(column.allowed_values)},
                    "critical",
                )
            )
        # Numeric ranges only: date and timestamp ranges are enforced at ingest (the gate never sees a
        # row outside them), and a JSON suite cannot state a datetime bound.
        bounds = {k: v for k, v in (("min_value", column.min), ("max_value", column.max)) if v is not None}
        if bounds and column.type in ("decimal", "integer"):
            expected.append(
                ("expect_column_values_to_be_between", {"column": column.name, **bounds}, "critical")
            )
    if len(spec.primary_key) == 1:
        expected.append(("expect_column_values_to_be_unique", {"column": spec.primary_key[0]}, "warning"))
    else:
        expected.append(
            (
                "expect_compound_columns_to_be_unique",
                {"column_list": list(spec.primary_key), "ignore_row_if": "never"},
                "warning",
            )
        )
    stated = expectations_of("raw", table)
    for kind, kwargs, severity in expected:
        assert (kind, json.dumps(kwargs, sort_keys=True), severity) in stated


def test_meta_severity_of_the_architecture_doc_is_translated(tmp_path: Path):
    path = tmp_path / "s.json"
    path.write_text(
        json.dumps(
            {
                "name": "s",
                "expectations": [
                    {
                        "type": "expect_column_values_to_not_be_null",
                        "kwargs": {"column": "a"},
                        "meta": {"severity": "error"},
                    },
                    {
                        "type": "expect_column_values_to_be_unique",
                        "kwargs": {"column": "a"},
                        "meta": {"severity": "warning"},
                    },
                ],
            }
        )
    )
    assert [e.severity.value for e in load_suite(path).expectations] == ["critical", "warning"]


@pytest.mark.parametrize(
    ("expectation", "problem"),
    [
        ({}, "has no severity"),
        ({"severity": "critical", "meta": {"severity": "warning"}}, "contradicts meta.severity 'warning'"),
        ({"meta": {"severity": "fatal"}}, "meta.severity 'fatal' is not one of error, warning"),
        ({"severity": "high"}, "severity 'high' is not one of critical, warning, info"),
    ],
)
def test_unusable_severity_is_refused_naming_file_and_expectation(
    tmp_path: Path, expectation: dict, problem: str
):
    path = tmp_path / "s.json"
    path.write_text(
        json.dumps(
            {
                "name": "s",
                "expectations": [
                    {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "a"}, **expectation}
                ],
            }
        )
    )
    with pytest.raises(SuiteError) as refused:
        load_suite(path)
    assert str(refused.value).startswith(f"{path}, expectation #1 (expect_column_values_to_not_be_null)")
    assert problem in str(refused.value)


def valid_value(column: Column) -> object:
    if column.allowed_values:
        return column.allowed_values[0]
    low = column.min if column.type in ("decimal", "integer") and column.min is not None else 1
    return {
        "id": f"{column.name}-1",
        "text": "text",
        "timestamp": datetime(2026, 1, 5, 8, 30),
        "date": date(2026, 1, 5),
        "decimal": Decimal(str(low)),
        "integer": int(low),
        "boolean": True,
    }[column.type]


def pending_frame(table: str, **overrides: object) -> pd.DataFrame:
    row = {c.name: valid_value(c) for c in CONTRACT.table(table).columns}
    row |= {"_file_id": "f1", "_line": 2, "_batch_id": "b1", FILE_COLUMN: f"{table}/a.csv"} | overrides
    return pd.DataFrame([row])


def test_raw_suites_evaluate_cleanly_and_conditional_rules_apply(tmp_path: Path):
    validator = GateValidator(Settings(landing_dir=tmp_path, warehouse_dir=tmp_path), "raw", "suite-check")
    for table in CONTRACT.tables:
        suite = load_suite(suite_path("raw", table))
        checks = check_results(
            validator.validate(suite, pending_frame(table), [FILE_COLUMN, LINE_COLUMN]), table
        )
        assert [c.message for c in checks if not c.success] == [], table

    purchase_without_order = pending_frame("events", event_type="purchase", order_id=None)
    second_run = GateValidator(
        Settings(landing_dir=tmp_path, warehouse_dir=tmp_path), "raw", "purchase-check"
    )
    suite = load_suite(suite_path("raw", "events"))
    checks = check_results(
        second_run.validate(suite, purchase_without_order, [FILE_COLUMN, LINE_COLUMN]), "events"
    )
    assert [(c.column, c.severity, c.file) for c in checks if not c.success] == [
        ("order_id", "warning", "events/a.csv")
    ]


def test_long_failure_listings_are_capped_and_say_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr("ecom.quality.validate.ROWS_LISTED_AT_MOST", 2)
    frame = pd.concat(
        [pending_frame("orders", order_id=f"o{line}", total_amount=-1, _line=line) for line in (2, 3, 4)],
        ignore_index=True,
    )
    validator = GateValidator(Settings(landing_dir=tmp_path, warehouse_dir=tmp_path), "raw", "cap-check")

    checks = check_results(
        validator.validate(load_suite(suite_path("raw", "orders")), frame, [FILE_COLUMN, LINE_COLUMN]),
        "orders",
    )

    [failure] = [c for c in checks if not c.success]
    assert failure.message.endswith(
        "fails on at least 2 row(s): line 2 (-1), line 3 (-1) "
        "(the first 2 of 3 offending rows are listed)"
    )
    assert failure.observed == '{"element_count": 3, "unexpected_count": 3}'


@pytest.mark.parametrize("table", sorted(CONTRACT.tables))
def test_raw_suite_splits_into_row_wise_checks_and_the_primary_key(table: str):
    """The raw gate validates row-wise expectations in chunks and the key on rows sharing it."""
    from ecom.quality.raw_rows import key_columns, split_suite

    suite = load_suite(suite_path("raw", table))
    row_wise, key_checks = split_suite(suite)
    assert [key_columns(check) for check in key_checks] == [list(CONTRACT.table(table).primary_key)]
    assert len(row_wise.expectations) + 1 == len(suite.expectations)
    assert row_wise.name == suite.name


def test_raw_suite_with_an_expectation_over_all_rows_is_refused():
    from great_expectations.core.expectation_suite import ExpectationSuite

    from ecom.quality.raw_rows import split_suite

    for expectation, refusal in (
        (
            {"type": "expect_column_mean_to_be_between", "kwargs": {"column": "spend", "min_value": 0}},
            "raw suites take row-wise expectations and key uniqueness only",
        ),
        (
            {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "spend", "mostly": 0.9}},
            "raw suites cannot use mostly",
        ),
    ):
        suite = ExpectationSuite(name="raw.marketing_spend", expectations=[expectation])
        with pytest.raises(SuiteError, match=rf"suite raw.marketing_spend, expectation #1 .*: {refusal}"):
            split_suite(suite)
