"""Rows after the as-of date wait (issue #13): an early as-of holds them back, a later one publishes them."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import pytest

from ecom.config import Settings
from ecom.contract import load_contract
from ecom.ingest import ingest, latest_order_date, set_aside_waiting
from ecom.quality.config import load_quality_config
from ecom.quality.quarantine import find_quarantine_rows
from ecom.quality.raw_gate import run_raw_gate
from ecom.warehouse import MANIFEST_DDL, connect

FIRST_DAY = date(2026, 1, 1)
DAYS = 20
ORDERS_A_DAY = 10  # enough that the two defective orders stay under the 1% quarantine limit
EARLY_AS_OF = date(2026, 1, 12)  # 8 of the 20 days are after it: 40% of the orders
FAR_FUTURE_LINE = 2 + DAYS * ORDERS_A_DAY  # the stray order dated 2150, beyond the plausible range
UNKNOWN_CUSTOMER_LINE = FAR_FUTURE_LINE + 1  # an order after the early as-of date, of no landed customer


def land_without_partitions(settings: Settings) -> None:
    """Customers and ORDERS_A_DAY orders a day (c<n>'s on day n), in files without dt= folders."""
    days = [FIRST_DAY + timedelta(days=n) for n in range(DAYS)]
    customers = "".join(f"c{n},F\n" for n in range(DAYS))
    orders = "".join(f"o{n:02}-{k},c{n},{day} 10:0{k}:00,5.00,\n"
                     for n, day in enumerate(days) for k in range(ORDERS_A_DAY))
    orders += "o-stray,c0,2150-01-01 10:00:00,5.00,\n" + f"o-unknown,c99,{days[-1]} 11:00:00,5.00,\n"
    for relative, text in (
        ("customers/customers.csv", "customer_id,gender\n" + customers),
        ("orders/orders.csv", "order_id,customer_id,ordered_at,total_amount,discount_amount\n" + orders),
    ):
        path = settings.landing_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def manifest(settings: Settings) -> list[tuple]:
    with duckdb.connect(str(settings.warehouse_db), read_only=True) as con:
        return con.execute(
            "select path, status, rows_read, rows_loaded, rows_rejected, rows_waiting "
            "from audit.load_manifest order by path"
        ).fetchall()


def published_days(settings: Settings) -> list[tuple]:
    """Per day number of the published orders: how many."""
    with duckdb.connect(str(settings.warehouse_db), read_only=True) as con:
        return con.execute(
            "select left(order_id, 3), count(*) from raw.orders group by 1 order by 1"
        ).fetchall()


def days(count: int) -> list[tuple]:
    return [(f"o{n:02}", ORDERS_A_DAY) for n in range(count)]


def rejected_lines(settings: Settings) -> list[tuple]:
    with duckdb.connect(str(settings.warehouse_db), read_only=True) as con:
        return con.execute("select path, line, column_name from audit.rejects order by path, line").fetchall()


def test_an_early_as_of_holds_later_rows_back_and_a_later_run_publishes_them(settings: Settings) -> None:
    land_without_partitions(settings)
    ingest(settings, "b1")

    early = run_raw_gate(settings, "run-early", EARLY_AS_OF)

    # the orders of the 8 days after the as-of date are no defects: they wait, not counted as quarantined,
    # and the run passes without them
    assert early.passed, early.describe()
    assert "orders: 81 row(s) after the as-of date wait (rule future_timestamps)" in early.notes
    assert manifest(settings) == [
        ("customers/customers.csv", "accepted", 20, 20, 0, 0),
        ("orders/orders.csv", "accepted", 202, 120, 1, 81),  # read = loaded + rejected + waiting
    ]
    assert rejected_lines(settings) == [("orders/orders.csv", FAR_FUTURE_LINE, "ordered_at")]
    assert published_days(settings) == days(12)
    # "latest" sees the waiting orders (and never the far-future stray row)
    assert latest_order_date(settings) == FIRST_DAY + timedelta(days=DAYS - 1)

    later = run_raw_gate(settings, "run-latest", latest_order_date(settings))

    assert later.passed, later.describe()
    assert "orders: 1 row(s) quarantined by rule unknown_customers" in later.notes
    assert manifest(settings) == [
        ("customers/customers.csv", "accepted", 20, 20, 0, 0),
        ("orders/orders.csv", "accepted", 202, 200, 2, 0),
    ]
    assert published_days(settings) == days(DAYS)
    assert rejected_lines(settings) == [
        ("orders/orders.csv", FAR_FUTURE_LINE, "ordered_at"),
        ("orders/orders.csv", UNKNOWN_CUSTOMER_LINE, "customer_id"),
    ]
    with duckdb.connect(str(settings.warehouse_db), read_only=True) as con:
        assert con.execute("select count(*) from raw_waiting.orders").fetchall() == [(0,)]
        assert con.execute("select count(*) from raw_pending.orders").fetchall() == [(0,)]


def test_a_withdrawn_or_replaced_pending_file_takes_its_waiting_rows_along(settings: Settings) -> None:
    land_without_partitions(settings)
    ingest(settings, "b1")
    config = load_quality_config()
    contract = load_contract()
    with connect(settings) as con:
        findings = find_quarantine_rows(con, contract, config.rules, config.event_time, EARLY_AS_OF,
                                        settings.business_tz)
        assert set_aside_waiting(con, contract, findings.relation) == 81
    orders = settings.landing_dir / "orders" / "orders.csv"
    orders.write_text(orders.read_text(encoding="utf-8") + "o-new,c0,2026-01-20 12:00:00,5.00,\n",
                      encoding="utf-8")

    ingest(settings, "b2")  # fixed in place while pending: the old version goes, waiting rows included

    assert [row[:2] for row in manifest(settings)] == [("customers/customers.csv", "pending"),
                                                      ("orders/orders.csv", "pending")]
    with duckdb.connect(str(settings.warehouse_db), read_only=True) as con:
        assert con.execute("select count(*) from raw_waiting.orders").fetchall() == [(0,)]
        assert con.execute("select count(*) from raw_pending.orders").fetchall() == [(202,)]
    with connect(settings) as con:
        findings = find_quarantine_rows(con, contract, config.rules, config.event_time, EARLY_AS_OF,
                                        settings.business_tz)
        assert set_aside_waiting(con, contract, findings.relation) == 82
    orders.unlink()

    ingest(settings, "b3")  # gone while pending: withdrawn, waiting rows included

    assert [row[:2] for row in manifest(settings)] == [("customers/customers.csv", "pending"),
                                                      ("orders/orders.csv", "withdrawn")]
    with duckdb.connect(str(settings.warehouse_db), read_only=True) as con:
        assert con.execute("select count(*) from raw_waiting.orders").fetchall() == [(0,)]
        assert con.execute("select count(*) from raw_pending.orders").fetchall() == [(0,)]


# audit.load_manifest as the code before waiting rows created it (plugins/ecom/warehouse.py at 909c1f4^):
# the same columns but rows_waiting, a CHECK that counts no waiting rows, and the columns added later
# appended by ALTER TABLE.
MANIFEST_BEFORE_WAITING_DDL = MANIFEST_DDL.replace(
    "    rows_waiting BIGINT NOT NULL DEFAULT 0,\n", "").replace(
    "rows_loaded + rows_rejected + rows_waiting", "rows_loaded + rows_rejected") + """
ALTER TABLE audit.load_manifest ADD COLUMN physical_lines BIGINT;
ALTER TABLE audit.load_manifest ADD COLUMN inode BIGINT;
ALTER TABLE audit.load_manifest ADD COLUMN mtime_ns BIGINT;
ALTER TABLE audit.load_manifest ADD COLUMN ctime_ns BIGINT;
ALTER TABLE audit.load_manifest ADD COLUMN values_rounded BIGINT DEFAULT 0;
"""


def manifest_to_the_shape_before_waiting(settings: Settings) -> None:
    """The warehouse's manifest, its rows kept, in the table the code before waiting rows had."""
    with duckdb.connect(str(settings.warehouse_db)) as con:
        assert con.execute("select sum(rows_waiting) from audit.load_manifest").fetchall() == [(0,)]
        con.execute("create temp table kept as select * exclude (rows_waiting) from audit.load_manifest")
        con.execute("drop table audit.load_manifest")
        con.execute(MANIFEST_BEFORE_WAITING_DDL)
        con.execute("insert into audit.load_manifest by name select * from kept")


def manifest_columns(settings: Settings) -> list[str]:
    with duckdb.connect(str(settings.warehouse_db), read_only=True) as con:
        return [row[0] for row in con.execute(
            "select column_name from duckdb_columns() where schema_name = 'audit' "
            "and table_name = 'load_manifest' order by column_index").fetchall()]


def test_a_warehouse_from_before_waiting_rows_migrates_on_the_next_ingest(settings: Settings) -> None:
    land_without_partitions(settings)
    ingest(settings, "b1")
    assert run_raw_gate(settings, "run-old", FIRST_DAY + timedelta(days=DAYS - 1)).passed
    before = manifest(settings)
    assert before == [
        ("customers/customers.csv", "accepted", 20, 20, 0, 0),
        ("orders/orders.csv", "accepted", 202, 200, 2, 0),
    ]
    manifest_to_the_shape_before_waiting(settings)
    assert "rows_waiting" not in manifest_columns(settings)
    # a new day of orders, and two orders after the next run's as-of date
    late_day = FIRST_DAY + timedelta(days=DAYS)
    late = settings.landing_dir / "orders" / "orders_late.csv"
    late.write_text(
        "order_id,customer_id,ordered_at,total_amount,discount_amount\n"
        + "".join(f"o{DAYS}-{k},c{k},{late_day} 10:0{k}:00,5.00,\n" for k in range(ORDERS_A_DAY))
        + "".join(f"o{DAYS + 3}-{k},c{k},{late_day + timedelta(days=3)} 10:00:00,5.00,\n" for k in range(2)),
        encoding="utf-8",
    )

    result = ingest(settings, "b2")  # opens the old manifest: migrated before anything is recorded

    assert result.files_skipped == 2  # the files recorded in the old manifest are not read again
    assert manifest(settings) == [*before, ("orders/orders_late.csv", "pending", 12, 12, 0, 0)]

    gate = run_raw_gate(settings, "run-new", late_day)

    assert gate.passed, gate.describe()
    assert manifest(settings) == [*before, ("orders/orders_late.csv", "accepted", 12, 10, 0, 2)]
    assert published_days(settings) == [*days(DAYS), (f"o{DAYS}", ORDERS_A_DAY)]
    with duckdb.connect(str(settings.warehouse_db)) as con:
        assert con.execute("select count(*) from raw_waiting.orders").fetchall() == [(2,)]
        # the migrated table's CHECK counts the waiting rows: read = loaded + rejected + waiting
        assert con.execute(
            "select count(*) from audit.load_manifest "
            "where rows_read <> rows_loaded + rows_rejected + rows_waiting").fetchall() == [(0,)]
        with pytest.raises(duckdb.ConstraintException):
            con.execute("update audit.load_manifest set rows_waiting = rows_waiting + 1 "
                        "where path = 'orders/orders.csv'")
