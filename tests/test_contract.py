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


def test_unknown_type_is_refused_with_the_column_name():
    document = {"tables": {"t": {"required": False, "description": "", "primary_key": ["a"],
                                 "columns": [{"name": "a", "type": "money", "nullable": False,
                                              "description": ""}]}}}
    with pytest.raises(ValueError, match="'a': unknown type 'money'"):
        parse_contract(document)


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
