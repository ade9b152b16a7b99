"""The committed expectation suites: loadable, in step with the raw data contract, and evaluable."""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from ecom.config import EXPECTATIONS_DIR, Settings
from ecom.contract import Column, load_contract
from ecom.ingest.layers import ensure_layer_table
from ecom.mart_docs import mart_models
from ecom.quality.outcomes import check_results
from ecom.quality.raw_rows import validate_pending_rows
from ecom.quality.raw_suites import raw_suite
from ecom.quality.results import CheckResult
from ecom.quality.suites import SuiteError, load_suite, suite_path
from ecom.quality.validate import GateValidator
from ecom.warehouse import connect, ensure_audit_tables

CONTRACT = load_contract()


def expectations_of(layer: str, name: str) -> list[tuple[str, str, str]]:
    """(type, kwargs as JSON, severity) of each expectation in the suite file."""
    document = json.loads(suite_path(layer, name).read_text(encoding="utf-8"))
    return [
        (e["type"], json.dumps(e["kwargs"], sort_keys=True), e["severity"]) for e in document["expectations"]
    ]


def test_every_committed_suite_loads_with_a_severity_on_each_expectation():
    files = sorted(EXPECTATIONS_DIR.glob("*/*.json"))
    # raw gate, marts (6 portrait, 4 cohort, 4 attribution), mart gate; raw.<table> is built from the
    # contract at run time (ecom.quality.raw_suites)
    assert len(files) == 3 + 14 + 2
    for path in files:
        suite = load_suite(path)
        assert suite.name == f"{path.parent.name}.{path.stem}"
        assert {e.severity.value for e in suite.expectations} <= {"critical", "warning"}


def test_raw_suite_is_built_from_the_contract():
    suite = raw_suite(CONTRACT, CONTRACT.table("orders"))
    stated = [(e.expectation_type, {k: v for k, v in e.configuration.kwargs.items() if k != "batch_id"},
               e.severity.value) for e in suite.expectations]
    assert suite.name == "raw.orders"
    assert stated == [
        ("expect_column_values_to_not_be_null", {"column": "order_id"}, "critical"),
        ("expect_column_values_to_not_be_null", {"column": "customer_id"}, "critical"),
        ("expect_column_values_to_not_be_null", {"column": "ordered_at"}, "critical"),
        ("expect_column_values_to_not_be_null", {"column": "total_amount"}, "critical"),
        ("expect_column_values_to_be_between", {"column": "total_amount", "min_value": 0}, "critical"),
        ("expect_column_values_to_be_in_set",
         {"column": "status", "value_set": ["paid", "shipped", "completed", "returned", "cancelled"]},
         "critical"),
        ("expect_column_values_to_be_in_set", {"column": "payment_method", "value_set": [
            "alipay", "wechat_pay", "credit_card", "debit_card", "instalment", "cash_on_delivery"]},
         "critical"),
        ("expect_column_values_to_be_between", {"column": "discount_amount", "min_value": 0}, "critical"),
        ("expect_column_values_to_be_in_set",
         {"column": "platform", "value_set": ["app", "web", "mini_program"]}, "critical"),
        ("expect_column_proportion_of_unique_values_to_be_between", {"column": "order_id", "min_value": 1.0},
         "warning"),
    ]
    events = raw_suite(CONTRACT, CONTRACT.table("events")).expectations
    assert [(e.configuration.kwargs["column"], e.severity.value, e.notes) for e in events[-2:]] == [
        ("order_id", "warning", "A purchase event names the order it placed."),
        ("anonymous_id", "warning", "An anonymous visitor (no customer_id) is known by its anonymous_id."),
    ]


PERSONAL_WORDS = re.compile(r"\(\?i\)\(\?:\^\|_\)\(\?:(?P<words>[a-z_|]+)\)\(\?:_\|\$\)")


def personal_data_regex() -> str:
    [(kind, kwargs, severity)] = expectations_of("marts_gate", "personal_data")
    assert (kind, severity) == ("expect_column_values_to_not_match_regex", "critical")
    arguments = json.loads(kwargs)
    assert arguments["column"] == "column_name"
    return arguments["regex"]


def test_personal_data_guard_names_exactly_the_contract_personal_columns():
    personal = sorted({c for t in CONTRACT.tables.values() for c in t.personal_columns})
    assert personal == ["address", "email", "name", "phone", "shipping_address"]
    stated = PERSONAL_WORDS.fullmatch(personal_data_regex())
    assert stated is not None, "the regex is no longer (?i)(?:^|_)(?:<word>|...)(?:_|$)"
    assert sorted(stated["words"].split("|")) == personal


def test_personal_data_guard_flags_personal_words_but_no_contracted_mart_column():
    guard = re.compile(personal_data_regex())
    personal = {c for t in CONTRACT.tables.values() for c in t.personal_columns}
    for column in personal:
        for named in (column, f"customer_{column}", f"{column}_hash", f"last_{column}_seen", column.upper()):
            assert guard.search(named), named
    mart_columns = [
        column
        for mart in (model["name"] for model in mart_models())
        for kind, kwargs, _ in expectations_of("marts", mart)
        if kind == "expect_table_columns_to_match_set"
        for column in json.loads(kwargs)["column_set"]
    ]
    # Every documented column of every mart (dbt YAML) is in its suite's column set.
    assert len(mart_columns) == sum(len(model["columns"]) for model in mart_models())
    assert [c for c in [*mart_columns, "username", "rename_count", "emails_sent"] if guard.search(c)] == []


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
    low = column.min if column.min is not None else 1
    return {
        "id": f"{column.name}-1",
        "text": "text",
        "timestamp": datetime(2026, 1, 5, 8, 30),
        "date": date(2026, 1, 5),
        "decimal": Decimal(str(low)),
        "integer": int(low),
        "boolean": True,
    }[column.type]


def land_pending_rows(settings: Settings, table: str, *rows: dict[str, object], name: str = "a") -> None:
    """A pending file `<table>/<name>.csv`: row i (line i + 2) is a valid row with `rows[i]` over it."""
    spec = CONTRACT.table(table)
    names = [*spec.column_names, "_file_id", "_line", "_batch_id", "_loaded_at"]
    with connect(settings) as con:
        ensure_audit_tables(con)
        ensure_layer_table(con, "raw_pending", spec)
        for line, overrides in enumerate(rows, start=2):
            row = {c.name: valid_value(c) for c in spec.columns} | overrides
            values = [row[c] for c in spec.column_names] + [f"id-{name}", line, "b1", datetime(2026, 1, 6)]
            con.execute(f"insert into raw_pending.{table} ({', '.join(names)}) values "
                        f"({', '.join('?' * len(names))})", values)
        con.execute(
            "insert into audit.load_manifest values (?, ?, ?, 1, 'sha', 'csv', ?, [], [], ?, ?, 0, 'b1', "
            "'pending', timestamp '2026-01-06 00:00', null)",
            [f"id-{name}", table, f"{table}/{name}.csv", spec.column_names, len(rows), len(rows)],
        )


def row_checks(settings: Settings, table: str, run_id: str) -> list[CheckResult]:
    with connect(settings) as con, GateValidator(settings, "raw", run_id) as validator:
        validation = validate_pending_rows(validator, con, CONTRACT, CONTRACT.table(table))
    assert validation is not None
    return check_results(validation, table)


def test_raw_suites_pass_on_valid_rows_in_the_warehouse_and_conditional_rules_apply(settings: Settings):
    for table in CONTRACT.tables:
        land_pending_rows(settings, table, {}, name=table)
    for table in CONTRACT.tables:
        checks = row_checks(settings, table, f"clean-{table}")
        assert [c.message for c in checks if not c.success] == [], table
        assert len(checks) == len(raw_suite(CONTRACT, CONTRACT.table(table)).expectations)

    purchase = {"event_type": "purchase", "order_id": None, "event_id": "e2"}
    land_pending_rows(settings, "events", purchase, name="purchase")
    checks = row_checks(settings, "events", "purchase-check")
    assert [(c.column, c.severity, c.file, c.message) for c in checks if not c.success] == [
        ("order_id", "warning", "events/purchase.csv",
         "events: file events/purchase.csv, column order_id: expect_column_values_to_not_be_null("
         "row_condition='event_type == purchase') fails on 1 row(s): line 2 (None)")
    ]


def test_long_failure_listings_are_capped_and_say_so(settings: Settings, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr("ecom.quality.validate.ROWS_LISTED_AT_MOST", 2)
    land_pending_rows(settings, "orders", *({"order_id": f"o{line}", "status": "lost"} for line in (2, 3, 4)))

    [failure] = [c for c in row_checks(settings, "orders", "cap-check") if not c.success]

    assert failure.message.endswith(
        "fails on at least 2 row(s): line 2 ('lost'), line 3 ('lost') "
        "(the first 2 of 3 offending rows are listed)"
    )
    assert failure.observed == '{"element_count": 3, "unexpected_count": 3}'
