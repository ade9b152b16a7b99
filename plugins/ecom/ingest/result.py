"""What one ingest call did, per table and in total."""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from ecom.config import Settings
from ecom.ingest.manifest import FileLoad
from ecom.ingest.warehouse import AUDIT_SCHEMA, UTC_NOW_SQL
from ecom.sql import relation_exists


@dataclass
class TableCounts:
    files_loaded: int = 0
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    values_rounded: int = 0

    def add(self, load: FileLoad) -> None:
        self.files_loaded += 1
        self.rows_read += load.rows_read
        self.rows_loaded += load.rows_loaded
        self.rows_rejected += load.rows_rejected
        self.values_rounded += load.values_rounded


@dataclass
class IngestResult:
    batch_id: str
    files_skipped: int = 0  # already loaded: same path, same checksum
    files_replaced: int = 0  # pending files fixed in place (counted in files_loaded too)
    files_withdrawn: int = 0
    tables: dict[str, TableCounts] = field(default_factory=dict)
    missing_columns: dict[str, list[str]] = field(default_factory=dict)  # path -> contract columns it lacks
    warnings: list[str] = field(default_factory=list)

    def record_load(self, table: str, path: str, load: FileLoad, replaced: bool) -> None:
        self.tables.setdefault(table, TableCounts()).add(load)
        self.files_replaced += replaced
        if load.missing_columns:
            self.missing_columns[path] = load.missing_columns

    @property
    def files_loaded(self) -> int:
        return sum(t.files_loaded for t in self.tables.values())

    @property
    def rows_read(self) -> int:
        return sum(t.rows_read for t in self.tables.values())

    @property
    def rows_loaded(self) -> int:
        return sum(t.rows_loaded for t in self.tables.values())

    @property
    def rows_rejected(self) -> int:
        return sum(t.rows_rejected for t in self.tables.values())

    def describe(self) -> str:
        lines = [
            f"ingest batch {self.batch_id}: {self.files_loaded} file(s) loaded "
            f"({self.files_replaced} replacing a pending version), {self.files_skipped} already loaded, "
            f"{self.files_withdrawn} withdrawn; rows read {self.rows_read} = loaded {self.rows_loaded} "
            f"+ rejected {self.rows_rejected}"
        ]
        lines += [
            f"  {name}: {t.files_loaded} file(s), read {t.rows_read}, loaded {t.rows_loaded}, "
            f"rejected {t.rows_rejected}"
            + (f", {t.values_rounded} value(s) rounded" if t.values_rounded else "")
            for name, t in sorted(self.tables.items())
        ]
        lines += [f"  {path} lacks column(s): {', '.join(columns)}"
                  for path, columns in sorted(self.missing_columns.items())]
        lines += [f"  warning: {warning}" for warning in self.warnings]
        return "\n".join(lines)


def record_warnings(con: duckdb.DuckDBPyConnection, batch_id: str, warnings: list[str]) -> None:
    """Keep an ingest batch's warnings (files and folders not read) in audit.ingest_warnings."""
    if warnings:
        con.execute(f"INSERT INTO audit.ingest_warnings SELECT ?, unnest(?::VARCHAR[]), {UTC_NOW_SQL}",
                    [batch_id, warnings])


def batch_warnings(settings: Settings, batch_id: str) -> list[str]:
    """The warnings ingest batch `batch_id` recorded (none when the warehouse has none)."""
    if not settings.warehouse_db.exists():
        return []
    with duckdb.connect(str(settings.warehouse_db), read_only=True) as con:
        if not relation_exists(con, AUDIT_SCHEMA, "ingest_warnings"):
            return []
        rows = con.execute("SELECT warning FROM audit.ingest_warnings WHERE batch_id = ? ORDER BY rowid",
                           [batch_id]).fetchall()
    return [row[0] for row in rows]
