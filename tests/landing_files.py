"""Landing files and reading the warehouse back, for the ingestion tests."""

from __future__ import annotations

from pathlib import Path

import duckdb

from ecom.config import Settings

ORDERS_HEADER = "order_id,customer_id,ordered_at,total_amount"


def land(settings: Settings, relative: str, content: str | bytes) -> Path:
    """Write `content` to `relative` under the landing folder (folders made as needed)."""
    path = settings.landing_dir / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def query(settings: Settings, sql: str) -> list[tuple]:
    with duckdb.connect(str(settings.warehouse_db), read_only=True) as con:
        return con.execute(sql).fetchall()
