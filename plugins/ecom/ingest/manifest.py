"""audit.load_manifest: which version of which landed file is pending, accepted or withdrawn."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from ecom.ingest.discovery import FileStat, LandedFile, RecordedFile
from ecom.ingest.layers import delete_file_rows, file_loaded_at_sql


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
    """What loading one file version produced (rows_read = rows_loaded + rows_rejected; none waits yet)."""

    columns_present: list[str]
    missing_columns: list[str]
    extra_columns: list[str]
    rows_read: int
    rows_loaded: int
    rows_rejected: int
    values_rounded: int = 0  # values of loaded rows rounded to the storage scale (excess_decimals: round)


def live_entries(con: duckdb.DuckDBPyConnection) -> dict[str, ManifestEntry]:
    """The pending or accepted version of each landed path (at most one per path)."""
    rows = con.execute(
        "SELECT file_id, table_name, path, sha256, status FROM audit.load_manifest "
        "WHERE status IN ('pending', 'accepted')"
    ).fetchall()
    return {row[2]: ManifestEntry(*row) for row in rows}


def recorded_files(con: duckdb.DuckDBPyConnection) -> dict[str, RecordedFile]:
    """Checksum, physical lines and stat of the pending or accepted version of each landed path."""
    rows = con.execute(
        "SELECT path, sha256, physical_lines, size_bytes, inode, mtime_ns, ctime_ns FROM audit.load_manifest "
        "WHERE status IN ('pending', 'accepted')"
    ).fetchall()
    return {
        path: RecordedFile(sha256, lines, FileStat(size, inode, mtime, ctime) if ctime is not None else None)
        for path, sha256, lines, size, inode, mtime, ctime in rows
    }


def refresh_fingerprints(con: duckdb.DuckDBPyConnection, files: list[LandedFile],
                         recorded: dict[str, RecordedFile]) -> None:
    """Record the current stat of files read again and found unchanged (touched, or recorded without a
    stat), so that the next run can skip reading them."""
    stale = [(f, f.stat) for f in files
             if f.stat is not None and (r := recorded.get(f.relative_path)) is not None
             and r.sha256 == f.sha256 and r.stat != f.stat]
    if not stale:
        return
    con.execute(
        "UPDATE audit.load_manifest m SET inode = s.inode, mtime_ns = s.mtime_ns, ctime_ns = s.ctime_ns, "
        "physical_lines = s.physical_lines "
        "FROM (SELECT unnest(?::VARCHAR[]) AS path, unnest(?::VARCHAR[]) AS sha256, "
        "unnest(?::BIGINT[]) AS inode, unnest(?::BIGINT[]) AS mtime_ns, unnest(?::BIGINT[]) AS ctime_ns, "
        "unnest(?::BIGINT[]) AS physical_lines) s "
        "WHERE m.path = s.path AND m.sha256 = s.sha256 AND m.status IN ('pending', 'accepted')",
        [[f.relative_path for f, _ in stale], [f.sha256 for f, _ in stale], [st.inode for _, st in stale],
         [st.mtime_ns for _, st in stale], [st.ctime_ns for _, st in stale],
         [f.physical_lines for f, _ in stale]],
    )


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
    """A pending file that left the landing folder: its pending and waiting rows go, its manifest row says
    withdrawn."""
    delete_file_rows(con, entry.table_name, [entry.file_id])
    con.execute("UPDATE audit.load_manifest SET status = 'withdrawn' WHERE file_id = ?", [entry.file_id])


def discard_versions(con: duckdb.DuckDBPyConnection, table_name: str, file_ids: list[str]) -> None:
    """Forget pending or withdrawn versions of a table's files entirely (about to be replaced or reloaded)."""
    if not file_ids:
        return
    delete_file_rows(con, table_name, file_ids)
    con.execute("DELETE FROM audit.rejects WHERE file_id IN (SELECT unnest(?::VARCHAR[]))", [file_ids])
    con.execute("DELETE FROM audit.load_manifest "
                "WHERE file_id IN (SELECT unnest(?::VARCHAR[])) AND status <> 'accepted'", [file_ids])


def record_loads(con: duckdb.DuckDBPyConnection, files: list[LandedFile], loads: list[FileLoad],
                 batch_id: str) -> None:
    """One pending manifest row per file version loaded (`files` in load order, `loads` alike)."""
    columns = [
        [f.file_id for f in files], [f.table for f in files], [f.relative_path for f in files],
        [f.size_bytes for f in files], [f.sha256 for f in files], [f.file_format for f in files],
        [load.columns_present for load in loads], [load.missing_columns for load in loads],
        [load.extra_columns for load in loads], [load.rows_read for load in loads],
        [load.rows_loaded for load in loads], [load.rows_rejected for load in loads],
        [f.physical_lines for f in files], [f.stat.inode if f.stat else None for f in files],
        [f.stat.mtime_ns if f.stat else None for f in files],
        [f.stat.ctime_ns if f.stat else None for f in files],
        [load.values_rounded for load in loads],
    ]
    types = ["VARCHAR"] * 3 + ["BIGINT", "VARCHAR", "VARCHAR"] + ["VARCHAR[]"] * 3 + ["BIGINT"] * 8
    values = ", ".join(f"unnest(?::{sql_type}[])" for sql_type in types)
    con.execute(
        "INSERT INTO audit.load_manifest (file_id, table_name, path, size_bytes, sha256, file_format, "
        "columns_present, missing_columns, extra_columns, rows_read, rows_loaded, rows_rejected, "
        "physical_lines, inode, mtime_ns, ctime_ns, values_rounded, "
        "batch_id, status, loaded_at, accepted_at) "
        f"SELECT * EXCLUDE (file_index), ?, 'pending', {file_loaded_at_sql('file_index')}, NULL "
        f"FROM (SELECT unnest(range(?::BIGINT)) AS file_index, {values})",
        [batch_id, len(files), *columns],
    )
