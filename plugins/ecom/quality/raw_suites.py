"""The raw gate's suites `raw.<table>`, built from the raw data contract at run time.

Every rule comes from plugins/ecom/contract/raw_tables.yml, so none is written twice:
- per column, in the contract's order: not null (nullable: false), in set (allowed_values), between
  (min, max), all with severity error. Ingestion already rejects a row that breaks one of them; the gate
  checks them again on the rows it is about to promote.
- the primary key unique among the pending rows, with the contract's `key_uniqueness` severity;
- the table's `row_rules`: a column that must have a value where a condition holds.

The key is checked as the share of distinct values (`KEY_SCREEN`): one aggregate query, where GX's
row-listing uniqueness expectation (`expect_column_values_to_be_unique`) takes three window queries.
Only when the share is below 1 does the gate validate `key_listing` too, to name the files and lines
sharing a key (raw_rows.py). A compound key is checked as one column of the rows the gate validates,
`key_column`: the list of its values as text, so that rows whose keys are both empty in one column
share the key (GX's compound uniqueness joins on equality in SQL, where an empty value equals nothing).
"""

from __future__ import annotations

from typing import Any

from great_expectations.core.expectation_suite import ExpectationSuite

from ecom.contract import Column, Condition, Contract, RowRule, Table
from ecom.quality.results import ERROR
from ecom.quality.suites import GX_SEVERITY_BY_META

KEY_SCREEN = "expect_column_proportion_of_unique_values_to_be_between"


def raw_suite(contract: Contract, table: Table) -> ExpectationSuite:
    """The suite `raw.<table>`: the column rules, the key and the row rules of the table."""
    expectations = [e for column in table.columns for e in _column_rules(column)]
    screen = {"column": key_column(table), "min_value": 1.0}
    severity = contract.key_uniqueness.severity
    expectations.append(_expectation(KEY_SCREEN, screen, severity, _key_note(contract, table)))
    expectations += [_row_rule(rule) for rule in table.row_rules]
    return ExpectationSuite(name=f"raw.{table.name}", expectations=expectations)


def key_column(table: Table) -> str:
    """The column holding the primary key: the key's own column, or for a compound key the column the
    gate adds, named after its columns (raw_rows.pending_rows_sql)."""
    return ",".join(table.primary_key)


def key_listing(contract: Contract, table: Table) -> dict[str, Any]:
    """The expectation that lists the pending rows sharing a primary key, by their index columns."""
    kwargs = {"column": key_column(table)}
    return _expectation("expect_column_values_to_be_unique", kwargs, contract.key_uniqueness.severity,
                        _key_note(contract, table))


def _key_note(contract: Contract, table: Table) -> str:
    return (f"Primary key ({', '.join(table.primary_key)}) unique among the pending rows. "
            f"{contract.key_uniqueness.description}")


def _column_rules(column: Column) -> list[dict[str, Any]]:
    rules = []
    if not column.nullable:
        rules.append(_expectation("expect_column_values_to_not_be_null", {"column": column.name}, ERROR,
                                  "Non-nullable in the raw data contract."))
    if column.allowed_values:
        kwargs = {"column": column.name, "value_set": list(column.allowed_values)}
        rules.append(_expectation("expect_column_values_to_be_in_set", kwargs, ERROR,
                                  "Allowed values of the raw data contract."))
    bounds = {name: value for name, value in (("min_value", column.min), ("max_value", column.max))
              if value is not None}
    if bounds:
        rules.append(_expectation("expect_column_values_to_be_between", {"column": column.name, **bounds},
                                  ERROR, "Range of the raw data contract."))
    return rules


def _row_rule(rule: RowRule) -> dict[str, Any]:
    kwargs = {"column": rule.column, "row_condition": _row_condition(rule.when)}
    return _expectation("expect_column_values_to_not_be_null", kwargs, rule.severity, rule.description)


def _row_condition(condition: Condition) -> dict[str, Any]:
    """A GX condition object (GX 1.9+; string conditions are deprecated)."""
    column = {"name": condition.column}
    if condition.is_null:
        return {"type": "nullity", "column": column, "is_null": True}
    return {"type": "comparison", "column": column, "operator": "==", "parameter": condition.equals}


def _expectation(kind: str, kwargs: dict[str, Any], severity: str, notes: str) -> dict[str, Any]:
    return {"type": kind, "kwargs": kwargs, "severity": GX_SEVERITY_BY_META[severity].value, "notes": notes}
