"""How the run report names and groups quality checks for a data steward.

`check_label` says what a check means, in words, from its Great Expectations type and columns, and
the arguments of the expectation: those of the raw gate's suites `raw.<table>` from the specs the raw
contract gives (ecom.contract.gate_rules, the same the gate builds its suites from), those of the other
suites from their JSON under expectations/ (the steward checks built from quality.yml are named by their
suite). It is the one place where GX names become words.
`group_failures` folds the failed results into one row per gate, table, check and severity, with
counts and a few samples, so a check failing in a hundred files is one row, not a hundred.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from ecom.config import EXPECTATIONS_DIR
from ecom.contract import load_contract
from ecom.contract.gate_rules import KEY_CHECK, LATEST_VERSIONS, table_rules

Row = dict[str, Any]
SAMPLES_SHOWN = 3
VALUES_SHOWN = 6
# Suites of these layers check the gate's own frames (files, shares, volumes), not one table's rows:
# their label starts with what the suite checks.
GATE_LAYERS = ("raw_gate", "marts_gate")


@dataclass(frozen=True)
class CheckGroup:
    """The failed results of one check on one table: how many, in how many files, and samples."""

    gate: str
    table_name: str
    label: str
    expectation: str
    column_name: str | None
    severity: str
    failures: int
    files: int
    samples: list[str]

    @property
    def more(self) -> int:
        return self.failures - len(self.samples)


def group_failures(results: list[Row]) -> list[CheckGroup]:
    """The failed results grouped, in the order of their first member (errors first, as sorted)."""
    groups: dict[tuple, list[Row]] = {}
    for result in results:
        if not result["success"]:
            key = (result["gate"], result["suite"], result["table_name"], result["expectation"],
                   result["column_name"], result["severity"])
            groups.setdefault(key, []).append(result)
    return [
        CheckGroup(
            gate=gate,
            table_name=table or "(run)",
            label=check_label(suite, expectation, column),
            expectation=expectation,
            column_name=column,
            severity=severity,
            failures=len(members),
            files=len({m["file_path"] for m in members if m["file_path"]}),
            samples=[m["message"] or "" for m in members[:SAMPLES_SHOWN]],
        )
        for (gate, suite, table, expectation, column, severity), members in groups.items()
    ]


def check_label(suite: str, expectation: str, column: str | None) -> str:
    """What the check means, e.g. 'repayment_id is unique', 'quarantine share: quarantined_share within
    the limit max_share', 'total_amount ≥ 0'."""
    layer, _, name = suite.partition(".")
    columns = column.split(",") if column else []
    kwargs = _suite_kwargs(suite).get((expectation, column))
    phrase = _phrase(expectation, columns, kwargs)
    condition = (kwargs or {}).get("row_condition")
    if condition == LATEST_VERSIONS:
        phrase += " (latest version of each key)"
    elif condition:
        phrase += f" where {_condition(condition)}"
    return f"{name.replace('_', ' ')}: {phrase}" if layer in GATE_LAYERS else phrase


def _phrase(expectation: str, columns: list[str], kwargs: Mapping[str, Any] | None) -> str:
    named = ", ".join(columns)
    known = kwargs or {}
    if expectation == "expect_column_values_to_not_be_null":
        return f"{named} is filled in"
    if expectation == KEY_CHECK:
        return f"{named} is unique"
    if expectation == "expect_compound_columns_to_be_unique":
        return f"one row per ({named})"
    if expectation == "expect_column_values_to_be_in_set":
        return f"{named} is one of {_values(known['value_set'])}" if "value_set" in known else \
            f"{named} takes only allowed values"
    if expectation == "expect_column_values_to_be_between":
        return _range(named, known.get("min_value"), known.get("max_value"))
    if expectation == "expect_column_pair_values_a_to_be_greater_than_b" and len(columns) == 2:
        larger, smaller = columns
        if kwargs is None:
            return f"{smaller} within the limit {larger}"
        return f"{smaller} {'≤' if known.get('or_equal') else '<'} {larger}"
    if expectation == "expect_table_columns_to_match_set":
        return "has exactly the expected columns"
    if expectation == "expect_column_values_to_not_match_regex":
        pattern = known.get("regex") or "the forbidden pattern"
        return f"{named} does not match {pattern}"
    return expectation.removeprefix("expect_").replace("_", " ")


def _range(column: str, low: Any, high: Any) -> str:
    if low is not None and high is not None:
        return f"{column} between {low} and {high}"
    if low is not None:
        return f"{column} ≥ {low}"
    if high is not None:
        return f"{column} ≤ {high}"
    return f"{column} within its allowed range"


def _condition(condition: Mapping[str, Any]) -> str:
    """A GX condition object (ecom.contract.gate_rules.row_condition) in words."""
    column = condition["column"]["name"]
    if condition.get("type") == "nullity":
        return f"{column} is {'empty' if condition.get('is_null') else 'filled in'}"
    return f"{column} {condition.get('operator', '==').replace('==', '=')} {condition.get('parameter')}"


def _values(values: list[Any]) -> str:
    shown = ", ".join(str(v) for v in values[:VALUES_SHOWN])
    return shown + (f" … ({len(values)} values)" if len(values) > VALUES_SHOWN else "")


@cache
def _suite_kwargs(suite: str) -> dict[tuple[str, str | None], Mapping[str, Any]]:
    """(type, checked column) -> kwargs of the suite's expectation, for the pairs that name one expectation
    only: a raw table's from the contract's specs, another suite's from its committed JSON; {} for a suite
    built in code. The path is ecom.quality.suites.suite_path's (not imported: importing ecom.quality
    imports GX)."""
    layer, _, name = suite.partition(".")
    path = EXPECTATIONS_DIR / layer / f"{name}.json"
    contract = load_contract()
    if layer == "raw" and name in contract.tables:
        table = contract.table(name)
        expectations = table_rules(contract, table)
    elif name and path.is_file():
        expectations = json.loads(path.read_text(encoding="utf-8")).get("expectations", [])
    else:
        return {}
    found: dict[tuple[str, str | None], list[Mapping[str, Any]]] = {}
    for expectation in expectations:
        kwargs = expectation.get("kwargs") or {}
        found.setdefault((expectation["type"], checked_column(kwargs)), []).append(kwargs)
    return {key: kwargs[0] for key, kwargs in found.items() if len(kwargs) == 1}


def checked_column(kwargs: Mapping[str, Any]) -> str | None:
    """The column(s) an expectation checks, as audit.validation_results records them ('a,b' for a pair)."""
    if "column" in kwargs:
        return kwargs["column"]
    if "column_A" in kwargs:
        return f"{kwargs['column_A']},{kwargs['column_B']}"
    if "column_list" in kwargs:
        return ",".join(kwargs["column_list"])
    return None
