"""The raw gate's suites `raw.<table>`, built at run time from the specs the raw data contract gives
(ecom.contract.gate_rules, which says what each rule is and why)."""

from __future__ import annotations

from typing import Any

from great_expectations.core.expectation_suite import ExpectationSuite

from ecom.contract import Contract, Table, gate_rules
from ecom.contract.gate_rules import key_column
from ecom.quality.suites import GX_SEVERITY_BY_META

__all__ = ["key_column", "raw_suite"]


def raw_suite(contract: Contract, table: Table) -> ExpectationSuite:
    """The suite `raw.<table>`: the column rules, the key and the row rules of the table."""
    return ExpectationSuite(name=f"raw.{table.name}",
                            expectations=[_gx(spec) for spec in gate_rules.table_rules(contract, table)])


def _gx(spec: dict[str, Any]) -> dict[str, Any]:
    """A spec as a GX expectation configuration: its severity in GX's terms."""
    return {**spec, "severity": GX_SEVERITY_BY_META[spec["severity"]].value}
