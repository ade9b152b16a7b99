"""build_report: the self-contained HTML run report, for published and failed runs."""

from __future__ import annotations

import base64
import re
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest

from chromium_page import render
from ecom.config import Settings
from ecom.publish import publish
from ecom.report import MASKED, build_report, shown_raw_value

AS_OF = date(2024, 3, 31)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
GATE_FAILURE = "3 of 6 rows of orders/2024-03-02.csv have total_amount below 0"

AUDIT_DDL = """
CREATE SCHEMA audit;
CREATE TABLE audit.load_manifest (
    file_id VARCHAR, table_name VARCHAR, path VARCHAR, size_bytes BIGINT, sha256 VARCHAR, file_format VARCHAR,
    columns_present VARCHAR[], missing_columns VARCHAR[], extra_columns VARCHAR[],
    rows_read BIGINT, rows_loaded BIGINT, rows_rejected BIGINT, rows_waiting BIGINT, batch_id VARCHAR,
    status VARCHAR,
    loaded_at TIMESTAMP, accepted_at TIMESTAMP
);
CREATE TABLE audit.rejects (
    batch_id VARCHAR, file_id VARCHAR, table_name VARCHAR, path VARCHAR, line BIGINT, column_name VARCHAR,
    raw_value VARCHAR, reason VARCHAR, rejected_at TIMESTAMP
);
CREATE TABLE audit.validation_results (
    run_id VARCHAR, gate VARCHAR, suite VARCHAR, table_name VARCHAR, file_path VARCHAR, expectation VARCHAR,
    column_name VARCHAR, severity VARCHAR, success BOOLEAN, observed VARCHAR, message VARCHAR,
    as_of DATE, validated_at TIMESTAMP
);
"""

FIXTURE_ROWS = """
INSERT INTO audit.load_manifest VALUES
  ('f1', 'customers', 'customers/2024-03-01.csv', 400, 'aa', 'csv', ['customer_id'], [], ['loyalty_tier'],
   5, 4, 1, 0, 'run-ok', 'accepted', TIMESTAMP '2024-04-01 00:05:00', TIMESTAMP '2024-04-01 00:06:00'),
  ('f2', 'orders', 'orders/2024-03-01.csv', 700, 'bb', 'csv', ['order_id'], ['coupon_code'], [],
   7, 5, 2, 0, 'run-ok', 'accepted', TIMESTAMP '2024-04-01 00:05:00', TIMESTAMP '2024-04-01 00:06:00'),
  ('f0', 'orders', 'orders/2024-02-01.csv', 900, 'cc', 'csv', ['order_id'], [], [],
   100, 100, 0, 0, 'run-old', 'accepted', TIMESTAMP '2024-03-01 00:05:00', TIMESTAMP '2024-03-01 00:06:00'),
  ('f3', 'orders', 'orders/2024-03-02.csv', 800, 'dd', 'parquet', ['order_id'], [], [],
   10, 6, 3, 0, 'run-bad', 'pending', TIMESTAMP '2024-04-02 00:05:00', NULL);
INSERT INTO audit.rejects VALUES
  ('run-ok', 'f1', 'customers', 'customers/2024-03-01.csv', 3, 'phone', '13800138000', 'bad phone', now()),
  ('run-ok', 'f2', 'orders', 'orders/2024-03-01.csv', 6, 'ordered_at', 'soon', 'not a timestamp', now()),
  ('run-ok', 'f2', 'orders', 'orders/2024-03-01.csv', 4, 'total_amount', '-5.00', 'below minimum 0', now()),
  ('run-bad', 'f3', 'orders', 'orders/2024-03-02.csv', 2, NULL, 'o9,c1,Flat 3 Long Rd', 'extra field', now());
INSERT INTO audit.validation_results VALUES
  ('run-ok', 'raw', 'raw.orders', 'orders', NULL, 'expect_column_values_to_not_be_null', 'order_id',
   'error', true, '0 nulls', 'order_id is never empty', DATE '2024-03-31', TIMESTAMP '2024-04-01 00:07:00'),
  ('run-ok', 'raw', 'raw.orders', 'orders', NULL, 'expect_table_row_count_to_be_between', NULL,
   'warning', false, '5', 'orders volume 5 is below the expected 10', DATE '2024-03-31',
   TIMESTAMP '2024-04-01 00:07:00'),
  ('run-ok', 'mart', 'marts.cohort_retention', 'cohort_retention', NULL, 'expect_column_values_to_be_between',
   'retention_rate', 'error', true, NULL, 'retention rate within 0..1', DATE '2024-03-31',
   TIMESTAMP '2024-04-01 00:09:00'),
  ('run-bad', 'raw', 'raw.orders', 'orders', 'orders/2024-03-02.csv', 'expect_column_values_to_be_between',
   'total_amount', 'error', false, '3', '__FAILURE__', DATE '2024-04-01', TIMESTAMP '2024-04-02 00:07:00'),
  ('run-bad', 'raw', 'raw.orders', 'orders', NULL, 'expect_column_values_to_not_be_null', 'order_id',
   'error', true, '0 nulls', 'order_id is never empty', DATE '2024-04-01', TIMESTAMP '2024-04-02 00:07:00');
CREATE SCHEMA marts;
CREATE TABLE marts.cohort_retention (
    cohort_grain VARCHAR, cohort_dimension VARCHAR, cohort_value VARCHAR, cohort_start DATE,
    period_index INTEGER, is_complete BOOLEAN, cohort_size BIGINT, active_customers BIGINT,
    retention_rate DOUBLE, cumulative_revenue_per_customer DOUBLE
);
INSERT INTO marts.cohort_retention VALUES
  ('month', 'all', 'all', DATE '2024-01-01', 0, true, 40, 40, 1.0, 20.0),
  ('month', 'all', 'all', DATE '2024-01-01', 1, true, 40, 20, 0.5, 30.0),
  ('month', 'all', 'all', DATE '2024-01-01', 2, true, 40, 10, 0.25, 35.0),
  ('month', 'all', 'all', DATE '2024-02-01', 0, true, 50, 50, 1.0, 10.0),
  ('month', 'all', 'all', DATE '2024-02-01', 1, true, 50, 10, 0.2, 12.0),
  ('month', 'all', 'all', DATE '2024-03-01', 0, true, 30, 30, 1.0, 15.0);
CREATE TABLE marts.marketing_attribution (channel VARCHAR, attribution_model VARCHAR, conversions DOUBLE);
"""


@pytest.fixture
def settings(settings: Settings) -> Settings:
    with duckdb.connect(str(settings.warehouse_db)) as con:
        con.execute(AUDIT_DDL + FIXTURE_ROWS.replace("__FAILURE__", GATE_FAILURE))
    return settings


@pytest.fixture
def published(settings: Settings) -> Settings:
    """run-ok published its marts; run-bad then failed at the raw gate."""
    publish(settings, "run-ok", AS_OF)
    return settings


class TableRows(HTMLParser):
    """Each <tr> of a page as the list of its cells' text."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self.rows.append([])
        elif tag in {"td", "th"}:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in {"td", "th"} and self._cell is not None:
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def table_rows(html: str) -> list[list[str]]:
    parser = TableRows()
    parser.feed(html)
    return parser.rows


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def resource_references(html: str) -> list[str]:
    return re.findall(r"""(?:src|href)\s*=\s*["']([^"']*)["']""", html)


def test_report_of_a_published_run(published: Settings) -> None:
    (published.data_docs_dir).mkdir(parents=True)
    (published.data_docs_dir / "index.html").write_text("<html></html>", encoding="utf-8")

    path = build_report(published, "run-ok")

    assert path == published.reports_dir / "runs" / "run-ok.html"
    html = path.read_text(encoding="utf-8")
    rows = table_rows(html)
    text = text_of(html)
    assert "Published" in text and "Not published" not in text
    assert "as of 2024-03-31" in text
    # Ingestion: this batch's files only, each reconciled, and totals per table. Both files have
    # rejects, so both are listed as needing attention and again in the full list.
    file_rows = [r[:11] for r in rows if len(r) == 12 and r[0] != "file"]
    batch_files = [
        ["customers/2024-03-01.csv", "customers", "csv", "accepted", "5", "4", "1", "0", "✓", "",
         "loyalty_tier"],
        ["orders/2024-03-01.csv", "orders", "csv", "accepted", "7", "5", "2", "0", "✓", "coupon_code", ""],
    ]
    assert file_rows == batch_files + batch_files
    assert ["customers", "1", "5", "4", "1", "0", "✓"] in rows
    assert ["orders", "1", "7", "5", "2", "0", "✓"] in rows
    assert "orders/2024-02-01.csv" not in html
    assert "all 2 files reconcile" in text
    # Rejects: counts by table/column/reason, samples with the personal value masked.
    assert ["orders", "total_amount", "below minimum 0", "1"] in rows
    assert ["customers/2024-03-01.csv", "3", "phone", "bad phone", MASKED] in rows
    assert ["orders/2024-03-01.csv", "4", "total_amount", "below minimum 0", "-5.00"] in rows
    assert "13800138000" not in html
    # Gates: the failed checks grouped per check and table, then every check (failures first), each named
    # by what it checks; summary per gate.
    assert [r for r in rows if len(r) == 7 and r[1] in {"raw", "mart"}] == [
        ["warning", "raw", "orders", "table row count to be between", "1", "0",
         "orders volume 5 is below the expected 10"]]
    gate_rows = [r for r in rows if len(r) == 8 and r[1] in {"raw", "mart"}]
    assert [r[:6] for r in gate_rows] == [
        ["failed", "raw", "warning", "orders", "", "table row count to be between"],
        ["passed", "mart", "error", "cohort_retention", "", "retention_rate within its allowed range"],
        ["passed", "raw", "error", "orders", "", "order_id is filled in"],
    ]
    assert gate_rows[0][6] == "orders volume 5 is below the expected 10"
    assert next(r[:5] for r in rows if r and r[0] == "raw" and len(r) == 6) == ["raw", "2", "1", "0", "1"]
    # Published marts and where BI finds them.
    assert ["marts.cohort_retention", "6", ""] in rows
    assert ["marts.marketing_attribution", "0", "empty: the dbt manifest does not say which raw tables "
            "this mart needs"] in rows
    assert str(published.serving_db) in text
    # The cohort charts (heatmap, LTV curves) and the two trend charts are inline PNGs; nothing is
    # fetched from the network.
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', html)
    assert len(images) == 4
    assert all(base64.b64decode(image).startswith(PNG_SIGNATURE) for image in images)
    assert "http://" not in html and "https://" not in html
    assert "<script" not in html and "<link" not in html
    assert sorted(resource_references(html)) == sorted(
        ["../data_docs/index.html", *("data:image/png;base64," + image for image in images)]
    )


def test_latest_report_is_the_same_page_with_links_relative_to_it(published: Settings) -> None:
    (published.data_docs_dir).mkdir(parents=True)
    (published.data_docs_dir / "index.html").write_text("<html></html>", encoding="utf-8")

    run_page = build_report(published, "run-ok").read_text(encoding="utf-8")

    latest = (published.reports_dir / "run_report.html").read_text(encoding="utf-8")
    assert 'href="data_docs/index.html"' in latest
    assert table_rows(latest) == table_rows(run_page)
    assert not list(published.reports_dir.glob("*.tmp"))


def test_report_of_a_failed_run(published: Settings) -> None:
    html = build_report(published, "run-bad").read_text(encoding="utf-8")

    rows = table_rows(html)
    text = text_of(html)
    assert "Not published" in text
    assert "the raw quality gate failed: 1 error-severity check(s) did not pass" in text
    assert "1 file(s) break rows read = rows loaded + rows rejected + rows waiting" in text
    assert "BI keeps reading the version published by run run-ok (as of 2024-03-31)" in text
    assert "as of 2024-04-01" in text
    file_row = next(r for r in rows if r and r[0] == "orders/2024-03-02.csv" and len(r) == 12)
    assert file_row[:9] == ["orders/2024-03-02.csv", "orders", "parquet", "pending", "10", "6", "3", "0",
                            "✗ 10 ≠ 6 + 3 + 0"]
    assert ["orders", "1", "10", "6", "3", "0", "✗ does not reconcile"] in rows
    first_gate_row = next(r for r in rows if len(r) == 8 and r[1] == "raw")
    assert first_gate_row[:6] == ["FAILED", "raw", "error", "orders", "orders/2024-03-02.csv",
                                  "total_amount between 0 and 100000000"]
    assert first_gate_row[6] == GATE_FAILURE
    # A whole malformed line may hold the shipping address: masked.
    assert ["orders/2024-03-02.csv", "2", "(whole row)", "extra field", MASKED] in rows
    assert "Long Rd" not in html
    assert "This run published nothing" in text
    assert "customers/2024-03-01.csv" not in html
    assert "http://" not in html and "https://" not in html


def test_report_when_the_run_stopped_before_anything_was_written(tmp_path: Path) -> None:
    settings = Settings(landing_dir=tmp_path / "landing", warehouse_dir=tmp_path / "warehouse")

    html = build_report(settings, "manual__2024-04-01T00:00:00+00:00").read_text(encoding="utf-8")

    text = text_of(html)
    assert (settings.reports_dir / "runs" / "manual__2024-04-01T00:00:00+00:00.html").exists()
    assert f"the warehouse database {settings.warehouse_db} does not exist" in text
    assert f"the serving database {settings.serving_db} does not exist" in text
    assert "no quality gate result was recorded: the run stopped before the gates" in text
    assert "No file was loaded by this run." in text
    assert "No mart is being served, so there is nothing to chart." in text
    assert "Data Docs" not in text


def test_report_notes_missing_audit_tables(settings: Settings) -> None:
    with duckdb.connect(str(settings.warehouse_db)) as con:
        con.execute("DROP TABLE audit.rejects; DROP TABLE audit.validation_results")

    text = text_of(build_report(settings, "run-ok").read_text(encoding="utf-8"))

    assert "audit.rejects does not exist in the warehouse database" in text
    assert "audit.validation_results does not exist in the warehouse database" in text
    assert "all 2 files reconcile" in text


@pytest.mark.parametrize(
    ("table", "column", "raw", "shown"),
    [
        ("customers", "email", "a@b.example", MASKED),
        ("orders", "shipping_address", "Flat 3", MASKED),
        ("orders", None, "o9,c1,Flat 3", MASKED),
        ("order_items", None, "i1,o1,p1,x", "i1,o1,p1,x"),
        ("not_in_contract", "whatever", "x", MASKED),
        ("orders", "total_amount", "-5.00", "-5.00"),
        ("orders", "total_amount", None, None),
        ("orders", "coupon_code", "C" * 100, "C" * 80 + "…"),
    ],
)
def test_shown_raw_value_masks_personal_data(table: str, column: str | None, raw: str | None,
                                             shown: str | None) -> None:
    assert shown_raw_value(table, column, raw) == shown


def test_steward_part_checks_by_table_key_numbers_and_history(published: Settings) -> None:
    html = build_report(published, "run-bad").read_text(encoding="utf-8")

    rows = table_rows(html)
    text = text_of(html)
    # This run: 10 rows read, 3 quarantined (30.00%), 2 checks, 1 error.
    assert ("10 rows read · 3 rows quarantined (30.00%) · 2 checks, 1 failed with severity error, "
            "0 warnings") in text
    assert ["orders", "2", "1", "1", "0"] in rows  # checks by table: checks, passed, error, warning
    # History, newest first: run-bad (not published), run-ok (published), run-old (files only).
    history = [r for r in rows if len(r) == 10 and r[0].startswith("run-")]
    assert [(r[0], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9]) for r in history] == [
        ("run-bad", "2", "1", "0", "10", "6", "3", "30.00%", "no"),
        ("run-ok", "3", "0", "1", "12", "9", "3", "25.00%", "yes"),
        ("run-old", "0", "0", "0", "100", "100", "0", "0.00%", "no"),
    ]
    assert len(re.findall(r'src="data:image/png;base64,', html)) == 4  # 2 trend + 2 served cohort charts


def test_steward_report_renders_offline_in_chromium_with_its_history(
    published: Settings, tmp_path: Path
) -> None:
    page = build_report(published, "run-bad")

    rendered = render(page, tmp_path / "steward_report.png")

    assert rendered.console == []
    assert "10 rows read · 3 rows quarantined (30.00%)" in rendered.text
    assert "Quality over past runs" in rendered.text
    for run in ("run-old", "run-ok", "run-bad"):
        assert run in rendered.text
    assert rendered.screenshot.stat().st_size > 10_000


def test_dbt_tests_are_listed_beside_the_gates_and_counted_in_the_history(published: Settings) -> None:
    with duckdb.connect(str(published.warehouse_db)) as con:
        con.execute("""
            INSERT INTO audit.validation_results VALUES
              ('run-bad', 'dbt', 'test.ecom.not_below_column_growth_accounting.1', 'growth_accounting', NULL,
               'not_below_column', 'active_customers', 'error', false, '{"status": "fail", "failures": 2}',
               'growth_accounting, column active_customers: dbt test not_below_column fails on 2 row(s)',
               DATE '2024-04-01', TIMESTAMP '2024-04-02 00:08:00'),
              ('run-bad', 'dbt', 'unit_test.ecom.int_orders_filtered.keeps_paid', 'int_orders_filtered', NULL,
               'unit_test', NULL, 'error', true, '{"status": "pass", "failures": 0}',
               'dbt test keeps_paid holds',
               DATE '2024-04-01', TIMESTAMP '2024-04-02 00:08:00')""")

    html = build_report(published, "run-bad").read_text(encoding="utf-8")

    rows = table_rows(html)
    text = text_of(html)
    assert "the dbt tests failed: 1 error-severity check(s) did not pass" in text
    assert "the raw quality gate failed: 1 error-severity check(s) did not pass" in text
    assert [r[:5] for r in rows if r and r[0] in {"raw", "dbt"} and len(r) == 6] == [
        ["dbt", "2", "1", "1", "0"], ["raw", "2", "1", "1", "0"]
    ]
    failed = [r for r in rows if len(r) == 7 and r[1] in {"raw", "dbt"}]
    assert [(r[1], r[2], r[3], r[4]) for r in failed] == [
        ("dbt", "growth_accounting", "not below column", "1"),
        ("raw", "orders", "total_amount between 0 and 100000000", "1"),
    ]
    assert failed[0][6] == ("growth_accounting, column active_customers: dbt test not_below_column "
                            "fails on 2 row(s)")
    [history] = [r for r in rows if len(r) == 10 and r[0] == "run-bad"]
    assert history[2:5] == ["4", "2", "0"]  # checks, failed errors, warnings: the raw gate's and dbt's


def test_a_check_failing_in_many_files_is_one_row_with_counts_and_samples(settings: Settings) -> None:
    """Like the demo's re-sent repayments: one uniqueness warning per file, 40 files."""
    with duckdb.connect(str(settings.warehouse_db)) as con:
        con.execute("""
            INSERT INTO audit.validation_results
            SELECT 'run-many', 'raw', 'raw.repayments', 'repayments',
                   'repayments/dt=2024-03-' || lpad(i::VARCHAR, 2, '0') || '/repayments.csv',
                   'expect_column_values_to_be_unique', 'repayment_id', 'warning', false, NULL,
                   'repayments: file ' || i || ' repeats repayment_id', DATE '2024-03-31',
                   TIMESTAMP '2024-04-01 00:07:00'
            FROM range(1, 41) AS r(i);
            INSERT INTO audit.validation_results VALUES
              ('run-many', 'raw', 'raw_gate.quarantine_share', 'orders', NULL,
               'expect_column_pair_values_a_to_be_greater_than_b', 'max_share,quarantined_share', 'error',
               false, NULL, 'orders: 3 of 100 rows read were quarantined (3.00%), over the limit of 1.00%',
               DATE '2024-03-31', TIMESTAMP '2024-04-01 00:07:00');
        """)

    html = build_report(settings, "run-many").read_text(encoding="utf-8")

    grouped = [r for r in table_rows(html) if len(r) == 7 and r[1] == "raw"]
    assert grouped == [
        ["error", "raw", "orders", "quarantine share: quarantined_share within the limit max_share", "1", "0",
         "orders: 3 of 100 rows read were quarantined (3.00%), over the limit of 1.00%"],
        ["warning", "raw", "repayments", "repayment_id is unique (latest version of each key)", "40", "40",
         "repayments: file 1 repeats repayment_id repayments: file 2 repeats repayment_id "
         "repayments: file 3 repeats repayment_id and 37 more"],
    ]
    assert "41 failed results in 2 rows" in text_of(html)
    # GX's own names stay out of the steward's text (a tooltip keeps them for engineers).
    assert "expect_column" not in text_of(html)
    assert 'title="expect_column_values_to_be_unique"' in html
