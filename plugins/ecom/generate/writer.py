"""Writes generated tables into the landing layout <out>/<table>/dt=<day>/<table>_<yyyymmdd>.<format>
(csv, parquet or jsonl)."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from ecom.contract import Contract
from ecom.sql import literal

FORMATS = ("csv", "parquet", "jsonl")


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
        elif self.fmt == "parquet":
            pq.write_table(data, path)
        else:  # one JSON object a line, empty values as null
            with duckdb.connect() as con:
                con.register("generated", data)
                con.execute(f"COPY generated TO {literal(str(path))} (FORMAT json)")
        self.files[table] += 1
        self.rows[table] += data.num_rows
