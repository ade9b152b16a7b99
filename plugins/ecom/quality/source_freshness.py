"""dbt source freshness of the raw layer, recorded as gate `source_freshness` beside the other checks.

Each raw table's freshness is how long ago its newest row was loaded (`loaded_at_field: _loaded_at`,
the time its file was ingested), against the thresholds the contract declares (`freshness`, rendered
into the dbt sources). `dbt source freshness` computes it in the warehouse; its sources.json becomes
one check per table that has landed: `warn` is a warning, `error` (and a query that could not run) an
error, which stops the run before dbt builds marts on stale data. An optional table that never landed
has no raw relation and no check.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from ecom.config import Settings
from ecom.dbt_invoke import dbt_target_dir, invoke_dbt
from ecom.ingest.layers import RAW_SCHEMA
from ecom.quality.history import record_gate_result
from ecom.quality.results import ERROR, WARNING, CheckResult, GateResult
from ecom.sql import relation_exists
from ecom.warehouse import connect

FRESHNESS_GATE = "source_freshness"
SOURCES_JSON = "sources.json"
SOURCE = "shop"
CHECK = "source_freshness"
SEVERITY_OF_STATUS = {"warn": WARNING, "error": ERROR, "runtime error": ERROR}
PASSED = "pass"


def check_source_freshness(settings: Settings, run_id: str, as_of: date, tables: list[str]) -> GateResult:
    """Run `dbt source freshness` over the landed `tables` and record one check per table."""
    landed = _landed(settings, tables)
    result = GateResult(gate=FRESHNESS_GATE, run_id=run_id, as_of=as_of, checks=[])
    if not landed:
        result.notes.append("no raw table has landed yet")
        return result
    output = dbt_target_dir(settings) / SOURCES_JSON
    output.unlink(missing_ok=True)
    selection = [f"source:{SOURCE}.{table}" for table in landed]
    command = ["source", "freshness", "--select", *selection, "--output", str(output)]
    outcome = invoke_dbt(settings, as_of, command)
    if not output.is_file():
        reason = outcome.exception or f"see {settings.dbt_log_dir / 'dbt.log'}"
        raise RuntimeError(f"dbt source freshness wrote no {SOURCES_JSON}: {reason}")
    result.checks = freshness_checks(json.loads(output.read_text(encoding="utf-8")))
    with connect(settings) as con:
        record_gate_result(con, result)
    return result


def _landed(settings: Settings, tables: list[str]) -> list[str]:
    with connect(settings, read_only=True) as con:
        return [table for table in tables if relation_exists(con, RAW_SCHEMA, table)]


def freshness_checks(sources: dict[str, Any]) -> list[CheckResult]:
    """One check per source table of a sources.json (dbt's `source freshness` output)."""
    return [_check(outcome) for outcome in sources.get("results", [])]


def _check(outcome: dict[str, Any]) -> CheckResult:
    table = outcome["unique_id"].rsplit(".", 1)[-1]
    status = outcome["status"]
    criteria = outcome.get("criteria") or {}
    thresholds = _thresholds(criteria)
    if status == "runtime error":
        message = f"{table}: source freshness could not be computed: {outcome.get('error') or 'no message'}"
        observed: dict[str, Any] = {"status": status}
    else:
        age = float(outcome["max_loaded_at_time_ago_in_s"])
        verdict = "fresh" if status == PASSED else "stale"
        message = f"{table}: last loaded {_age(age)} ago, {verdict} ({thresholds})"
        observed = {"status": status, "max_loaded_at": outcome.get("max_loaded_at"),
                    "seconds_since_loaded": round(age, 1), "criteria": criteria}
    return CheckResult(
        suite=outcome["unique_id"],
        table=table,
        check=CHECK,
        column="_loaded_at",
        severity=SEVERITY_OF_STATUS.get(status, _configured_severity(criteria)),
        success=status == PASSED,
        message=message,
        observed=json.dumps(observed),
    )


def _configured_severity(criteria: dict[str, Any]) -> str:
    """The severity a stale table would get: error when an error threshold is declared."""
    return ERROR if _threshold(criteria.get("error_after")) else WARNING


def _thresholds(criteria: dict[str, Any]) -> str:
    parts = [f"{name.replace('_', ' ')} {text}" for name in ("warn_after", "error_after")
             if (text := _threshold(criteria.get(name)))]
    return ", ".join(parts) or "no threshold declared"


def _threshold(bound: dict[str, Any] | None) -> str | None:
    if not bound or not bound.get("count") or not bound.get("period"):
        return None
    count, period = bound["count"], bound["period"]
    return f"{count} {period}{'' if count == 1 else 's'}"


def _age(seconds: float) -> str:
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"
