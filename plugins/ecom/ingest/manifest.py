"""audit.load_manifest: which version of which landed file is pending, accepted or withdrawn."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from ecom.ingest.discovery import LandedFile
from ecom.ingest.warehouse import PENDING_SCHEMA, UTC_NOW_SQL, relation_name
from ecom.sql import relation_exists


class ChangedFileError(Exception):
    """An accepted landing file's content changed under the same path: accepted data is never rewritten."""

    def __init__(self, paths: list[str]):
        self.paths = paths
        super().__init__(
            f"landing file(s) already accepted into the raw layer changed content under the same path: "
            f"{', '.join(paths)}. Accepted files are loaded exactly once and never rewritten: put the "
            f"original file back (or remove it) and land the corrected data under a new file name."
        )


@dataclass(frozen=True)
class ManifestEntry:
    file_id: str
    table_name: str
    path: str
    sha256: str
    status: str


@dataclass(frozen=True)
class FileLoad:
    """What loading one file version produced (rows_read = rows_loaded + rows_rejected)."""

    columns_present: list[str]
    missing_columns: list[str]
    extra_columns: list[str]
    rows_read: int
    rows_loaded: int
    rows_rejected: int


def live_entries(con: duckdb.DuckDBPyConnection) -> dict[str, ManifestEntry]:
    """The pending or accepted version of each landed path (at most one per path)."""
    rows = con.execute(
        "SELECT file_id, table_name, path, sha256, status FROM audit.load_manifest "
        "WHERE status IN ('pending', 'accepted')"
    ).fetchall()
    return {row[2]: ManifestEntry(*row) for row in rows}


def withdrawn_file_ids(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute("SELECT file_id FROM audit.load_manifest WHERE status = 'withdrawn'").fetchall()
    return {row[0] for row in rows}


def refuse_changed_accepted_files(files: list[LandedFile], live: dict[str, ManifestEntry]) -> None:
    changed = [
        f.relative_path for f in files
        if (entry := live.get(f.relative_path)) and entry.status == "accepted" and entry.sha256 != f.sha256
    ]
    if changed:
        raise ChangedFileError(changed)


def withdraw(con: duckdb.DuckDBPyConnection, entry: ManifestEntry) -> None:
    """A pending file that left the landing folder: its pending rows go, its manifest row says withdrawn."""
    _delete_pending_rows(con, entry.file_id, entry.table_name)
    con.execute("UPDATE audit.load_manifest SET status = 'withdrawn' WHERE file_id = ?", [entry.file_id])


def discard_version(con: duckdb.DuckDBPyConnection, file_id: str, table_name: str) -> None:
    """Forget a pending or withdrawn file version entirely (it is about to be replaced or reloaded)."""
    _delete_pending_rows(con, file_id, table_name)
    con.execute("DELETE FROM audit.rejects WHERE file_id = ?", [file_id])
    con.execute("DELETE FROM audit.load_manifest WHERE file_id = ? AND status <> 'accepted'", [file_id])


def record_load(con: duckdb.DuckDBPyConnection, file: LandedFile, batch_id: str, load: FileLoad) -> None:
    con.execute(
        "INSERT INTO audit.load_manifest (file_id, table_name, path, size_bytes, sha256, file_format, "
        "columns_present, missing_columns, extra_columns, rows_read, rows_loaded, rows_rejected, batch_id, "
        "status, loaded_at, accepted_at) "
        f"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', {UTC_NOW_SQL}, NULL)",
        [file.file_id, file.table, file.relative_path, file.size_bytes, file.sha256, file.file_format,
         load.columns_present, load.missing_columns, load.extra_columns, load.rows_read, load.rows_loaded,
         load.rows_rejected, batch_id],
    )


def _delete_pending_rows(con: duckdb.DuckDBPyConnection, file_id: str, table_name: str) -> None:
    if relation_exists(con, PENDING_SCHEMA, table_name):
        con.execute(f"DELETE FROM {relation_name(PENDING_SCHEMA, table_name)} WHERE _file_id = ?", [file_id])
