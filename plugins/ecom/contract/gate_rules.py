"""The raw gate's rules of each table, as plain expectation specs built from the raw data contract.

Every rule comes from plugins/ecom/contract/raw_tables.yml, so none is written twice:
- per column, in the contract's order: not null (nullable: false), in set (allowed_values), between
  (min, max, the column's own or its type's `type_defaults`, for decimal and integer columns), all with
  severity error. Ingestion already rejects a row that breaks one of them (and one outside a date or
  timestamp range); the gate checks them again on the rows it is about to promote. A vocabulary column
  has no value list here: the shop's seed maps its values (an unmapped value of a `quarantine`
  vocabulary is rejected at ingest, one of a `keep` vocabulary is the steward check unmapped_values).
- the primary key unique among the latest versions of the pending rows, with the contract's
  `key_uniqueness` severity: a row re-sent in a later file (a later `_loaded_at`) is the key's new
  version, as staging keeps it, so only rows of one file (one load) sharing a key fail;
- the table's `row_rules`: a column that must have a value where a condition holds.

A spec is {type, kwargs, severity (error | warning), notes}: ecom.quality.raw_suites makes the GX suite
`raw.<table>` of them, and the run report (ecom.report_checks) names the checks from the same specs.
Nothing here imports Great Expectations.

The key is checked by GX's uniqueness expectation (`KEY_CHECK`, which lists the files and lines that
share a key) on the rows that can fail it: the latest versions of the keys that occur more than once
among the pending rows. A key seen once is unique, and so is every key of a load without repeats: the
rows the gate validates carry `REPEATED_KEY_COLUMN`, the latest load of their key where the row is that
latest version of a repeated key (else empty), and the check holds on the rows where it is filled
(`LATEST_VERSIONS`), a few rows found by a semi join, not a distinct count of every key (ecom.quality.
raw_rows, repeated_keys). A compound key is checked as one column of the rows the gate
validates, `key_column`: the list of its values as text, so that rows whose keys are both empty in one
column share the key (GX's compound uniqueness joins on equality in SQL, where an empty value equals
nothing).
"""

from __future__ import annotations

from typing import Any

from ecom.contract import ERROR, Column, Condition, Contract, RowRule, Table

KEY_CHECK = "expect_column_values_to_be_unique"
# The column of the validated rows holding the latest load of the row's key where the row is the latest
# version of a key that occurs more than once (NULL otherwise), and the condition that keeps those rows:
# the only latest versions that can share a key.
REPEATED_KEY_COLUMN = "_latest_of_repeated_key"
LATEST_VERSIONS = {"type": "nullity", "column": {"name": REPEATED_KEY_COLUMN}, "is_null": False}
# The types whose range the gate checks again (dates and timestamps are bounded at ingest only).
NUMERIC_TYPES = ("decimal", "integer")

Spec = dict[str, Any]


def table_rules(contract: Contract, table: Table) -> list[Spec]:
    """The specs of `raw.<table>`: the column rules, the key check and the row rules of the table."""
    specs = [spec for column in table.columns for spec in _column_rules(column)]
    key = {"column": key_column(table), "row_condition": LATEST_VERSIONS}
    specs.append(_spec(KEY_CHECK, key, contract.key_uniqueness.severity, _key_note(contract, table)))
    specs += [_row_rule(rule) for rule in table.row_rules]
    return specs


def key_column(table: Table) -> str:
    """The column holding the primary key: the key's own column, or for a compound key the column the
    gate adds, named after its columns (ecom.quality.raw_rows.pending_rows_sql)."""
    return ",".join(table.primary_key)


def _key_note(contract: Contract, table: Table) -> str:
    return (f"Primary key ({', '.join(table.primary_key)}) unique among the latest versions of the "
            "pending rows. "
            f"{contract.key_uniqueness.description}")


def _column_rules(column: Column) -> list[Spec]:
    rules = []
    if not column.nullable:
        rules.append(_spec("expect_column_values_to_not_be_null", {"column": column.name}, ERROR,
                           "Non-nullable in the raw data contract."))
    if column.allowed_values:
        kwargs = {"column": column.name, "value_set": list(column.allowed_values)}
        rules.append(_spec("expect_column_values_to_be_in_set", kwargs, ERROR,
                           "Allowed values of the raw data contract."))
    bounds = {name: value for name, value in (("min_value", column.min), ("max_value", column.max))
              if value is not None and column.type in NUMERIC_TYPES}
    if bounds:
        rules.append(_spec("expect_column_values_to_be_between", {"column": column.name, **bounds}, ERROR,
                           "Range of the raw data contract."))
    return rules


def _row_rule(rule: RowRule) -> Spec:
    kwargs = {"column": rule.column, "row_condition": row_condition(rule.when)}
    return _spec("expect_column_values_to_not_be_null", kwargs, rule.severity, rule.description)


def row_condition(condition: Condition) -> dict[str, Any]:
    """A GX condition object (GX 1.9+; string conditions are deprecated)."""
    column = {"name": condition.column}
    if condition.is_null:
        return {"type": "nullity", "column": column, "is_null": True}
    return {"type": "comparison", "column": column, "operator": "==", "parameter": condition.equals}


def _spec(kind: str, kwargs: dict[str, Any], severity: str, notes: str) -> Spec:
    return {"type": kind, "kwargs": kwargs, "severity": severity, "notes": notes}
