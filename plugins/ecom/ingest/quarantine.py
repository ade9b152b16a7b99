"""Quarantine pending rows the raw gate found: audit.rejects, out of raw_pending, manifest reconciled.

The gate only reads; it leaves the rows it found in a relation of `FINDINGS_COLUMNS`
(ecom.quality.quarantine): the rows it judged unacceptable, and the rows that wait for a later as-of
date (`waits`, set aside by ecom.ingest.waiting). The raw layer moves the unacceptable ones here, in
one transaction: each row goes to audit.rejects with its reason, leaves raw_pending.<table>, and its
file's manifest row counts it as rejected instead of loaded, so rows read = rows loaded + rows
rejected + rows waiting still holds (and the manifest's CHECK constraint with it).
"""

from __future__ import annotations

import duckdb

from ecom.ingest.layers import PENDING_SCHEMA, UTC_NOW_SQL, relation_name
from ecom.warehouse import transaction

# One row per pending row found: its table, file version and line, why, and whether it only waits for a
# later as-of date (else it is quarantined).
FINDINGS_COLUMNS = (
    "table_name VARCHAR, _file_id VARCHAR, _line BIGINT, column_name VARCHAR, raw_value VARCHAR, "
    "reason VARCHAR, waits BOOLEAN"
)


def quarantine_rows(con: duckdb.DuckDBPyConnection, findings: str) -> int:
    """Quarantine every row of the relation `findings` (FINDINGS_COLUMNS, one row per pending row) that
    does not wait; returns how many rows moved."""
    findings = f"(SELECT * FROM {findings} WHERE NOT waits)"
    tables = [name for (name,) in con.execute(f"SELECT DISTINCT table_name FROM {findings}").fetchall()]
    if not tables:
        return 0
    with transaction(con):
        [(moved,)] = con.execute(
            "INSERT INTO audit.rejects (batch_id, file_id, table_name, path, line, column_name, raw_value, "
            "reason, rejected_at) "
            "SELECT m.batch_id, f._file_id, m.table_name, m.path, f._line, f.column_name, f.raw_value, "
            f"f.reason, {UTC_NOW_SQL} FROM {findings} f JOIN audit.load_manifest m ON m.file_id = f._file_id"
        ).fetchall()
        for table in tables:
            con.execute(
                f"DELETE FROM {relation_name(PENDING_SCHEMA, table)} p USING {findings} f "
                "WHERE f.table_name = ? AND p._file_id = f._file_id AND p._line = f._line",
                [table],
            )
        con.execute(
            "UPDATE audit.load_manifest m SET rows_loaded = m.rows_loaded - f.n, "
            "rows_rejected = m.rows_rejected + f.n "
            f"FROM (SELECT _file_id, count(*) AS n FROM {findings} GROUP BY ALL) f "
            "WHERE m.file_id = f._file_id"
        )
    return int(moved)
