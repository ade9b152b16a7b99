"""The committed expectation suites: loadable, in step with the raw data contract, and evaluable."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from ecom.config import EXPECTATIONS_DIR, Settings
from ecom.contract import Column, load_contract
from ecom.contract.gate_rules import LATEST_VERSIONS
from ecom.ingest.layers import ensure_layer_table
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
    # raw gate, mart gate; raw.<table> is built from the contract at run time (ecom.quality.raw_suites),
    # the marts' own rules are dbt tests
    assert len(files) == 3 + 1
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
        # the type's maximum (type_defaults); status, payment_method and platform are the shop's vocabulary,
        # ordered_at's range (a timestamp) is applied at ingest only
        ("expect_column_values_to_be_between",
         {"column": "total_amount", "min_value": 0, "max_value": 100000000}, "critical"),
        ("expect_column_values_to_be_between",
         {"column": "discount_amount", "min_value": 0, "max_value": 100000000}, "critical"),
        ("expect_column_values_to_be_unique",
         {"column": "order_id", "row_condition": LATEST_VERSIONS}, "warning"),
    ]
    events = raw_suite(CONTRACT, CONTRACT.table("events")).expectations
    assert [(e.configuration.kwargs["column"], e.severity.value, e.notes) for e in events[-2:]] == [
        ("order_id", "warning", "A purchase event names the order it placed."),
        ("anonymous_id", "warning", "An anonymous visitor (no customer_id) is known by its anonymous_id."),
    ]


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
            "insert into audit.load_manifest (file_id, table_name, path, size_bytes, sha256, file_format, "
            "columns_present, missing_columns, extra_columns, rows_read, rows_loaded, rows_rejected, "
            "batch_id, status, loaded_at) values (?, ?, ?, 1, 'sha', 'csv', ?, [], [], ?, ?, 0, 'b1', "
            "'pending', timestamp '2026-01-06 00:00')",
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
    bad = ({"order_id": f"o{line}", "total_amount": -1} for line in (2, 3, 4))
    land_pending_rows(settings, "orders", *bad)

    [failure] = [c for c in row_checks(settings, "orders", "cap-check") if not c.success]

    assert failure.message.endswith(
        "fails on at least 2 row(s): line 2 (-1.00), line 3 (-1.00) "
        "(the first 2 of 3 offending rows are listed)"
    )
    assert failure.observed == '{"element_count": 3, "unexpected_count": 3}'
