"""Writes generated tables into the landing layout <out>/<table>/dt=<day>/<table>_<yyyymmdd>.<csv|parquet>."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from ecom.contract import Contract

FORMATS = ("csv", "parquet")


def ensure_empty_landing(out: Path, contract: Contract) -> None:
    """Refuse to mix a new shop with files of an earlier one (ingestion would load both)."""
    for table in contract.tables:
        folder = out / table
        if folder.is_dir() and any(p.is_file() for p in folder.rglob("*")):
            raise FileExistsError(f"{folder} already holds files: generate into an empty landing folder")


class LandingWriter:
    """Writes one file per table and day (only when it has rows) and counts files and rows per table."""

    def __init__(self, out: Path, fmt: str, contract: Contract) -> None:
        if fmt not in FORMATS:
            raise ValueError(f"unknown format {fmt!r}: expected one of {', '.join(FORMATS)}")
        self.out = out
        self.fmt = fmt
        self.contract = contract
        self.files: Counter[str] = Counter()
        self.rows: Counter[str] = Counter()

    def write(self, table: str, day: date, columns: dict[str, pa.Array]) -> None:
        expected = self.contract.table(table).column_names
        if list(columns) != expected:
            raise ValueError(
                f"generated {table} columns {list(columns)} differ from the contract's {expected}"
            )
        data = pa.table(columns)
        if data.num_rows == 0:
            return
        folder = self.out / table / f"dt={day.isoformat()}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{table}_{day:%Y%m%d}.{self.fmt}"
        if self.fmt == "csv":
            pa_csv.write_csv(data, path)
        else:
            pq.write_table(data, path)
        self.files[table] += 1
        self.rows[table] += data.num_rows
