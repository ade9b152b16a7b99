"""ingest(): load every landed file version not loaded yet, exactly once, as one batch."""

from __future__ import annotations

import duckdb

from ecom.config import Settings
from ecom.contract import load_contract
from ecom.ingest.discovery import discover_landing
from ecom.ingest.loader import load_file
from ecom.ingest.manifest import (
    ManifestEntry,
    discard_version,
    live_entries,
    refuse_changed_accepted_files,
    withdraw,
    withdrawn_file_ids,
)
from ecom.ingest.result import IngestResult
from ecom.ingest.warehouse import (
    PENDING_SCHEMA,
    ensure_audit_tables,
    ensure_layer_table,
    transaction,
    warehouse_connection,
)


def ingest(settings: Settings, batch_id: str) -> IngestResult:
    """Load new landing files into raw_pending.<table>, recording audit.load_manifest and audit.rejects.

    Raises ChangedFileError (before changing anything) when an accepted file changed content.
    Each file is loaded in its own transaction, so an interrupted run never leaves half a file.
    """
    contract = load_contract()
    discovery = discover_landing(settings.landing_dir, list(contract.tables))
    result = IngestResult(batch_id=batch_id, warnings=list(discovery.warnings))
    with warehouse_connection(settings) as con:
        ensure_audit_tables(con)
        live = live_entries(con)
        refuse_changed_accepted_files(discovery.files, live)
        result.files_withdrawn = _withdraw_vanished(con, live, {f.relative_path for f in discovery.files})
        withdrawn = withdrawn_file_ids(con)
        to_load = [f for f in discovery.files
                   if (entry := live.get(f.relative_path)) is None or entry.sha256 != f.sha256]
        result.files_skipped = len(discovery.files) - len(to_load)
        for table_name in sorted({f.table for f in to_load}):
            ensure_layer_table(con, PENDING_SCHEMA, contract.table(table_name))
        for file in to_load:
            replaced = live.get(file.relative_path)
            with transaction(con):
                if replaced is not None:  # a pending file fixed in place: its old version goes
                    discard_version(con, replaced.file_id, replaced.table_name)
                if file.file_id in withdrawn:  # a withdrawn version landing again
                    discard_version(con, file.file_id, file.table)
                load = load_file(con, contract.table(file.table), file, batch_id)
            result.record_load(file.table, file.relative_path, load, replaced=replaced is not None)
    return result


def _withdraw_vanished(con: duckdb.DuckDBPyConnection, live: dict[str, ManifestEntry],
                       landed: set[str]) -> int:
    vanished = [e for path, e in live.items() if e.status == "pending" and path not in landed]
    with transaction(con):
        for entry in vanished:
            withdraw(con, entry)
    return len(vanished)
