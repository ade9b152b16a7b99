import pytest

from ecom.contract import load_contract, parse_contract


def test_required_tables_are_customers_and_orders():
    assert load_contract().required_tables == ["customers", "orders"]


def test_issue_columns_exist_with_their_types():
    contract = load_contract()
    orders = contract.table("orders")
    assert orders.column_names[:5] == ["order_id", "customer_id", "ordered_at", "total_amount", "status"]
    assert orders.column("status").nullable
    assert orders.column("total_amount").storage_type == "DECIMAL(18,2)"
    assert contract.table("customers").column("signup_at").nullable
    touch = contract.table("touchpoints")
    assert [c for c in touch.column_names] == [
        "touchpoint_id", "customer_id", "anonymous_id", "channel", "campaign_id", "occurred_at", "touch_type",
    ]


def test_personal_columns_are_marked():
    contract = load_contract()
    assert contract.table("customers").personal_columns == ["name", "phone", "email", "address"]
    assert contract.table("orders").personal_columns == ["shipping_address"]


def test_identifiers_are_text_so_leading_zeros_survive():
    for table in load_contract().tables.values():
        for column in table.columns:
            if column.name.endswith("_id"):
                assert column.storage_type == "VARCHAR", (table.name, column.name)


def test_primary_key_columns_exist():
    for table in load_contract().tables.values():
        assert set(table.primary_key) <= set(table.column_names), table.name


def document(column: dict | None = None, **table: object) -> dict:
    """A one-table contract document: column `a` (overridden by `column`), then `table` entries."""
    spec = {"name": "a", "type": "id", "nullable": False, "description": ""} | (column or {})
    return {"key_uniqueness": {"severity": "warning", "description": ""},
            "tables": {"t": {"required": False, "description": "", "primary_key": ["a"],
                             "columns": [spec, {"name": "b", "type": "text", "nullable": True,
                                                "description": ""}], **table}}}


def test_unknown_type_is_refused_with_the_column_name():
    with pytest.raises(ValueError, match="'a': unknown type 'money'"):
        parse_contract(document({"type": "money"}))


def test_an_unknown_entry_is_refused_naming_table_and_column():
    """An unquoted comma in a YAML flow mapping ends the value: the rest becomes an unknown key."""
    with pytest.raises(ValueError, match=r"table 't', column 'a': unknown entries \['if any.'\]"):
        parse_contract(document({"if any.": None}))


def test_row_rules_are_read_and_checked():
    rule = {"column": "b", "when": {"column": "a", "equals": "x"}, "severity": "warning", "description": "d"}
    [parsed] = parse_contract(document(row_rules=[rule])).table("t").row_rules
    assert (parsed.column, parsed.when.describe(), parsed.severity) == ("b", "a = 'x'", "warning")
    for bad, refusal in (
        ({"when": {"column": "a", "is_null": True, "equals": "x"}}, "exactly one of equals, is_null"),
        ({"when": {"column": "c", "is_null": True}}, "no column 'c'"),
        ({"severity": "fatal"}, "severity 'fatal' is not one of error, warning"),
    ):
        with pytest.raises(ValueError, match=refusal):
            parse_contract(document(row_rules=[rule | bad]))


def test_the_gate_rules_the_json_suites_held_are_in_the_contract():
    contract = load_contract()
    assert contract.key_uniqueness.severity == "warning"
    rules = {(t.name, r.column, r.when.describe(), r.severity)
             for t in contract.tables.values() for r in t.row_rules}
    assert rules == {
        ("events", "order_id", "event_type = 'purchase'", "warning"),
        ("events", "anonymous_id", "customer_id is empty", "warning"),
        ("touchpoints", "anonymous_id", "customer_id is empty", "warning"),
    }


def test_descriptions_with_commas_are_whole():
    orders = load_contract().table("orders")
    assert orders.column("total_amount").description.endswith("0 is a real (free) purchase.")


def test_unknown_table_error_names_it():
    with pytest.raises(KeyError, match="no table 'payments'"):
        load_contract().table("payments")
