"""dbt's test results in audit.validation_results, beside the gates' checks (gate `dbt`).

Every dbt invocation leaves `run_results.json` and `manifest.json` in its target folder. Each data test
and unit test it ran becomes one check: the table is the model (or seed) it tests, the severity its
outcome (`warn` = warning, `fail` and `error` = error) or, when it passed, its configured severity.
The caller does not matter: one cosmos task per model (its operator callback), one `dbt build`
(`ecom.direct_run`), or a watcher. A test run again in the same run (a retried task) replaces its
earlier result.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from ecom.config import Settings
from ecom.quality.history import record_gate_result
from ecom.quality.results import ERROR, WARNING, CheckResult, GateResult
from ecom.warehouse import connect

DBT_GATE = "dbt"
RUN_RESULTS = "run_results.json"
MANIFEST = "manifest.json"
TESTED_RESOURCES = ("test", "unit_test")
MESSAGE_MAX_CHARS = 500
# run_results.json statuses of a test that ran; a skipped test (its model failed) is no result.
SEVERITY_OF_FAILURE = {"fail": ERROR, "error": ERROR, "warn": WARNING}
PASSED = "pass"
_NOT_ARGUMENTS = {"model", "column_name"}


def record_dbt_target(settings: Settings, run_id: str, as_of: date, target_dir: Path) -> int:
    """Record the tests of the dbt invocation whose target folder is `target_dir`; returns the number
    of results written (0 when the invocation left no run_results.json)."""
    run_results = target_dir / RUN_RESULTS
    if not run_results.is_file():
        return 0
    return record_dbt_results(
        settings,
        run_id,
        as_of,
        json.loads(run_results.read_text(encoding="utf-8")),
        json.loads((target_dir / MANIFEST).read_text(encoding="utf-8")),
    )


def record_dbt_results(
    settings: Settings, run_id: str, as_of: date, run_results: dict[str, Any], manifest: dict[str, Any]
) -> int:
    """Append one check per test of `run_results` (replacing this run's earlier result of the same
    test); `manifest` is the invocation's manifest.json. Returns the number of rows written."""
    checks = dbt_checks(run_results, manifest)
    if not checks:
        return 0
    result = GateResult(gate=DBT_GATE, run_id=run_id, as_of=as_of, checks=checks)
    with connect(settings) as con:
        return record_gate_result(con, result, replace_suites=True)


def dbt_checks(run_results: dict[str, Any], manifest: dict[str, Any]) -> list[CheckResult]:
    """The tests that ran, as checks whose suite is the test's unique id."""
    checks = []
    for outcome in run_results.get("results", []):
        unique_id, status = outcome["unique_id"], outcome["status"]
        if unique_id.split(".")[0] not in TESTED_RESOURCES or (
            status != PASSED and status not in SEVERITY_OF_FAILURE
        ):
            continue
        node = (manifest.get("unit_tests") or {}).get(unique_id) or manifest["nodes"][unique_id]
        checks.append(_check(outcome, node, manifest))
    return checks


def _check(outcome: dict[str, Any], node: dict[str, Any], manifest: dict[str, Any]) -> CheckResult:
    status = outcome["status"]
    table = _tested_table(node, manifest)
    column = node.get("column_name")
    label = _label(node)
    configured = str((node.get("config") or {}).get("severity") or "error").lower()
    severity = SEVERITY_OF_FAILURE.get(status, WARNING if configured == "warn" else ERROR)
    where = f"{table}, column {column}" if column else table
    if status == PASSED:
        message = f"dbt test {label} holds"
    elif status == "error":
        message = f"{where}: dbt test {label} could not run: {_short(outcome.get('message'))}"
    elif node["resource_type"] == "unit_test":
        message = f"{where}: dbt unit test {label} fails: {_short(outcome.get('message'))}"
    else:
        message = f"{where}: dbt test {label} fails on {outcome.get('failures')} row(s)"
    observed = {"status": status, "failures": outcome.get("failures")}
    return CheckResult(
        suite=node["unique_id"],
        table=table,
        check=_kind(node),
        column=column,
        severity=severity,
        success=status == PASSED,
        message=message,
        observed=json.dumps(observed),
    )


def _tested_table(node: dict[str, Any], manifest: dict[str, Any]) -> str:
    """The name of the model or seed the test is attached to (a unit test: its model; a test of a source
    column: the raw table; a singular test: the relations it reads)."""
    if node["resource_type"] == "unit_test":
        return node["model"]
    if node.get("attached_node"):
        return manifest["nodes"][node["attached_node"]]["name"]
    if node.get("test_metadata") and node.get("sources"):  # a generic test on a source column: its table
        return node["sources"][0][-1]
    return ", ".join(manifest["nodes"][parent]["name"] for parent in node["depends_on"]["nodes"])


def _kind(node: dict[str, Any]) -> str:
    """accepted_values, not_null, ... for a generic test; the test's own name for a singular one."""
    if node["resource_type"] == "unit_test":
        return "unit_test"
    metadata = node.get("test_metadata")
    return metadata["name"] if metadata else node["name"]


def _label(node: dict[str, Any]) -> str:
    """The test and its arguments, e.g. accepted_range(min_value=0, max_value=1) where period_index = 0."""
    metadata = node.get("test_metadata")
    if not metadata:
        return node["name"]
    arguments = {k: v for k, v in metadata.get("kwargs", {}).items() if k not in _NOT_ARGUMENTS}
    label = metadata["name"]
    if arguments:
        label += f"({', '.join(f'{k}={v!r}' for k, v in arguments.items())})"
    where = (node.get("config") or {}).get("where")
    return f"{label} where {where}" if where else label


def _short(message: str | None) -> str:
    text = " ".join((message or "").split())
    return text if len(text) <= MESSAGE_MAX_CHARS else text[:MESSAGE_MAX_CHARS] + "…"
