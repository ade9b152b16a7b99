"""What may be shown: personal values masked by column and by content, secrets in URLs hidden."""

from __future__ import annotations

import duckdb
import pytest

from ecom.redaction import (
    MASKED,
    looks_personal,
    mask_personal_content,
    masks_value,
    redact_urls,
    stored_value_sql,
)

PERSONAL = [
    "13977770003", "+86 139 7777 0003", "139-7777-0003", "010 6552 1234", "+1-202-555-0143",
    "li.lei@example.com", "Li Lei <LI_LEI+shop@mail.example.cn>", "11010519491231002X",
    "call 13977770003 today", "shipped,13977770003,Hangzhou",
]
NOT_PERSONAL = [
    "2026-01-05", "2026-01-05 10:00:00", "2026-01-05T02:00:00+08:00", "9999999999999999.99", "4535.00",
    "O000000001", "000005", "E000000000001", "A00002655", "C0006", "F", "kol_live", "139777700031",
    "not an @ address", "O13977770003",
]


@pytest.mark.parametrize("value", PERSONAL)
def test_phone_numbers_e_mail_addresses_and_id_numbers_look_personal(value: str) -> None:
    assert looks_personal(value)


@pytest.mark.parametrize("value", NOT_PERSONAL)
def test_dates_amounts_and_shop_ids_do_not(value: str) -> None:
    assert not looks_personal(value)


def test_the_sql_form_of_the_patterns_agrees_with_the_python_form() -> None:
    values = PERSONAL + NOT_PERSONAL
    with duckdb.connect() as con:
        stored = con.execute(f"SELECT {stored_value_sql('v', 'c', [])} FROM unnest(?::VARCHAR[]) t(v), "
                             "(SELECT 'city' AS c)", [values]).fetchall()
    assert [row[0] for row in stored] == [MASKED if looks_personal(v) else v for v in values]


def test_a_value_is_stored_masked_in_a_personal_column_whatever_it_looks_like() -> None:
    with duckdb.connect() as con:
        stored = con.execute(f"SELECT {stored_value_sql('v', 'c', ['name'])} FROM (VALUES "
                             "(1, 'Li Lei', 'name'), (2, 'Li Lei', NULL), (3, NULL, 'name')) t(k, v, c) "
                             "ORDER BY k").fetchall()
    assert stored == [(MASKED,), ("Li Lei",), (None,)]


def test_personal_content_in_free_text_is_masked_and_the_rest_kept() -> None:
    assert (mask_personal_content("customer 13977770003 (li@example.com) on 2026-01-05, order O13977770003")
            == "customer •••• (••••) on 2026-01-05, order O13977770003")


@pytest.mark.parametrize(("text", "shown"), [
    ("POST https://hooks.slack.com/services/T0/B0/XYZ failed", "POST https://hooks.slack.com/•••• failed"),
    ("see https://user:pw@example.com:8443/x?token=1.", "see https://example.com:8443/••••"),
    ("at https://example.com, then", "at https://example.com, then"),
    ("postgresql://airflow:secret@db/airflow", "postgresql://db/••••"),
])
def test_urls_keep_their_host_only(text: str, shown: str) -> None:
    assert redact_urls(text) == shown


@pytest.mark.parametrize(("table", "column", "raw", "masked"), [
    ("customers", "phone", "123", True),  # a personal column, whatever its content
    ("customers", "gender", "13977770003", True),  # a phone number in the wrong column
    ("customers", "gender", "X", False),
    ("customers", None, "c1,Li Lei", True),  # a whole record of a table with personal columns
    ("events", None, "e1,s1,,a1", False),
    ("events", None, "e1,s1,li@example.com", True),
    ("not_in_contract", "x", "y", True),
])
def test_which_landed_values_are_masked(table: str, column: str | None, raw: str, masked: bool) -> None:
    assert masks_value(table, column, raw) is masked
