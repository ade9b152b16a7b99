"""What a real shop lands first: odd files are loaded line for line or refused by name, nothing is read
from outside the landing folder, out-of-range and nested values are quarantined with file, line and
column, and no personal value or secret reaches a report.

Every physical line of a landed file is loaded, quarantined with its line number and a reason, or the
file is refused by name: rows read = rows loaded + rows rejected, and that count is the file's lines.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from ecom.config import Settings
from ecom.contract import load_contract, parse_contract
from ecom.ingest import (
    OutsideLandingError,
    UnreadableFileError,
    discovery,
    ingest,
    latest_order_date,
    promote_pending,
    readers,
    runner,
)
from ecom.ingest.casting import PERSONAL_REASON
from ecom.ingest.discovery import discover_landing
from ecom.ingest.readers import MisreadFileError, read_landed_files
from ecom.orchestrate import ingest_warnings_summary
from ecom.redaction import MASKED
from ecom.report import build_report
from landing_files import ORDERS_HEADER, land, query


def manifest(settings: Settings) -> list[tuple]:
    return query(settings, "SELECT path, rows_read, rows_loaded, rows_rejected FROM audit.load_manifest "
                           "ORDER BY path")


def rejects(settings: Settings) -> list[tuple]:
    return query(settings, "SELECT path, line, column_name, raw_value, reason FROM audit.rejects "
                           "ORDER BY path, line, column_name")


def order_lines(count: int, broken_line: int | None = None, broken: str = "") -> str:
    """A CSV of `count` orders (lines 2..count+1), the one on `broken_line` replaced by `broken`."""
    lines = [ORDERS_HEADER]
    for number in range(1, count + 1):
        lines.append(broken if number + 1 == broken_line else f"{number:03d},c{number},2026-01-05,{number}")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------- every physical line accounted


def test_an_unterminated_quote_mid_file_quarantines_every_line_it_swallows(settings: Settings) -> None:
    land(settings, "orders/a.csv", order_lines(13, broken_line=3, broken='002,"c2,2026-01-05,2'))

    result = ingest(settings, "b1")

    assert manifest(settings) == [("orders/a.csv", 13, 1, 12)]
    assert query(settings, "SELECT order_id, _line FROM raw_pending.orders") == [("001", 2)]
    swallowed = "malformed CSV line: inside the quoted field opened on line 3, which is never closed"
    assert rejects(settings) == [
        ("orders/a.csv", 3, None, '002,"c2,2026-01-05,2',
         "malformed CSV line: unquoted value in customer_id: Value with unterminated quote found."),
        *[("orders/a.csv", line, None, f"{line - 1:03d},c{line - 1},2026-01-05,{line - 1}", swallowed)
          for line in range(4, 15)],
    ]
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (13, 1, 12)


def test_a_quote_closed_lines_later_makes_one_record_whose_id_holding_a_line_break_is_rejected(
        settings: Settings) -> None:
    # '"c2' opens a quoted field that a stray quote on line 5 closes: one valid CSV record of lines 3-5
    land(settings, "orders/a.csv", f'{ORDERS_HEADER}\n001,c1,2026-01-05,1\n002,"c2,2026-01-05,2\n'
                                   f'003,c3,2026-01-05,3\n004,c4",2026-01-05,4\n005,c5,2026-01-05,5\n')

    ingest(settings, "b1")

    assert query(settings, "SELECT order_id, _line FROM raw_pending.orders ORDER BY 1") == [
        ("001", 2), ("005", 6)]
    assert query(settings, "SELECT line, column_name, reason FROM audit.rejects") == [
        (3, "customer_id", "not a valid id: it holds a line break or another control character")]
    assert manifest(settings) == [("orders/a.csv", 3, 2, 1)]


@pytest.mark.parametrize("before", ["\n\n", " \n\t\n"])
def test_blank_lines_before_the_header_are_skipped_and_counted(settings: Settings, before: str) -> None:
    land(settings, "orders/plain.csv", before + order_lines(2))
    land(settings, "orders/quoted.csv", before + f'{ORDERS_HEADER}\n001,c1,2026-01-05,"1\n"\n002,x\n')

    ingest(settings, "b1")

    assert manifest(settings) == [("orders/plain.csv", 2, 2, 0), ("orders/quoted.csv", 2, 1, 1)]
    assert query(settings, "SELECT path, line FROM audit.rejects") == [("orders/quoted.csv", 6)]
    assert query(settings, "SELECT m.path, p._line FROM raw_pending.orders p JOIN audit.load_manifest m "
                           "ON m.file_id = p._file_id ORDER BY 1, 2") == [
        ("orders/plain.csv", 4), ("orders/plain.csv", 5), ("orders/quoted.csv", 4)]


def test_a_file_whose_lines_the_reader_cannot_account_for_is_refused(settings: Settings) -> None:
    land(settings, "orders/a.csv", order_lines(3))
    [file] = discover_landing(settings.landing_dir, ["orders"]).files

    with duckdb.connect() as con, pytest.raises(MisreadFileError, match="4 lines were read of its 5"):
        read_landed_files(con, [replace(file, physical_lines=5)])


def test_a_file_whose_records_a_second_reading_does_not_find_is_refused(
        settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    # a record DuckDB's scan returns that Python's csv module does not: which lines it holds is unknown
    land(settings, "orders/a.csv", f'{ORDERS_HEADER}\n001,"c\n1",2026-01-05,1\n002,c2,2026-01-05,2\n')
    [file] = discover_landing(settings.landing_dir, ["orders"]).files
    monkeypatch.setattr(readers, "_record_spans", lambda file, layout: [(2, 3, 2)])

    with duckdb.connect() as con, pytest.raises(MisreadFileError, match="returned 2 records where its "
                                                                        "lines start 1"):
        read_landed_files(con, [file])


def test_a_refused_file_is_named_and_nothing_of_it_loads(settings: Settings,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    land(settings, "orders/a.csv", order_lines(3))
    real_digest = discovery.digest_file
    monkeypatch.setattr(discovery, "digest_file", lambda path, fmt: (real_digest(path, fmt)[0], 7))

    with pytest.raises(UnreadableFileError, match=r"orders/a\.csv cannot be read reliably: 4 lines were "
                                                  r"read of its 7 physical lines"):
        ingest(settings, "b1")

    assert query(settings, "SELECT count(*) FROM audit.load_manifest") == [(0,)]


# ------------------------------------------------------------------------------ names are data


def test_glob_characters_in_names_are_read_as_names(settings: Settings) -> None:
    names = ["orders[1].csv", "orders1.csv", "all*.csv", "allx.csv", "q?.csv", "qa.csv", "dt=[x]/o.csv",
             "dt=x/o.csv", "back\\slash.csv", "br{a,b}.csv", "~tilde.csv"]
    for number, name in enumerate(names, start=1):
        land(settings, f"orders/{name}", f"{ORDERS_HEADER}\n{number:03d},c{number},2026-01-05,{number}\n")

    result = ingest(settings, "b1")

    assert result.rows_read == result.rows_loaded == len(names)
    loaded = query(settings, "SELECT m.path, p.order_id FROM raw_pending.orders p "
                             "JOIN audit.load_manifest m ON m.file_id = p._file_id ORDER BY 2")
    assert loaded == [(f"orders/{name}", f"{number:03d}") for number, name in enumerate(names, start=1)]


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_a_file_with_another_delimiter_is_read_with_the_delimiter_its_header_uses(
        settings: Settings, delimiter: str) -> None:
    rows = [f"{n:03d};c{n};2026-01-05 10:00:00;{n}.50" for n in range(1, 7)] + ["007;c7;2026-01-05;7,50"]
    text = "\n".join([ORDERS_HEADER.replace(",", ";"), *rows]) + "\n"
    land(settings, "orders/eu.csv", text.replace(";", delimiter))

    ingest(settings, "b1")

    assert manifest(settings) == [("orders/eu.csv", 7, 6, 1)]
    assert query(settings, "SELECT count(*), sum(total_amount) FROM raw_pending.orders") == [
        (6, Decimal("24.00"))]
    assert query(settings, "SELECT line, column_name, raw_value, reason FROM audit.rejects") == [
        (8, "total_amount", "7,50", "not a valid decimal (digits with a '.' decimal point expected)")]


# ------------------------------------------------------------------- nothing from outside landing


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    (folder / "secret.csv").write_text(f"{ORDERS_HEADER}\n999,secret-customer,2026-01-05,1\n")
    return folder


@pytest.mark.parametrize(("link", "target"), [
    ("orders/passwd.csv", "/etc/passwd"),
    ("orders/secret.csv", "secret.csv"),
    ("orders/dt=2026-01-05", "."),  # a linked folder
    ("orders", "."),  # the table folder itself
])
def test_a_link_leading_outside_the_landing_folder_is_refused_by_name(
        settings: Settings, outside: Path, link: str, target: str) -> None:
    land(settings, "customers/c.csv", "customer_id\nc1\n")
    path = settings.landing_dir / link
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to(outside / target if not target.startswith("/") else target)

    with pytest.raises(OutsideLandingError, match=f"outside the landing folder: {link}\\. "):
        ingest(settings, "b1")

    assert query(settings, "SELECT count(*) FROM audit.load_manifest") == [(0,)]
    assert query(settings, "SELECT count(*) FROM audit.rejects") == [(0,)]


def test_links_inside_the_landing_folder_are_read_from_their_target_or_named(settings: Settings) -> None:
    land(settings, "orders/dt=1/a.csv", order_lines(2))
    (settings.landing_dir / "orders" / "latest.csv").symlink_to(settings.landing_dir / "orders/dt=1/a.csv")
    (settings.landing_dir / "orders" / "current").symlink_to(settings.landing_dir / "orders/dt=1")
    (settings.landing_dir / "orders" / "gone.csv").symlink_to(settings.landing_dir / "orders/none.csv")

    result = ingest(settings, "b1")

    assert manifest(settings) == [("orders/dt=1/a.csv", 2, 2, 0), ("orders/latest.csv", 2, 2, 0)]
    assert result.warnings == [
        "orders/current is a link to a folder, which is not followed: its files were not read",
        "orders/gone.csv is a broken link: it was not read",
    ]


# ------------------------------------------------------------------------ warnings reach the console


def test_what_was_not_read_is_kept_with_the_batch_and_shown_on_the_console(settings: Settings) -> None:
    land(settings, "refunds/r.csv", "refund_id\nr1\n")
    land(settings, "notes.csv", "a\n1\n")
    land(settings, "orders/export.xlsx", b"PK\x03\x04")
    land(settings, "orders/a.csv", order_lines(1))

    ingest(settings, "r1")

    assert ingest_warnings_summary(settings, "r1") == (
        "warning: file notes.csv is not inside a <table>/ folder: it was not read\n"
        "warning: orders/export.xlsx: unsupported file type (expected .csv, .csv.gz, .parquet, .jsonl, "
        ".ndjson or .json): it was not read\n"
        "warning: folder refunds/ is not a raw contract table: its files were not read\n"
    )
    assert ingest_warnings_summary(settings, "another run") == ""


# --------------------------------------------------------------------------------- types and ranges


def test_values_outside_the_contract_range_are_quarantined_naming_file_line_and_column(
        settings: Settings) -> None:
    land(settings, "orders/o.csv",
         f"{ORDERS_HEADER}\n"
         "001,c1,2026-01-05 10:00:00,9999999999999999.99\n"  # fits DECIMAL(18,2); sums of it do not
         "002,c2,1900-01-01 00:00:00,1\n"  # would get the pre-1901 local mean time offset
         "003,c3,0001-01-01 00:00:00,1\n"  # would be stored as a date BC
         "004,c4,2150-01-01 00:00:00,1\n"
         "005,c5,2026-01-05 10:00:00,100000000.00\n")  # the maximum itself is in range

    ingest(settings, "b1")

    assert rejects(settings) == [
        ("orders/o.csv", 2, "total_amount", "9999999999999999.99", "is above the maximum 100000000"),
        ("orders/o.csv", 3, "ordered_at", "1900-01-01 00:00:00", "is below the minimum 1970-01-01"),
        ("orders/o.csv", 4, "ordered_at", "0001-01-01 00:00:00", "is below the minimum 1970-01-01"),
        ("orders/o.csv", 5, "ordered_at", "2150-01-01 00:00:00", "is above the maximum 2100-01-01"),
    ]
    assert query(settings, "SELECT order_id FROM raw_pending.orders") == [("005",)]


def test_one_far_future_order_does_not_become_the_latest_order_day(settings: Settings) -> None:
    land(settings, "orders/o.csv",
         f"{ORDERS_HEADER}\n001,c1,2026-01-04 10:00:00,1\n002,c2,2099-12-31 10:00:00,1\n")
    ingest(settings, "b1")
    promote_pending(settings)

    assert latest_order_date(settings) == date(2026, 1, 4)  # today (the machine's) is before 2099
    assert latest_order_date(settings, today=date(2026, 1, 3)) is None


def test_more_decimals_than_the_storage_keeps_are_quarantined(settings: Settings) -> None:
    land(settings, "orders/o.csv", f"{ORDERS_HEADER}\n001,c1,2026-01-05,10.005\n002,c2,2026-01-05,10.500\n"
                                   "003,c3,2026-01-05,.5\n")

    ingest(settings, "b1")

    assert rejects(settings) == [("orders/o.csv", 2, "total_amount", "10.005", "has more than 2 decimals")]
    assert query(settings, "SELECT order_id, total_amount FROM raw_pending.orders ORDER BY 1") == [
        ("002", Decimal("10.50")), ("003", Decimal("0.50"))]


def test_a_column_the_contract_lets_round_is_rounded_and_counted(settings: Settings,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    document = {"tables": {"orders": {
        "required": True, "description": "Orders.", "primary_key": ["order_id"], "columns": [
            {"name": "order_id", "type": "id", "nullable": False, "description": "Id."},
            {"name": "total_amount", "type": "decimal", "nullable": False, "excess_decimals": "round",
             "description": "Total."},
            {"name": "discount_amount", "type": "decimal", "nullable": True, "description": "Discount."},
        ]}}}
    monkeypatch.setattr(runner, "load_contract", lambda: parse_contract(document))
    land(settings, "orders/o.csv", "order_id,total_amount,discount_amount\n"
                                   "1,10.005,1\n2,-2.344,\n3,3.10,0.125\n4,4.999,x\n")

    result = ingest(settings, "b1")

    assert query(settings, "SELECT order_id, total_amount FROM raw_pending.orders ORDER BY 1") == [
        ("1", Decimal("10.01")), ("2", Decimal("-2.34"))]  # half away from zero
    assert query(settings, "SELECT values_rounded FROM audit.load_manifest") == [(2,)]
    assert "orders: 1 file(s), read 4, loaded 2, rejected 2, 2 value(s) rounded" in result.describe()


def test_a_nested_json_value_is_quarantined_and_a_nested_extra_key_ignored(settings: Settings) -> None:
    land(settings, "customers/c.jsonl",
         '{"customer_id": "c1", "city": {"name": "Hangzhou"}}\n'
         '{"customer_id": ["c2"], "city": "Hangzhou"}\n'
         '{"customer_id": "c3", "city": "Hangzhou", "tags": {"vip": true}}\n')

    ingest(settings, "b1")

    nested = "is a nested value (an object or a list), not a single value"
    assert rejects(settings) == [
        ("customers/c.jsonl", 1, "city", '{"name":"Hangzhou"}', nested),
        ("customers/c.jsonl", 2, "customer_id", '["c2"]', nested),
    ]
    assert query(settings, "SELECT customer_id, city FROM raw_pending.customers") == [("c3", "Hangzhou")]


# ---------------------------------------------------------------------- nothing personal is shown


def report_html(settings: Settings, run_id: str) -> str:
    return build_report(settings, run_id).read_text(encoding="utf-8")


def test_a_phone_number_in_a_shifted_column_is_quarantined_and_masked_in_rejects_and_report(
        settings: Settings) -> None:
    # gender is the shop's own vocabulary (unmapped values load): a phone number there would reach a mart
    land(settings, "customers/c.csv",
         "customer_id,gender,city\nc1,13977770003,Hangzhou\nc2,F,li@example.com\nc3,F,Hangzhou\n")

    ingest(settings, "r1")
    html = report_html(settings, "r1")

    assert rejects(settings) == [("customers/c.csv", 2, "gender", MASKED, PERSONAL_REASON),
                                 ("customers/c.csv", 3, "city", MASKED, PERSONAL_REASON)]
    assert query(settings, "SELECT customer_id FROM raw_pending.customers") == [("c3",)]
    assert "13977770003" not in html and "li@example.com" not in html
    assert PERSONAL_REASON in html


def test_personal_columns_outside_the_contract_reach_no_table_reject_or_report(settings: Settings) -> None:
    land(settings, "customers/c.csv", "customer_id,gender,id_card,wechat\n"
                                      "c1,F,11010519491231002X,wx_li_lei\nc2,F,broken\n")
    land(settings, "events/e.jsonl", '{"event_id": "e1", "session_id": "s1", "event_type": "page_view", '
                                     '"occurred_at": "2026-01-05", "wechat": "wx_wang_fang"}\n'
                                     '["e2", "wx_zhao_lei"]\n')

    ingest(settings, "r1")
    html = report_html(settings, "r1")

    with duckdb.connect(str(settings.warehouse_db), read_only=True) as con:
        stored = repr([con.execute(f"SELECT * FROM {schema}.{table}").fetchall()
                       for schema, table in con.execute("SELECT table_schema, table_name FROM "
                                                        "information_schema.tables").fetchall()])
    for value in ("11010519491231002X", "wx_li_lei", "wx_wang_fang", "wx_zhao_lei"):
        assert value not in stored and value not in html, value
    assert query(settings, "SELECT path, line, raw_value FROM audit.rejects ORDER BY path") == [
        ("customers/c.csv", 3, MASKED), ("events/e.jsonl", 2, MASKED)]


# ------------------------------------------------------------------------------- the contract file


def test_every_contract_description_is_whole() -> None:
    for table in load_contract().tables.values():
        assert table.description.endswith("."), table.name
        for column in table.columns:
            assert column.description.endswith((".", "...")), (table.name, column.name, column.description)


def test_timestamps_and_dates_have_a_plausible_range_unless_the_column_says_otherwise() -> None:
    contract = load_contract()
    assert (contract.table("orders").column("ordered_at").min,
            contract.table("orders").column("ordered_at").max) == (date(1970, 1, 1), date(2100, 1, 1))
    assert contract.table("customers").column("birth_date").min == date(1900, 1, 1)
    assert contract.table("orders").column("total_amount").max == 100_000_000
