"""What a run published, comparable across runs: a checksum of each mart's rows in serving.duckdb."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb


def published_checksums(serving_db: Path) -> dict[str, str]:
    """sha256 of each published mart's rows, order-free; doubles rounded to 6 decimals (summing
    doubles in another row order moves the last bits, which is not a different number)."""
    with duckdb.connect(str(serving_db), read_only=True) as con:
        marts = [row[0] for row in con.sql(
            "select table_name from information_schema.tables where table_schema = 'marts' order by 1"
        ).fetchall()]
        return {mart: _rows_checksum(con.sql(f"select * from marts.{mart}").fetchall()) for mart in marts}


def _rows_checksum(rows: list[tuple]) -> str:
    normalised = sorted(repr(tuple(round(v, 6) if isinstance(v, float) else v for v in row)) for row in rows)
    return hashlib.sha256("\n".join(normalised).encode()).hexdigest()
