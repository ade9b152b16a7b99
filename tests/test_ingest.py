"""Ingestion: landed files → raw_pending exactly once, untypable rows → audit.rejects, then raw."""

from __future__ import annotations

import gzip
import hashlib
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from ecom.config import Settings
from ecom.contract import Column, load_contract
from ecom.ingest import (
    ChangedFileError,
    UnreadableFileError,
    ingest,
    latest_order_date,
    promote_pending,
    runner,
)
from ecom.ingest.casting import typed_value_sql
from ecom.ingest.discovery import discover_landing
from ecom.ingest.readers import read_landed_files, reading_groups
from landing_files import ORDERS_HEADER, land, query


def file_id(settings: Settings, relative: str) -> str:
    checksum = hashlib.sha256((settings.landing_dir / relative).read_bytes()).hexdigest()
    return hashlib.sha256((relative + checksum).encode()).hexdigest()


def manifest(settings: Settings) -> list[tuple]:
    return query(settings, "SELECT path, status, rows_read, rows_loaded, rows_rejected "
                           "FROM audit.load_manifest ORDER BY path, loaded_at")


def test_csv_rows_are_typed_with_ids_verbatim_and_timestamps_in_utc(settings: Settings) -> None:
    land(settings, "customers/2026/01/crm.csv",
         "\ufeff Customer_ID ,SIGNUP_AT,city_tier,birth_date, Name \n"
         "00017,2026-01-05 08:00:00,1,1990-02-03,  Li Lei  \n"
         "0420,2026-01-05T08:00:00+00:00,,,\n")

    result = ingest(settings, "batch-1")

    assert query(settings, "SELECT customer_id, signup_at, city_tier, birth_date, name, _file_id, _line, "
                           "_batch_id FROM raw_pending.customers ORDER BY _line") == [
        ("00017", datetime(2026, 1, 5, 0, 0), 1, date(1990, 2, 3), "Li Lei",
         file_id(settings, "customers/2026/01/crm.csv"), 2, "batch-1"),
        ("0420", datetime(2026, 1, 5, 8, 0), None, None, None,
         file_id(settings, "customers/2026/01/crm.csv"), 3, "batch-1"),
    ]
    assert (result.files_loaded, result.rows_read, result.rows_loaded, result.rows_rejected) == (1, 2, 2, 0)
    assert result.tables["customers"].rows_loaded == 2
    assert query(settings, "SELECT path, file_format, columns_present, missing_columns, extra_columns, "
                           "status, batch_id, size_bytes FROM audit.load_manifest") == [
        ("customers/2026/01/crm.csv", "csv", ["customer_id", "signup_at", "city_tier", "birth_date", "name"],
         ["phone", "email", "address", "gender", "city", "province", "acquisition_channel"], [],
         "pending", "batch-1", (settings.landing_dir / "customers/2026/01/crm.csv").stat().st_size),
    ]


def test_parquet_and_json_lines_are_read_as_text_then_typed(settings: Settings) -> None:
    parquet = settings.landing_dir / "orders" / "orders.parquet"
    parquet.parent.mkdir()
    with duckdb.connect() as con:
        con.execute(f"""COPY (SELECT * FROM (VALUES ('007', 'c1', TIMESTAMP '2026-01-05 08:00:00', 12.5),
                                                    ('008', 'c2', TIMESTAMP '2026-01-06 09:30:00', 0.0))
                               t(Order_ID, customer_id, ordered_at, total_amount))
                        TO '{parquet}' (FORMAT parquet)""")
    land(settings, "orders/more.jsonl",
         '{"order_id": "009", "customer_id": "c3", "ordered_at": "2026-01-05T20:00:00Z", "total_amount": 3}\n'
         "\n"
         '{"order_id": "010", "Customer_Id": "c4", "ordered_at": "2026-01-07 10:00:00",'
         ' "total_amount": "4.25", "note": {"gift": true}}\n')
    gzipped = gzip.compress(f"{ORDERS_HEADER}\n011,c5,2026-01-08,1.10\n".encode())
    land(settings, "orders/sub/extra.csv.gz", gzipped)

    result = ingest(settings, "b1")

    assert query(settings, "SELECT order_id, customer_id, ordered_at, total_amount, _line "
                           "FROM raw_pending.orders ORDER BY order_id") == [
        ("007", "c1", datetime(2026, 1, 5, 0, 0), Decimal("12.50"), 1),
        ("008", "c2", datetime(2026, 1, 6, 1, 30), Decimal("0.00"), 2),
        ("009", "c3", datetime(2026, 1, 5, 20, 0), Decimal("3.00"), 1),
        ("010", "c4", datetime(2026, 1, 7, 2, 0), Decimal("4.25"), 3),
        ("011", "c5", datetime(2026, 1, 7, 16, 0), Decimal("1.10"), 2),
    ]
    assert query(settings, "SELECT path, file_format, extra_columns FROM audit.load_manifest "
                           "ORDER BY path") == [
        ("orders/more.jsonl", "jsonl", ["note"]),
        ("orders/orders.parquet", "parquet", []),
        ("orders/sub/extra.csv.gz", "csv", []),
    ]
    assert (result.files_loaded, result.rows_read, result.rows_loaded, result.rows_rejected) == (3, 5, 5, 0)


def test_untypable_values_and_broken_lines_are_rejected_with_file_line_column_and_reason(
        settings: Settings) -> None:
    land(settings, "orders/day1.csv",
         f"{ORDERS_HEADER}\n"
         "001,c1,2026-01-05 10:00:00,10.00\n"
         "002,c2,2026-13-01,5\n"
         '003,c3,2026-01-05 11:00:00,"12,5"\n'
         "004, ,2026-01-05 12:00:00,7\n"
         "005,c5,2026-01-05 13:00:00,8,surplus\n"
         "006,,not a time,1\n")

    result = ingest(settings, "b1")

    reject_rows = query(settings, "SELECT batch_id, file_id, table_name, path, line, column_name, raw_value, "
                                  "reason FROM audit.rejects ORDER BY line, column_name")
    lineage = ("b1", file_id(settings, "orders/day1.csv"), "orders", "orders/day1.csv")
    assert reject_rows == [
        (*lineage, 3, "ordered_at", "2026-13-01", "not a valid timestamp (ISO 8601 expected)"),
        (*lineage, 4, "total_amount", "12,5",
         "not a valid decimal (digits with a '.' decimal point expected)"),
        (*lineage, 5, "customer_id", " ", "required value is empty"),
        (*lineage, 6, None, "005,c5,2026-01-05 13:00:00,8,surplus",
         "malformed CSV line: expected 4 fields, found 5"),
        (*lineage, 7, "customer_id", None, "required value is empty"),
        (*lineage, 7, "ordered_at", "not a time", "not a valid timestamp (ISO 8601 expected)"),
    ]
    assert query(settings, "SELECT order_id, _line FROM raw_pending.orders") == [("001", 2)]
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (6, 1, 5)
    assert result.rows_read == result.rows_loaded + result.rows_rejected
    assert manifest(settings) == [("orders/day1.csv", "pending", 6, 1, 5)]


ORDERS_WITH_STATUS = "order_id,customer_id,ordered_at,total_amount,status"
TOO_FEW_FIELDS = (f"{ORDERS_WITH_STATUS}\n"
                  "1,C1,2026-06-01 10:00:00,10.00,paid\n"  # line 2
                  "9,C1,2026-06-01 10:00:00\n"  # line 3: 3 of 5 fields
                  '8,"C\n8",2026-06-01\n'  # lines 4-5: 3 fields, one of them quoted over two lines
                  "2,C2,2026-06-01 11:00:00,20.00,paid\n")  # line 6
TOO_MANY_FIELDS = (f"{ORDERS_WITH_STATUS}\n"
                   "3,C3,2026-06-01 12:00:00,30.00,paid,x,y\n"  # line 2: 7 of 5 fields
                   "4,C4,2026-06-01 13:00:00,40.00,paid\n")  # line 3


def test_a_line_with_too_few_or_too_many_fields_is_one_reject_with_the_field_counts(
        settings: Settings) -> None:
    land(settings, "orders/few.csv", TOO_FEW_FIELDS)
    land(settings, "orders/many.csv", TOO_MANY_FIELDS)

    result = ingest(settings, "b1")

    few = ("b1", file_id(settings, "orders/few.csv"), "orders", "orders/few.csv")
    many = ("b1", file_id(settings, "orders/many.csv"), "orders", "orders/many.csv")
    assert query(settings, "SELECT batch_id, file_id, table_name, path, line, column_name, raw_value, reason "
                           "FROM audit.rejects ORDER BY path, line") == [
        (*few, 3, None, "9,C1,2026-06-01 10:00:00", "malformed CSV line: expected 5 fields, found 3"),
        (*few, 4, None, '8,"C\n8",2026-06-01', "malformed CSV line: expected 5 fields, found 3"),
        (*many, 2, None, "3,C3,2026-06-01 12:00:00,30.00,paid,x,y",
         "malformed CSV line: expected 5 fields, found 7"),
    ]
    assert query(settings, "SELECT order_id, _line FROM raw_pending.orders ORDER BY 1") == [
        ("1", 2), ("2", 6), ("4", 3)]
    assert manifest(settings) == [
        ("orders/few.csv", "pending", 4, 2, 2), ("orders/many.csv", "pending", 2, 1, 1)]
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (6, 3, 3)


def test_a_broken_record_is_one_broken_row_in_a_multi_file_scan_and_alone(settings: Settings) -> None:
    land(settings, "orders/few.csv", TOO_FEW_FIELDS)
    land(settings, "orders/many.csv", TOO_MANY_FIELDS)
    files = discover_landing(settings.landing_dir, ["orders"]).files
    [group] = reading_groups(files)
    broken = "SELECT file_index, line, column_name, reason FROM ingest_broken ORDER BY file_index, line"
    expected = [
        (3, None, "malformed CSV line: expected 5 fields, found 3"),
        (4, None, "malformed CSV line: expected 5 fields, found 3"),
        (2, None, "malformed CSV line: expected 5 fields, found 7"),
    ]

    with duckdb.connect() as con:
        read_landed_files(con, group)
        in_one_scan = con.execute(broken).fetchall()
        read_landed_files(con, group[:1])
        few_alone = con.execute(broken).fetchall()
        read_landed_files(con, group[1:])
        many_alone = con.execute(broken).fetchall()

    assert in_one_scan == [(0, *expected[0]), (0, *expected[1]), (1, *expected[2])]
    assert few_alone == [(0, *expected[0]), (0, *expected[1])]
    assert many_alone == [(0, *expected[2])]


def test_physical_line_numbers_survive_blank_lines_and_quoted_newlines(settings: Settings) -> None:
    land(settings, "reviews/r.csv",
         "review_id,product_id,customer_id,rating,review_text,reviewed_at\n"  # line 1
         'r1,p1,c1,5,"great\nreally great",2026-01-05\n'  # lines 2-3
         "\n"  # line 4
         "r2,p1,c2,4.5,ok,2026-01-05\n"  # line 5: not an integer
         "r3,p1,c3,3\n"  # line 6: too few columns
         'r4,p2,c4,1,"bad ""quote"" inside",2026-01-06\n')  # line 7

    result = ingest(settings, "b1")

    assert query(settings, "SELECT review_id, review_text, _line FROM raw_pending.reviews "
                           "ORDER BY _line") == [
        ("r1", "great\nreally great", 2),
        ("r4", 'bad "quote" inside', 7),
    ]
    assert query(settings, "SELECT line, reason FROM audit.rejects ORDER BY line, reason") == [
        (5, "not a valid integer"),
        (6, "malformed CSV line: expected 6 fields, found 4"),
    ]
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (4, 2, 2)


def test_json_line_that_is_not_an_object_is_rejected(settings: Settings) -> None:
    land(settings, "products/p.ndjson", '{"product_id": "p1", "list_price": 9.9}\n{oops\n')

    result = ingest(settings, "b1")

    assert query(settings, "SELECT line, column_name, raw_value, reason FROM audit.rejects") == [
        (2, None, "{oops", "not a valid JSON object")]
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (2, 1, 1)


def test_empty_and_header_only_files_are_recorded_with_zero_rows(settings: Settings) -> None:
    land(settings, "orders/empty.csv", b"")
    land(settings, "orders/header_only.csv", f"{ORDERS_HEADER}\n")
    land(settings, "orders/empty.jsonl", b"")

    result = ingest(settings, "b1")

    assert manifest(settings) == [
        ("orders/empty.csv", "pending", 0, 0, 0),
        ("orders/empty.jsonl", "pending", 0, 0, 0),
        ("orders/header_only.csv", "pending", 0, 0, 0),
    ]
    assert (result.files_loaded, result.rows_read) == (3, 0)


def test_second_ingest_of_the_same_landing_loads_nothing(settings: Settings) -> None:
    land(settings, "orders/day1.csv", f"{ORDERS_HEADER}\n001,c1,2026-01-05,1\n002,c2,bad,2\n")
    ingest(settings, "b1")

    again = ingest(settings, "b2")

    assert (again.files_loaded, again.files_skipped, again.rows_read, again.rows_loaded) == (0, 1, 0, 0)
    assert query(settings, "SELECT count(*) FROM raw_pending.orders") == [(1,)]
    assert query(settings, "SELECT count(*) FROM audit.rejects") == [(1,)]
    assert manifest(settings) == [("orders/day1.csv", "pending", 2, 1, 1)]


def test_changed_accepted_file_is_refused_naming_it(settings: Settings) -> None:
    land(settings, "orders/day1.csv", f"{ORDERS_HEADER}\n001,c1,2026-01-05,1\n")
    ingest(settings, "b1")
    promote_pending(settings)
    land(settings, "orders/day1.csv", f"{ORDERS_HEADER}\n001,c1,2026-01-05,2\n")
    land(settings, "orders/day2.csv", f"{ORDERS_HEADER}\n002,c1,2026-01-06,1\n")

    with pytest.raises(ChangedFileError, match=r"orders/day1\.csv.*new file name"):
        ingest(settings, "b2")

    assert manifest(settings) == [("orders/day1.csv", "accepted", 1, 1, 0)]  # nothing else happened
    assert query(settings, "SELECT total_amount FROM raw.orders") == [(Decimal("1.00"),)]


def test_pending_file_fixed_in_place_replaces_its_rows_and_manifest_row(settings: Settings) -> None:
    land(settings, "orders/day1.csv", f"{ORDERS_HEADER}\n001,c1,2026-13-05,1\n002,c2,2026-01-05,2\n")
    ingest(settings, "b1")
    land(settings, "orders/day1.csv", f"{ORDERS_HEADER}\n001,c1,2026-01-05,1\n002,c2,2026-01-05,2\n")

    result = ingest(settings, "b2")

    assert (result.files_loaded, result.files_replaced) == (1, 1)
    assert query(settings, "SELECT order_id, _batch_id FROM raw_pending.orders ORDER BY 1") == [
        ("001", "b2"), ("002", "b2")]
    assert query(settings, "SELECT file_id, status, rows_loaded FROM audit.load_manifest") == [
        (file_id(settings, "orders/day1.csv"), "pending", 2)]
    assert query(settings, "SELECT count(*) FROM audit.rejects") == [(0,)]


def test_pending_file_removed_from_landing_is_withdrawn_and_can_come_back(settings: Settings) -> None:
    land(settings, "orders/day1.csv", f"{ORDERS_HEADER}\n001,c1,2026-01-05,1\n")
    land(settings, "orders/day2.csv", f"{ORDERS_HEADER}\n002,c1,2026-01-06,1\n")
    ingest(settings, "b1")
    saved = (settings.landing_dir / "orders/day2.csv").read_bytes()
    (settings.landing_dir / "orders/day2.csv").unlink()

    result = ingest(settings, "b2")

    assert result.files_withdrawn == 1
    assert query(settings, "SELECT order_id FROM raw_pending.orders") == [("001",)]
    assert manifest(settings) == [("orders/day1.csv", "pending", 1, 1, 0),
                                  ("orders/day2.csv", "withdrawn", 1, 1, 0)]

    land(settings, "orders/day2.csv", saved)
    back = ingest(settings, "b3")

    assert back.files_loaded == 1
    assert manifest(settings) == [("orders/day1.csv", "pending", 1, 1, 0),
                                  ("orders/day2.csv", "pending", 1, 1, 0)]


def test_file_lacking_a_required_column_loads_with_null_and_records_it(settings: Settings) -> None:
    land(settings, "orders/no_customer.csv", "order_id,ordered_at,total_amount\n001,2026-01-05,1\n")

    result = ingest(settings, "b1")

    assert query(settings, "SELECT order_id, customer_id FROM raw_pending.orders") == [("001", None)]
    assert query(settings, "SELECT missing_columns FROM audit.load_manifest") == [
        (["customer_id", "status", "payment_method", "coupon_code", "discount_amount", "platform",
          "shipping_address"],)]
    assert "customer_id" in result.missing_columns["orders/no_customer.csv"]
    assert result.rows_rejected == 0


def test_promote_moves_pending_rows_into_raw_tables_shaped_like_the_contract(settings: Settings) -> None:
    land(settings, "orders/day1.csv", f"{ORDERS_HEADER}\n001,c1,2026-01-05,1\n002,c2,2026-01-05,2\n")
    land(settings, "products/empty.csv", "product_id,product_name\n")
    ingest(settings, "b1")

    promoted = promote_pending(settings)

    assert promoted == {"orders": 2, "products": 0}
    columns = query(settings, "SELECT column_name, data_type FROM information_schema.columns WHERE "
                              "table_schema = 'raw' AND table_name = 'orders' ORDER BY ordinal_position")
    contract_orders = load_contract().table("orders")
    assert columns == [(c.name, c.storage_type) for c in contract_orders.columns] + [
        ("_file_id", "VARCHAR"), ("_line", "BIGINT"), ("_batch_id", "VARCHAR"), ("_loaded_at", "TIMESTAMP")]
    assert query(settings, "SELECT order_id, _line FROM raw.orders ORDER BY 1") == [("001", 2), ("002", 3)]
    assert query(settings, "SELECT count(*) FROM raw.orders WHERE _loaded_at IS NULL") == [(0,)]
    assert query(settings, "SELECT count(*) FROM raw_pending.orders") == [(0,)]
    assert query(settings, "SELECT status, count(*), count(accepted_at) FROM audit.load_manifest "
                           "GROUP BY 1") == [("accepted", 2, 2)]
    raw_tables = query(settings, "SELECT table_name FROM information_schema.tables "
                                 "WHERE table_schema = 'raw' ORDER BY 1")
    assert raw_tables == [("orders",), ("products",)]  # events etc. never landed: no raw relation
    assert promote_pending(settings) == {}


def test_latest_order_date_is_the_business_day_over_raw_and_pending(settings: Settings) -> None:
    assert latest_order_date(settings) is None
    land(settings, "orders/day1.csv", f"{ORDERS_HEADER}\n001,c1,2026-01-04T09:00:00Z,1\n")
    ingest(settings, "b1")
    promote_pending(settings)
    land(settings, "orders/day2.csv", f"{ORDERS_HEADER}\n002,c1,2026-01-05T20:00:00Z,1\n")
    ingest(settings, "b2")

    assert latest_order_date(settings) == date(2026, 1, 6)  # 04:00 on the 6th in Asia/Shanghai
    utc_settings = Settings(settings.landing_dir, settings.warehouse_dir, business_tz="UTC")
    assert latest_order_date(utc_settings) == date(2026, 1, 5)


def test_unknown_folders_unsupported_and_hidden_files_are_not_loaded(settings: Settings) -> None:
    land(settings, "wishlists/w.csv", "a\n1\n")
    land(settings, "orders/.tmp.csv", f"{ORDERS_HEADER}\n001,c1,2026-01-05,1\n")
    land(settings, "orders/_SUCCESS", "")
    land(settings, "orders/readme.txt", "hello")

    result = ingest(settings, "b1")

    assert result.files_loaded == 0
    assert result.warnings == [
        "orders/readme.txt: unsupported file type "
        "(expected .csv, .csv.gz, .parquet, .jsonl, .ndjson or .json): it was not read",
        "folder wishlists/ is not a raw contract table: its files were not read",
    ]
    assert "wishlists" in result.describe()


@pytest.mark.parametrize(("column_type", "text", "expected"), [
    ("boolean", "Yes", True), ("boolean", "0", False), ("boolean", "maybe", None),
    ("integer", "-7", -7), ("integer", "1.5", None), ("integer", "1e3", None),
    ("decimal", "-3.456", Decimal("-3.46")), ("decimal", "1,000", None),
    ("date", "2026-02-28", date(2026, 2, 28)), ("date", "2026-2-28", None), ("date", "2026-02-30", None),
])
def test_typing_rules(column_type: str, text: str, expected: object) -> None:
    column = Column(name="v", type=column_type, nullable=True, description="")
    with duckdb.connect() as con:
        assert con.execute(f"SELECT {typed_value_sql(column, '$1')}", [text]).fetchone() == (expected,)


def test_files_read_in_one_scan_keep_their_own_lines_rejects_and_counts(settings: Settings) -> None:
    land(settings, "orders/day1.csv", f"{ORDERS_HEADER}\n001,c1,2026-01-05,1\n002,c2,2026-01-05,2,extra\n")
    land(settings, "orders/day2.csv", f'{ORDERS_HEADER}\n\n003,"c\n3",2026-01-06,3\n004,c4,bad,4\n')
    land(settings, "orders/day3.csv", "customer_id,order_id,total_amount,ordered_at\nc5,005,5,2026-01-07\n")
    land(settings, "orders/day4.csv", f"{ORDERS_HEADER}\n006,c6,2026-01-08,6\n007,c7,2026-01-08,\"7\n")
    land(settings, "orders/day5.csv", f"{ORDERS_HEADER}\n008,c8,2026-01-09,8\n")

    result = ingest(settings, "b1")

    assert query(settings, "SELECT order_id, customer_id, total_amount, _line, _file_id "
                           "FROM raw_pending.orders ORDER BY order_id") == [
        ("001", "c1", Decimal("1.00"), 2, file_id(settings, "orders/day1.csv")),
        ("005", "c5", Decimal("5.00"), 2, file_id(settings, "orders/day3.csv")),
        ("006", "c6", Decimal("6.00"), 2, file_id(settings, "orders/day4.csv")),
        ("008", "c8", Decimal("8.00"), 2, file_id(settings, "orders/day5.csv")),
    ]
    assert query(settings, "SELECT path, line, column_name, reason FROM audit.rejects "
                           "ORDER BY path, line") == [
        ("orders/day1.csv", 3, None, "malformed CSV line: expected 4 fields, found 5"),
        ("orders/day2.csv", 3, "customer_id",
         "not a valid id: it holds a line break or another control character"),
        ("orders/day2.csv", 5, "ordered_at", "not a valid timestamp (ISO 8601 expected)"),
        ("orders/day4.csv", 3, None,
         "malformed CSV line: unquoted value in total_amount: Value with unterminated quote found."),
    ]
    assert manifest(settings) == [
        ("orders/day1.csv", "pending", 2, 1, 1),
        ("orders/day2.csv", "pending", 2, 0, 2),
        ("orders/day3.csv", "pending", 1, 1, 0),
        ("orders/day4.csv", "pending", 2, 1, 1),
        ("orders/day5.csv", "pending", 1, 1, 0),
    ]
    assert (result.files_loaded, result.rows_read, result.rows_loaded, result.rows_rejected) == (5, 8, 4, 4)


def test_file_versions_of_one_batch_are_ordered_in_time_by_path(settings: Settings) -> None:
    for day in (3, 1, 2):
        land(settings, f"orders/day{day}.csv", f"{ORDERS_HEADER}\n001,c1,2026-01-0{day},{day}\n")

    ingest(settings, "b1")

    loaded = query(settings, "SELECT m.path, m.loaded_at, min(p._loaded_at), max(p._loaded_at) "
                             "FROM audit.load_manifest m JOIN raw_pending.orders p ON p._file_id = m.file_id "
                             "GROUP BY ALL ORDER BY m.loaded_at")
    assert [row[0] for row in loaded] == ["orders/day1.csv", "orders/day2.csv", "orders/day3.csv"]
    assert all(row[1] == row[2] == row[3] for row in loaded)  # a file's rows carry its manifest time
    assert len({row[1] for row in loaded}) == 3


def test_csv_with_invalid_utf8_rejects_that_line_and_loads_the_rest(settings: Settings) -> None:
    land(settings, "orders/a.csv",
         f"{ORDERS_HEADER}\n001,c1,2026-01-05,1\n".encode()
         + b"002,c\xff2,2026-01-05,2\n003,c3,2026-01-05,3\n")
    land(settings, "orders/b.csv", f"{ORDERS_HEADER}\n004,c4,2026-01-05,4\n")

    result = ingest(settings, "b1")

    assert query(settings, "SELECT order_id, _line FROM raw_pending.orders ORDER BY 1") == [
        ("001", 2), ("003", 4), ("004", 2)]
    assert query(settings, "SELECT path, line, reason FROM audit.rejects") == [
        ("orders/a.csv", 3, "malformed CSV line: invalid encoding in customer_id: Invalid unicode (byte "
                            "sequence mismatch) detected. This file is not utf-8 encoded.")]
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (4, 3, 1)


def test_unreadable_file_is_named_and_nothing_of_its_table_is_loaded(settings: Settings) -> None:
    land(settings, "customers/c.csv", "customer_id\nc1\n")
    land(settings, "orders/a.csv.gz", gzip.compress(f"{ORDERS_HEADER}\n001,c1,2026-01-05,1\n".encode()))
    land(settings, "orders/b.csv.gz", gzip.compress(f"{ORDERS_HEADER}\n002,c2,2026-01-05,2\n".encode())[:-12])

    with pytest.raises(UnreadableFileError, match=r"orders/b\.csv\.gz cannot be read"):
        ingest(settings, "b1")

    assert manifest(settings) == [("customers/c.csv", "pending", 1, 1, 0)]  # loaded before orders
    assert query(settings, "SELECT count(*) FROM raw_pending.orders") == [(0,)]


def test_loading_in_several_transactions_gives_the_same_rows(settings: Settings, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    land(settings, "orders/day1.csv", f"{ORDERS_HEADER}\n001,c1,2026-01-05,1\n002,c2,x,2\n")
    land(settings, "orders/day2.csv", f"{ORDERS_HEADER}\n003,c3,2026-01-06,3\n")
    ingest(settings, "b1")
    one_file_each = Settings(settings.landing_dir, tmp_path / "other", business_tz=settings.business_tz)
    monkeypatch.setattr(runner, "CHUNK_BYTES", 1)

    result = ingest(one_file_each, "b1")

    rows = "SELECT order_id, _file_id, _line FROM raw_pending.orders ORDER BY 1"
    assert query(one_file_each, rows) == query(settings, rows)
    assert manifest(one_file_each) == manifest(settings) == [
        ("orders/day1.csv", "pending", 2, 1, 1), ("orders/day2.csv", "pending", 1, 1, 0)]
    assert result.files_loaded == 2


def test_only_files_of_plain_one_line_records_are_taken_from_a_multi_file_scan(settings: Settings) -> None:
    # DuckDB 2.0's multi-file CSV scan can lose a malformed record (an unterminated quote at the end of
    # a file): any file whose records are not plain one-line records is read again alone. A plain line
    # with a field too many is one rejected record in the scan.
    land(settings, "orders/a.csv", f'{ORDERS_HEADER}\n001,"c,1",2026-01-05,"1"\n\n002,"c""2",2026-01-05,2\n')
    land(settings, "orders/b.csv", f'{ORDERS_HEADER}\nab"c,c1,2026-01-05,1\n003,c3,2026-01-05,"3\n')
    land(settings, "orders/c.csv", f'{ORDERS_HEADER}\n004,"c\n4",2026-01-05,4\n')
    land(settings, "orders/d.csv", f"{ORDERS_HEADER}\n005,c5,2026-01-05,5,5\n")
    files = discover_landing(settings.landing_dir, ["orders"]).files
    [group] = reading_groups(files)

    with duckdb.connect() as con:
        read = read_landed_files(con, group)

        broken = con.execute("SELECT file_index, line, reason FROM ingest_broken "
                             "WHERE file_index = 3").fetchall()

    assert read.columns == ["order_id", "customer_id", "ordered_at", "total_amount"]
    assert read.misread == [1, 2]
    assert broken == [(3, 2, "malformed CSV line: expected 4 fields, found 5")]
