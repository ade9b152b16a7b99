"""Publish readiness of the marts: every mart the dbt manifest declares exists in the working warehouse
with its contract's columns and types, and no column of any mart is named after personal data.

Plain SQL on DuckDB's catalog (a few hundred rows at most); dbt's contracts and tests judge the rows.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from ecom.dbt_manifest import MARTS_SCHEMA, MartContract
from ecom.personal_columns import personal_columns
from ecom.quality.results import ERROR, CheckResult

SUITE = "marts_gate.publish_readiness"
MART_EXISTS = "mart_exists"
CONTRACT_COLUMNS = "contract_columns"
PERSONAL_COLUMNS = "personal_columns"
MANIFEST_MARTS = "manifest_marts"


def readiness_checks(
    con: duckdb.DuckDBPyConnection, contracts: dict[str, MartContract], manifest: Path
) -> list[CheckResult]:
    """Per mart of the manifest: it exists and its columns are its contract's; per relation in schema
    marts: no personal column (one failure per such column)."""
    built = built_marts(con)
    checks: list[CheckResult] = []
    if not contracts:
        checks.append(
            _check(
                MARTS_SCHEMA,
                MANIFEST_MARTS,
                None,
                False,
                f"the dbt manifest {manifest} lists no mart (python -m ecom.dbt_manifest builds it)",
            )
        )
    for mart, contract in sorted(contracts.items()):
        if mart not in built:
            checks.append(
                _check(
                    mart,
                    MART_EXISTS,
                    None,
                    False,
                    f"{mart}: relation marts.{mart} does not exist (did the dbt build run?)",
                )
            )
            continue
        checks.append(_check(mart, MART_EXISTS, None, True, f"marts.{mart} exists"))
        checks.append(_contract_check(mart, contract, built[mart]))
    offences = personal_columns(con, MARTS_SCHEMA)
    for offence in offences:
        checks.append(
            _check(
                offence.table,
                PERSONAL_COLUMNS,
                offence.column,
                False,
                f"{offence.table}: column '{offence.column}' is named after a personal column of the raw "
                f"contract ({', '.join(offence.personal)}); personal data never reaches a mart",
            )
        )
    offending = {offence.table for offence in offences}
    checks += [
        _check(
            mart,
            PERSONAL_COLUMNS,
            None,
            True,
            "no column is named after a personal column of the raw contract",
        )
        for mart in sorted(contracts)
        if mart in built and mart not in offending
    ]
    return checks


def built_marts(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, str]]:
    """Every relation of schema marts in the connection's database -> its columns and their types."""
    rows = con.execute(
        "select table_name, column_name, data_type from duckdb_columns() "
        "where database_name = current_database() and schema_name = ? order by table_name, column_index",
        [MARTS_SCHEMA],
    ).fetchall()
    built: dict[str, dict[str, str]] = {}
    for table, column, data_type in rows:
        built.setdefault(table, {})[column] = data_type
    return built


def _contract_check(mart: str, contract: MartContract, columns: dict[str, str]) -> CheckResult:
    missing = [name for name in contract.columns if name not in columns]
    unexpected = [name for name in columns if name not in contract.columns]
    retyped = [
        f"{name} is {columns[name]}, the contract says {declared}"
        for name, declared in contract.columns.items()
        if name in columns and _type_name(columns[name]) != _type_name(declared)
    ]
    problems = [
        *([f"missing {', '.join(missing)}"] if missing else []),
        *([f"not in the contract: {', '.join(unexpected)}"] if unexpected else []),
        *retyped,
    ]
    if not problems:
        return _check(mart, CONTRACT_COLUMNS, None, True, f"the {len(columns)} columns of the dbt contract")
    return _check(
        mart,
        CONTRACT_COLUMNS,
        None,
        False,
        f"{mart}: columns differ from its dbt contract: {'; '.join(problems)}",
    )


def _type_name(data_type: str) -> str:
    return "".join(data_type.split()).upper()


def _check(mart: str, check: str, column: str | None, success: bool, message: str) -> CheckResult:
    return CheckResult(
        suite=SUITE, table=mart, check=check, column=column, severity=ERROR, success=success, message=message
    )
