"""Rows dated after the as-of date: neither defects nor published, they wait in raw_waiting.<table>.

The raw gate judges a run's rows as of its as-of date. A row after it (ecom.quality.quarantine, rule
`future_timestamps`) has not happened yet for that run: the raw layer sets it aside here, out of
raw_pending and out of reach of dbt, and its file's manifest row counts it as waiting instead of loaded.
Each later gate first releases every waiting row back into raw_pending, where its rules judge it with
that run's rows (keys, unknown customers, totals...): a run whose as-of date covers it promotes it, an
earlier one sets it aside again.
"""

from __future__ import annotations

import duckdb

from ecom.contract import Contract
from ecom.ingest.layers import PENDING_SCHEMA, WAITING_SCHEMA, ensure_layer_table, relation_name
from ecom.sql import relation_exists
from ecom.warehouse import transaction


def set_aside_waiting(con: duckdb.DuckDBPyConnection, contract: Contract, findings: str) -> int:
    """Move the rows of the relation `findings` (ecom.ingest.quarantine.FINDINGS_COLUMNS) that wait from
    raw_pending to raw_waiting; returns how many moved."""
    waiting = f"(SELECT _file_id, _line FROM {findings} WHERE waits)"
    tables = [name for (name,) in con.execute(
        f"SELECT DISTINCT table_name FROM {findings} WHERE waits ORDER BY 1").fetchall()]
    moved = 0
    with transaction(con):
        for table_name in tables:
            pending = relation_name(PENDING_SCHEMA, table_name)
            target = ensure_layer_table(con, WAITING_SCHEMA, contract.table(table_name))
            rows = f"FROM {pending} p SEMI JOIN {waiting} w ON w._file_id = p._file_id AND w._line = p._line"
            [(inserted,)] = con.execute(f"INSERT INTO {target} BY NAME SELECT p.* {rows}").fetchall()
            con.execute(f"DELETE FROM {pending} p USING {waiting} w "
                        "WHERE p._file_id = w._file_id AND p._line = w._line")
            moved += int(inserted)
        _recount(con, f"(SELECT _file_id, count(*) AS n FROM {waiting} GROUP BY ALL)", "n")
    return moved


def release_waiting(con: duckdb.DuckDBPyConnection, contract: Contract) -> int:
    """Move every waiting row back to raw_pending, to be judged as of the coming gate's as-of date;
    returns how many moved."""
    tables = [t for t in contract.tables.values() if relation_exists(con, WAITING_SCHEMA, t.name)]
    moved = 0
    with transaction(con):
        for table in tables:
            waiting = relation_name(WAITING_SCHEMA, table.name)
            pending = ensure_layer_table(con, PENDING_SCHEMA, table)
            _recount(con, f"(SELECT _file_id, count(*) AS n FROM {waiting} GROUP BY ALL)", "-n")
            [(inserted,)] = con.execute(f"INSERT INTO {pending} BY NAME SELECT * FROM {waiting}").fetchall()
            con.execute(f"DELETE FROM {waiting}")
            moved += int(inserted)
    return moved


def _recount(con: duckdb.DuckDBPyConnection, per_file: str, waiting_change: str) -> None:
    """Per file of `per_file` (_file_id, n): rows_waiting changes by `waiting_change`, rows_loaded the
    opposite way."""
    con.execute(
        f"UPDATE audit.load_manifest m SET rows_loaded = m.rows_loaded - ({waiting_change}), "
        f"rows_waiting = m.rows_waiting + ({waiting_change}) FROM {per_file} f WHERE m.file_id = f._file_id"
    )
