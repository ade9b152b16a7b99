"""The one guard against personal data in the marts (ecom.personal_columns), which the mart gate and
publish both call."""

from __future__ import annotations

import duckdb

from ecom.contract import load_contract
from ecom.dbt_manifest import manifest_path, mart_contracts
from ecom.personal_columns import personal_columns, personal_names
from ecom.sql import identifier


def catalog(tables: dict[str, list[str]]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("create schema marts")
    for table, columns in tables.items():
        con.execute(f"create table marts.{table} ({', '.join(f'{identifier(c)} varchar' for c in columns)})")
    return con


def test_the_personal_names_are_the_contract_personal_columns():
    assert personal_names() == {
        "address": ["customers.address"],
        "email": ["customers.email"],
        "name": ["customers.name"],
        "phone": ["customers.phone"],
        "shipping_address": ["orders.shipping_address"],
    }
    declared = {c.name for t in load_contract().tables.values() for c in t.columns if c.personal}
    assert set(personal_names()) == declared


def test_a_personal_word_of_a_name_in_any_case_is_caught_and_no_contracted_mart_column():
    words = sorted(personal_names())
    flagged = [name for word in words
               for name in (word, f"customer_{word}", f"{word}_hash", f"last_{word}_seen")]
    shouted = [f"Customer_{word.upper()}" for word in words]
    harmless = ["username", "rename_count", "emails_sent", "product_title", "addressee"]
    contracts = mart_contracts(manifest_path()).values()
    mart_columns = sorted({column for contract in contracts for column in contract.columns})
    assert len(mart_columns) > 100  # every documented column of every mart
    con = catalog({"flagged": flagged, "harmless": harmless + mart_columns, "shouted": shouted})

    found = personal_columns(con, "marts")

    assert [(f.table, f.column) for f in found] == [
        *(("flagged", name) for name in flagged), *(("shouted", name) for name in shouted)
    ]
    by_column = {f.column: f.personal for f in found}
    assert by_column["customer_email"] == ("customers.email",)
    assert by_column["last_shipping_address_seen"] == ("customers.address", "orders.shipping_address")


def test_only_the_given_schema_of_the_given_database_is_read():
    con = catalog({"t": ["phone"]})
    con.execute("create schema raw; create table raw.customers (phone varchar)")
    con.execute("attach ':memory:' as other; create schema other.marts")
    con.execute("create table other.marts.u (email int)")

    assert [(f.table, f.column) for f in personal_columns(con, "marts")] == [("t", "phone")]
    [other] = personal_columns(con, "marts", "other")
    assert other.describe("marts") == "marts.u.email (personal column customers.email of the raw contract)"
