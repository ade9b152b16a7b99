"""ingest(): load every landed file version not loaded yet, exactly once, as one batch."""

from __future__ import annotations

from collections.abc import Iterator

import duckdb

from ecom.config import Settings
from ecom.contract import Table, load_contract
from ecom.ingest.discovery import LandedFile, discover_landing
from ecom.ingest.loader import drop_staging_tables, stage_files, write_staged
from ecom.ingest.manifest import (
    FileLoad,
    ManifestEntry,
    discard_versions,
    live_entries,
    recorded_files,
    refresh_fingerprints,
    refuse_changed_accepted_files,
    withdraw,
    withdrawn_file_ids,
)
from ecom.ingest.result import IngestResult, record_warnings
from ecom.ingest.warehouse import (
    PENDING_SCHEMA,
    ensure_audit_tables,
    ensure_layer_table,
    transaction,
    warehouse_connection,
)

# Landed bytes read, typed and written per transaction: bounds the staging tables' memory.
CHUNK_BYTES = 16 << 20


def ingest(settings: Settings, batch_id: str) -> IngestResult:
    """Load new landing files into raw_pending.<table>, recording audit.load_manifest and audit.rejects.

    Raises ChangedFileError or OutsideLandingError (before changing anything) when an accepted file
    changed content or a link leads outside the landing folder, and UnreadableFileError naming a file
    that cannot be read, or not reliably (tables written before it stay loaded). Discovery's warnings
    (files and folders not read) are kept in audit.ingest_warnings under the batch id.
    A table's new files are read and typed together, then written in one transaction (one per
    CHUNK_BYTES of landed files), so an interrupted run never leaves half a file.
    """
    contract = load_contract()
    if not settings.landing_dir.is_dir():  # before the warehouse is created
        raise FileNotFoundError(f"landing folder {settings.landing_dir} does not exist (ECOM_LANDING_DIR)")
    with warehouse_connection(settings) as con:
        ensure_audit_tables(con)
        recorded = recorded_files(con)
        discovery = discover_landing(settings.landing_dir, list(contract.tables), recorded)
        result = IngestResult(batch_id=batch_id, warnings=list(discovery.warnings))
        live = live_entries(con)
        refuse_changed_accepted_files(discovery.files, live)
        with transaction(con):
            refresh_fingerprints(con, discovery.files, recorded)
            record_warnings(con, batch_id, discovery.warnings)
        result.files_withdrawn = _withdraw_vanished(con, live, {f.relative_path for f in discovery.files})
        withdrawn = withdrawn_file_ids(con)
        to_load = [f for f in discovery.files
                   if (entry := live.get(f.relative_path)) is None or entry.sha256 != f.sha256]
        result.files_skipped = len(discovery.files) - len(to_load)
        for table_name in sorted({f.table for f in to_load}):
            table = contract.table(table_name)
            ensure_layer_table(con, PENDING_SCHEMA, table)
            for files in _chunks([f for f in to_load if f.table == table_name], CHUNK_BYTES):
                loads = _load_chunk(con, table, files, live, withdrawn, batch_id)
                for file, load in zip(files, loads, strict=True):
                    result.record_load(file.table, file.relative_path, load,
                                       replaced=file.relative_path in live)
    return result


def _withdraw_vanished(con: duckdb.DuckDBPyConnection, live: dict[str, ManifestEntry],
                       landed: set[str]) -> int:
    vanished = [e for path, e in live.items() if e.status == "pending" and path not in landed]
    with transaction(con):
        for entry in vanished:
            withdraw(con, entry)
    return len(vanished)


def _load_chunk(con: duckdb.DuckDBPyConnection, table: Table, files: list[LandedFile],
                live: dict[str, ManifestEntry], withdrawn: set[str], batch_id: str) -> list[FileLoad]:
    """Read and type `files` (all of `table`), then write them in one transaction; returns their loads."""
    staged = stage_files(con, table, files)
    # a pending file fixed in place loses its old version; a withdrawn version landing again, its traces
    superseded = [live[f.relative_path].file_id for f in files if f.relative_path in live]
    reloaded = [f.file_id for f in files if f.file_id in withdrawn]
    with transaction(con):
        discard_versions(con, table.name, superseded + reloaded)
        write_staged(con, staged, batch_id)
    drop_staging_tables(con)
    return staged.loads


def _chunks(files: list[LandedFile], max_bytes: int) -> Iterator[list[LandedFile]]:
    """Consecutive runs of `files` of at most `max_bytes` together (a bigger file is a run of its own)."""
    chunk: list[LandedFile] = []
    size = 0
    for file in files:
        if chunk and size + file.size_bytes > max_bytes:
            yield chunk
            chunk, size = [], 0
        chunk.append(file)
        size += file.size_bytes
    if chunk:
        yield chunk
