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


def test_an_unquoted_comma_in_a_description_is_refused_not_cut_short():
    import yaml

    document = yaml.safe_load(
        "tables:\n  t:\n    required: false\n    description: d\n    primary_key: [a]\n    columns:\n"
        "      - {name: a, type: id, nullable: false, description: Signed-in customer, empty if anonymous.}\n"
    )
    with pytest.raises(ValueError, match=r"column 'a': unknown key\(s\) 'empty if anonymous.'"):
        parse_contract(document)


def test_vocabularies_are_declared_once_and_columns_name_them():
    contract = load_contract()
    orders = contract.table("orders")
    assert orders.column("status").vocabulary == contract.vocabularies["order_status"]
    groups = contract.vocabularies["order_status"].groups
    assert groups == ("paid", "shipped", "completed", "returned", "cancelled")
    shared = [f"{t.name}.{c.name}" for t in contract.tables.values() for c in t.columns
              if c.vocabulary and c.vocabulary.name == "channel"]
    assert shared == ["customers.acquisition_channel", "touchpoints.channel", "marketing_spend.channel"]
    quarantining = sorted(v.name for v in contract.vocabularies.values() if v.quarantines_unmapped)
    assert quarantining == ["consent_data_type", "consent_status", "order_status", "touch_type"]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"unmapped": "drop", "description": "d"}, "unmapped must be keep or quarantine"),
        ({"unmapped": "quarantine", "description": "d"},
         "groups are listed exactly when unmapped is quarantine"),
        ({"unmapped": "keep", "groups": ["a"], "description": "d"}, "groups are listed exactly when"),
    ],
)
def test_a_vocabulary_without_a_clear_policy_is_refused(spec, message):
    document = {"vocabularies": {"v": spec}, "tables": {}}
    with pytest.raises(ValueError, match=message):
        parse_contract(document)


def test_a_column_naming_an_undeclared_vocabulary_is_refused():
    document = {"vocabularies": {}, "tables": {"t": {
        "required": False, "description": "d", "primary_key": ["a"],
        "columns": [
            {"name": "a", "type": "text", "nullable": True, "vocabulary": "colour", "description": "d"}
        ],
    }}}
    with pytest.raises(ValueError, match="column 'a': vocabulary 'colour' is not a declared vocabulary"):
        parse_contract(document)


def test_freshness_thresholds_render_into_the_dbt_sources_a_table_may_override_them():
    import yaml

    from ecom.contract.dbt_sources import render_dbt_sources

    def key(name: str) -> list[dict]:
        return [{"name": name, "type": "id", "nullable": False, "description": "Id."}]

    weekly = {"warn_after": {"count": 8, "period": "day"}, "error_after": {"count": 30, "period": "day"}}
    document = {
        "freshness": {"warn_after": {"count": 36, "period": "hour"}},
        "key_uniqueness": {"severity": "warning", "description": "latest wins"},
        "tables": {
            "orders": {"required": True, "description": "Orders.", "primary_key": ["order_id"],
                       "columns": key("order_id")},
            "products": {"required": False, "description": "Catalogue.", "primary_key": ["product_id"],
                         "freshness": weekly, "columns": key("product_id")},
        },
    }
    source = yaml.safe_load(render_dbt_sources(parse_contract(document)))["sources"][0]

    assert source["config"] == {"loaded_at_field": "_loaded_at",
                                "freshness": {"warn_after": {"count": 36, "period": "hour"}}}
    tables = {table["name"]: table for table in source["tables"]}
    assert "config" not in tables["orders"]
    assert tables["products"]["config"] == {"freshness": weekly}
    document["freshness"] = {"warn_after": {"count": 2, "period": "week"}}
    refusal = r"freshness: warn_after must be \{count: N, period: minute\|hour\|day\}"
    with pytest.raises(ValueError, match=refusal):
        parse_contract(document)
