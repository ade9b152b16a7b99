"""The raw quality gate on tiny DuckDB warehouses shaped as docs/architecture.md "Raw layer" says."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest
import yaml

from ecom.config import Settings
from ecom.contract import load_contract
from ecom.contract.gate_rules import KEY_CHECK
from ecom.ingest.layers import LINEAGE_COLUMNS, ensure_layer_table
from ecom.quality import run_raw_gate
from ecom.quality.config import CONFIG_ENV, QUALITY_CONFIG_FILE
from ecom.warehouse import ensure_audit_tables

ORDERS_PATH = "orders/dt=2026-01-05/orders.csv"
CUSTOMERS_PATH = "customers/customers.csv"


class Warehouse:
    """Builds raw_pending / raw / audit.load_manifest rows with DuckDB, as ingestion would."""

    def __init__(self, db: Path) -> None:
        self.db = db
        with duckdb.connect(str(db)) as con:
            ensure_audit_tables(con)

    def add_file(
        self,
        table: str,
        path: str,
        rows: list[dict],
        *,
        status: str = "pending",
        missing: tuple[str, ...] = (),
        loaded_at: datetime = datetime(2026, 1, 6),
    ) -> None:
        """Rows are given by column name; absent columns are NULL. Row i is on line i + 2 (header = 1)."""
        contract_table = load_contract().table(table)
        schema = "raw_pending" if status == "pending" else "raw"
        file_id = f"id-{path}"
        with duckdb.connect(str(self.db)) as con:
            ensure_layer_table(con, schema, contract_table)
            names = [*contract_table.column_names, *(name for name, _ in LINEAGE_COLUMNS)]
            for line, row in enumerate(rows, start=2):
                lineage = [file_id, line, "b1", loaded_at]
                values = [row.get(name) for name in contract_table.column_names] + lineage
                placeholders = ", ".join("?" * len(names))
                con.execute(
                    f"insert into {schema}.{table} ({', '.join(names)}) values ({placeholders})",
                    values,
                )
            present = [c for c in contract_table.column_names if c not in missing]
            con.execute(
                "insert into audit.load_manifest (file_id, table_name, path, size_bytes, sha256, "
                "file_format, columns_present, missing_columns, extra_columns, rows_read, rows_loaded, "
                "rows_rejected, batch_id, status, loaded_at, accepted_at) values "
                "(?, ?, ?, 100, 'sha', 'csv', ?, ?, [], ?, ?, 0, 'b1', ?, "
                "timestamp '2026-01-06 00:00', null)",
                [file_id, table, path, present, list(missing), len(rows), len(rows), status],
            )


@pytest.fixture(autouse=True)
def gx_suites_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests judge the GX suites: no gate quarantine rule and no quarantine-share limit in the way
    (tests/test_quality_steward.py covers those)."""
    config = yaml.safe_load(QUALITY_CONFIG_FILE.read_text(encoding="utf-8"))
    rules = config["quarantine_rules"]
    rules |= {rule: False for rule, enabled in rules.items() if isinstance(enabled, bool)}
    config["quarantine_share"]["max_share"] = 1.0
    path = tmp_path / "quality.yml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    monkeypatch.setenv(CONFIG_ENV, str(path))


@pytest.fixture
def warehouse(settings: Settings) -> Warehouse:
    return Warehouse(settings.warehouse_db)


@pytest.fixture
def promotions(monkeypatch: pytest.MonkeyPatch) -> list[Settings]:
    """Stands in for ecom.ingest.promote_pending and records its calls."""
    calls: list[Settings] = []

    def promote_pending(settings: Settings) -> dict[str, int]:
        calls.append(settings)
        return {"customers": 2, "orders": 3}

    monkeypatch.setattr("ecom.ingest.promote_pending", promote_pending)
    return calls


CUSTOMERS = [
    {"customer_id": "c1", "gender": "F", "city_tier": 1, "acquisition_channel": "search"},
    {"customer_id": "c2", "gender": "M", "city_tier": 5, "acquisition_channel": "direct"},
]


def order(order_id: str, ordered_at: str, **overrides: object) -> dict:
    return {
        "order_id": order_id,
        "customer_id": "c1",
        "ordered_at": ordered_at,
        "total_amount": "10.50",
        "status": "paid",
        "payment_method": "alipay",
        "platform": "app",
    } | overrides


def test_clean_historic_batch_passes_as_of_its_own_date_and_is_promoted(settings, warehouse, promotions):
    warehouse.add_file("customers", CUSTOMERS_PATH, CUSTOMERS)
    # 2019-06-26 16:30 UTC is 2019-06-27 00:30 in Asia/Shanghai: 3 days before the as-of date (fresh), not 4.
    warehouse.add_file(
        "orders",
        "orders/2019.csv",
        [
            order("o1", "2019-06-20 08:00:00"),
            order("o2", "2019-06-21 09:00:00", status=None, total_amount="0"),
            order("o3", "2019-06-26 16:30:00", customer_id="c2"),
        ],
    )

    result = run_raw_gate(settings, "run-2019", date(2019, 6, 30))

    assert result.passed, result.describe()
    assert result.errors == [] and result.warnings == []
    assert promotions == [settings]
    assert result.promoted == {"customers": 2, "orders": 3}
    suites = {check.suite for check in result.checks}
    assert suites == {
        "raw.customers",
        "raw.orders",
        "raw_gate.file_schema",
        "raw_gate.required_tables",
        "raw_gate.orders_activity",
        "raw_gate.quarantine_share",
        "raw_gate.file_rows",
        "raw_gate.schema_change",
        "raw_gate.freshness",
    }
    freshness = next(
        c
        for c in result.checks
        if c.column == "days_since_last_order" and c.check == "expect_column_values_to_be_between"
    )
    assert freshness.success and freshness.severity == "error"
    assert result.notes == [
        "no pending rows, row checks skipped: "
        "order_items, products, events, touchpoints, marketing_spend, reviews, consents, "
        "social_activities, repayments"
    ]


def test_file_missing_a_required_column_fails_naming_file_and_column(settings, warehouse, promotions):
    warehouse.add_file("customers", CUSTOMERS_PATH, CUSTOMERS)
    warehouse.add_file(
        "orders",
        ORDERS_PATH,
        [order("o1", "2026-01-05 01:00:00", total_amount=None)],
        missing=("total_amount",),
    )

    result = run_raw_gate(settings, "run-missing-column", date(2026, 1, 5))

    assert not result.passed
    assert promotions == []
    assert result.promoted is None
    schema_errors = [c for c in result.errors if c.suite == "raw_gate.file_schema"]
    assert [(c.table, c.file, c.column, c.message) for c in schema_errors] == [
        (
            "orders",
            ORDERS_PATH,
            "total_amount",
            f"orders: file {ORDERS_PATH} lacks required column 'total_amount'",
        )
    ]
    assert f"orders: file {ORDERS_PATH} lacks required column 'total_amount'" in result.describe()
    # The file's rows are not row-checked too: no not-null error repeats the missing column.
    assert [c.suite for c in result.errors] == ["raw_gate.file_schema"]


def test_null_and_disallowed_values_fail_naming_file_and_line_and_are_recorded(
    settings, warehouse, promotions
):
    warehouse.add_file("customers", CUSTOMERS_PATH, CUSTOMERS)
    warehouse.add_file(
        "orders",
        ORDERS_PATH,
        [
            order("o1", "2026-01-05 01:00:00"),
            order("o2", "2026-01-05 02:00:00", total_amount="-5"),
            order("o3", "2026-01-05 03:00:00", customer_id=None),
        ],
    )

    result = run_raw_gate(settings, "run-bad-values", date(2026, 1, 5))

    assert not result.passed
    assert promotions == []
    by_check = {(c.check, c.column): c for c in result.errors}
    assert len(result.errors) == 2
    amount = by_check[("expect_column_values_to_be_between", "total_amount")]
    assert amount.file == ORDERS_PATH
    assert amount.message.startswith(f"orders: file {ORDERS_PATH}, column total_amount: ")
    assert amount.message.endswith("fails on 1 row(s): line 3 (-5.00)")
    customer = by_check[("expect_column_values_to_not_be_null", "customer_id")]
    assert customer.file == ORDERS_PATH
    assert customer.message.endswith("fails on 1 row(s): line 4 (None)")
    assert customer.message in result.describe()

    with duckdb.connect(str(settings.warehouse_db)) as con:
        recorded = con.execute(
            "select count(*), count(*) filter (where not success), min(as_of) from audit.validation_results "
            "where run_id = 'run-bad-values' and gate = 'raw'"
        ).fetchall()
        failures = con.execute(
            "select table_name, file_path, column_name, severity, message from audit.validation_results "
            "where run_id = 'run-bad-values' and not success order by column_name"
        ).fetchall()
    assert recorded == [(len(result.checks), 2, date(2026, 1, 5))]
    assert failures == [
        ("orders", ORDERS_PATH, "customer_id", "error", customer.message),
        ("orders", ORDERS_PATH, "total_amount", "error", amount.message),
    ]
    assert result.data_docs_index == settings.data_docs_dir / "index.html"
    assert result.data_docs_index.is_file()
    assert (settings.data_docs_dir / "README.txt").is_file()
    validated_suites = {check.suite for check in result.checks}
    assert len(list((settings.data_docs_dir / "validations").rglob("*.html"))) == len(validated_suites) == 10


def test_warning_only_failures_still_pass(settings, warehouse, promotions):
    warehouse.add_file("customers", CUSTOMERS_PATH, CUSTOMERS)
    warehouse.add_file(
        "orders",
        ORDERS_PATH,
        [
            order("o1", "2026-01-05 01:00:00"),
            order("o1", "2026-01-05 01:00:00", total_amount="11.00"),
        ],
    )

    result = run_raw_gate(settings, "run-duplicate-key", date(2026, 1, 5))

    assert result.passed, result.describe()
    assert promotions == [settings]
    [warning] = result.warnings
    assert (warning.table, warning.file, warning.column, warning.check) == (
        "orders",
        ORDERS_PATH,
        "order_id",
        "expect_column_values_to_be_unique",
    )
    assert warning.message.endswith("fails on 2 row(s): line 2 ('o1'), line 3 ('o1')")


def test_orders_older_than_the_freshness_window_fail(settings, warehouse, promotions):
    warehouse.add_file("customers", CUSTOMERS_PATH, CUSTOMERS)
    warehouse.add_file("orders", "orders/2019.csv", [order("o1", "2019-06-30 02:00:00")])

    result = run_raw_gate(settings, "run-stale", date(2019, 7, 10))

    assert not result.passed
    assert promotions == []
    activity = {c.column: c for c in result.checks if c.suite == "raw_gate.orders_activity" and not c.success}
    assert activity["days_since_last_order"].severity == "error"
    assert activity["days_since_last_order"].message.endswith(
        "fails on 1 row(s): [days_since_last_order=10, as_of='2019-07-10', last_order_day='2019-06-30']"
    )
    assert activity["orders_in_last_7_days"].severity == "warning"
    assert [c.suite for c in result.errors] == ["raw_gate.orders_activity"]


def test_missing_required_table_fails_naming_it(settings, warehouse, promotions):
    warehouse.add_file("orders", ORDERS_PATH, [order("o1", "2026-01-05 01:00:00")])

    result = run_raw_gate(settings, "run-no-customers", date(2026, 1, 5))

    assert not result.passed
    assert promotions == []
    assert [(c.table, c.message) for c in result.errors] == [
        ("customers", "customers: required table has no rows (none accepted, none pending)")
    ]
    assert "customers: required table has no rows" in result.describe()


def test_accepted_rows_satisfy_required_tables_and_freshness(settings, warehouse, promotions):
    warehouse.add_file("customers", CUSTOMERS_PATH, CUSTOMERS, status="accepted")
    warehouse.add_file("orders", "orders/old.csv", [order("o1", "2026-01-04 01:00:00")], status="accepted")
    warehouse.add_file("orders", ORDERS_PATH, [order("o2", "2026-01-05 01:00:00")])

    result = run_raw_gate(settings, "run-incremental", date(2026, 1, 6))

    assert result.passed, result.describe()
    assert result.notes[0].startswith("no pending rows, row checks skipped: customers, order_items,")
    assert promotions == [settings]


def test_with_real_ingestion_a_failed_file_stays_pending_until_fixed(tmp_path: Path):
    from ecom.ingest import ingest

    settings = Settings(landing_dir=tmp_path / "landing", warehouse_dir=tmp_path / "warehouse")
    landed = settings.landing_dir / ORDERS_PATH
    landed.parent.mkdir(parents=True)
    (settings.landing_dir / "customers").mkdir()
    (settings.landing_dir / CUSTOMERS_PATH).write_text("customer_id,gender\nc1,F\n")
    landed.write_text("order_id,customer_id,ordered_at\no1,c1,2026-01-05 10:00:00\n")
    ingest(settings, "b1")

    failed = run_raw_gate(settings, "run-real-1", date(2026, 1, 5))

    assert f"orders: file {ORDERS_PATH} lacks required column 'total_amount'" in failed.describe()
    landed.write_text("order_id,customer_id,ordered_at,total_amount\no1,c1,2026-01-05 10:00:00,9.90\n")
    ingest(settings, "b2")

    passed = run_raw_gate(settings, "run-real-2", date(2026, 1, 5))

    assert passed.passed, passed.describe()
    assert passed.promoted == {"customers": 1, "orders": 1}
    with duckdb.connect(str(settings.warehouse_db)) as con:
        assert con.execute("select order_id, total_amount::varchar from raw.orders").fetchall() == [
            ("o1", "9.90")
        ]
        assert con.execute("select distinct status from audit.load_manifest").fetchall() == [("accepted",)]


FILE_A = "orders/dt=2026-01-05/a.csv"
FILE_B = "orders/dt=2026-01-05/b.csv"


def add_orders_over_two_files(warehouse: Warehouse) -> None:
    """Five rows in two files, a key shared across them."""
    warehouse.add_file("customers", CUSTOMERS_PATH, CUSTOMERS)
    warehouse.add_file(
        "orders",
        FILE_A,
        [
            order("o1", "2026-01-05 01:00:00"),
            order("o2", "2026-01-05 02:00:00", total_amount="-5"),
            order("o3", "2026-01-05 03:00:00", total_amount="-5", customer_id=None),
        ],
    )
    warehouse.add_file(
        "orders",
        FILE_B,
        [
            order("o1", "2026-01-05 04:00:00", total_amount="-1"),  # the key of a:2
            order(None, "2026-01-05 05:00:00"),
        ],
    )


def test_row_checks_name_each_file_and_its_lines(settings, warehouse, promotions):
    add_orders_over_two_files(warehouse)

    result = run_raw_gate(settings, "run-two-files", date(2026, 1, 5))

    assert not result.passed
    assert promotions == []
    failures = sorted((c.severity, c.column, c.file, c.message) for c in result.checks if not c.success)
    assert failures == [
        (
            "error",
            "customer_id",
            FILE_A,
            f"orders: file {FILE_A}, column customer_id: expect_column_values_to_not_be_null fails on "
            "1 row(s): line 4 (None)",
        ),
        (
            "error",
            "order_id",
            FILE_B,
            f"orders: file {FILE_B}, column order_id: expect_column_values_to_not_be_null fails on "
            "1 row(s): line 3 (None)",
        ),
        (
            "error",
            "total_amount",
            FILE_A,  # one result for the file and its two bad rows
            f"orders: file {FILE_A}, column total_amount: expect_column_values_to_be_between(min_value=0.0, "
            "max_value=100000000.0) fails on 2 row(s): line 3 (-5.00), line 4 (-5.00)",
        ),
        (
            "error",
            "total_amount",
            FILE_B,
            f"orders: file {FILE_B}, column total_amount: expect_column_values_to_be_between(min_value=0.0, "
            "max_value=100000000.0) fails on 1 row(s): line 2 (-1.00)",
        ),
        (
            "warning",
            "order_id",
            FILE_A,  # the duplicate key spans files
            f"orders: file {FILE_A}, column order_id: expect_column_values_to_be_unique fails on 1 row(s): "
            "line 2 ('o1')",
        ),
        (
            "warning",
            "order_id",
            FILE_B,
            f"orders: file {FILE_B}, column order_id: expect_column_values_to_be_unique fails on 1 row(s): "
            "line 2 ('o1')",
        ),
    ]
    orders = [c for c in result.checks if c.suite == "raw.orders"]
    # The key is checked on the rows that can share one, the latest versions of the keys that repeat: the
    # two o1 rows (the null key occurs once, and is the not-null check's to report).
    assert {c.observed for c in orders if c.check == "expect_column_values_to_be_unique"} == {
        '{"element_count": 2, "unexpected_count": 2}'
    }
    assert next(c for c in orders if c.column == "ordered_at").observed == (
        '{"element_count": 5, "unexpected_count": 0}'
    )
    assert sum(c.success for c in orders) == 3  # 7 expectations, 4 failed (one passing result each)
    assert len(list((settings.data_docs_dir / "validations" / "raw" / "orders").rglob("*.html"))) == 1


def test_a_key_re_sent_in_a_later_file_is_its_new_version_not_a_duplicate(settings, warehouse, promotions):
    """A row re-sent in a later load (the demo's repayments re-send an instalment once it is paid) is the
    key's new version, as staging keeps it: no warning. Two rows of one file sharing a key still warn."""
    warehouse.add_file("customers", CUSTOMERS_PATH, CUSTOMERS)
    warehouse.add_file("orders", FILE_A, [order("o1", "2026-01-05 01:00:00")],
                       loaded_at=datetime(2026, 1, 5, 23))
    warehouse.add_file(
        "orders",
        FILE_B,
        [
            order("o1", "2026-01-05 01:00:00", total_amount="12.00"),  # re-sent, corrected
            order("o2", "2026-01-05 02:00:00"),
            order("o2", "2026-01-05 03:00:00"),
        ],
        loaded_at=datetime(2026, 1, 6),
    )

    result = run_raw_gate(settings, "run-resend", date(2026, 1, 5))

    keys = [c for c in result.checks if c.suite == "raw.orders" and c.column == "order_id"
            and c.check == KEY_CHECK]
    assert [(c.severity, c.file, c.message) for c in keys if not c.success] == [
        ("warning", FILE_B, f"orders: file {FILE_B}, column order_id: expect_column_values_to_be_unique "
                            "fails on 2 row(s): line 3 ('o2'), line 4 ('o2')"),
    ]
    # the check counts the latest versions of repeated keys only: o1 of file b, o2 twice
    assert json.loads(next(c for c in keys if not c.success).observed) == {
        "element_count": 3, "unexpected_count": 2}


def add_spend_over_two_files(warehouse: Warehouse) -> None:
    """Compound key (spend_date, channel, campaign_id), a null campaign taking part in it."""
    warehouse.add_file("customers", CUSTOMERS_PATH, CUSTOMERS)
    warehouse.add_file("orders", ORDERS_PATH, [order("o1", "2026-01-05 01:00:00")])
    spend = {"spend_date": "2026-01-05", "channel": "search", "campaign_id": None, "spend": "10"}
    warehouse.add_file(
        "marketing_spend",
        "marketing_spend/dt=2026-01-05/a.csv",
        # a channel the shop names itself loads (vocabulary `channel` keeps unmapped values)
        [spend, spend | {"channel": "social", "campaign_id": "k1"}, spend | {"channel": "bogus"}],
    )
    warehouse.add_file(
        "marketing_spend",
        "marketing_spend/dt=2026-01-05/b.csv",
        [spend | {"spend": "12"}, spend | {"spend": "-3", "campaign_id": "k1"}],
    )


@pytest.mark.parametrize("rows_listed", [None, 1])  # 1: "the first 1 of 2 ... are listed"
def test_row_checks_in_the_warehouse_equal_gx_on_the_rows_in_a_frame(
    settings, warehouse, promotions, monkeypatch, rows_listed
):
    """The gate's raw.orders results (GX's SQL engine, in DuckDB) equal GX's pandas engine on the same
    pending rows fetched into one frame, the key listed as the gate lists it when it fails."""

    from ecom.contract import load_contract
    from ecom.quality.outcomes import FILE_COLUMN, LINE_COLUMN, check_results
    from ecom.quality.raw_rows import pending_rows_sql, stage_key_versions
    from ecom.quality.raw_suites import raw_suite
    from ecom.quality.reads import fetch_frame
    from ecom.quality.validate import GateValidator

    if rows_listed is not None:
        monkeypatch.setattr("ecom.quality.validate.ROWS_LISTED_AT_MOST", rows_listed)
    add_orders_over_two_files(warehouse)
    result = run_raw_gate(settings, "run-in-sql", date(2026, 1, 5))
    contract = load_contract()
    orders = contract.table("orders")
    with duckdb.connect(str(settings.warehouse_db)) as con:
        versions = stage_key_versions(con, orders)
        whole = fetch_frame(con, f"{pending_rows_sql(orders, versions)} order by _file_path, _line")
    suite = raw_suite(contract, orders)
    validator = GateValidator(replace(settings, warehouse_dir=settings.warehouse_dir / "gx-ref"), "raw", "r")
    reference = check_results(validator.validate(suite, whole, [FILE_COLUMN, LINE_COLUMN]), "orders")

    assert len(whole) == 5
    assert [c for c in result.checks if c.suite == "raw.orders"] == reference
    # 1 listed: a failure names its first offending row's file only; the range and the key fail in both
    assert sum(not c.success for c in reference) == (6 if rows_listed is None else 4)
    if rows_listed is not None:
        assert any("(the first 1 of 2 offending rows are listed)" in c.message for c in reference)


def test_a_compound_key_with_an_empty_value_is_still_a_key(settings, warehouse, promotions):
    """marketing_spend's key (spend_date, channel, campaign_id): two rows without a campaign share it."""
    add_spend_over_two_files(warehouse)

    result = run_raw_gate(settings, "run-compound", date(2026, 1, 5))

    spend = [c for c in result.checks if c.suite == "raw.marketing_spend"]
    assert sorted((c.severity, c.check, c.file, c.message) for c in spend if not c.success) == [
        ("error", "expect_column_values_to_be_between", "marketing_spend/dt=2026-01-05/b.csv",
         "marketing_spend: file marketing_spend/dt=2026-01-05/b.csv, column spend: "
         "expect_column_values_to_be_between(min_value=0.0, max_value=100000000.0) fails on 1 row(s): "
         "line 3 (-3.00)"),
        *(
            ("warning", "expect_column_values_to_be_unique", f"marketing_spend/dt=2026-01-05/{name}.csv",
             f"marketing_spend: file marketing_spend/dt=2026-01-05/{name}.csv, "
             "column spend_date,channel,campaign_id: expect_column_values_to_be_unique fails on 1 row(s): "
             "line 2 (['2026-01-05', 'search', None])")
            for name in ("a", "b")
        ),
    ]
