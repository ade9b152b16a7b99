"""The keys that occur more than once among a table's pending rows, found once per gate run.

Only rows of such keys can be duplicates, conflicting keys (quarantine.py) or superseded versions
(raw_rows.py): both read this small table instead of grouping every pending row again. It lives in an
in-memory database attached to the warehouse's database instance (`SCRATCH_DATABASE`), which GX's
connections of the same instance see too; `gate_scratch` gives each gate run a fresh one, and the
process's end takes it with it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import duckdb

from ecom.contract import Table
from ecom.ingest.layers import PENDING_SCHEMA, relation_name
from ecom.sql import identifier

SCRATCH_DATABASE = "gate_scratch"


@contextmanager
def gate_scratch(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """A fresh scratch database for one gate run, detached when the block ends."""
    con.execute(f"DETACH DATABASE IF EXISTS {SCRATCH_DATABASE}")
    _attach(con)
    try:
        yield
    finally:
        con.execute(f"DETACH DATABASE IF EXISTS {SCRATCH_DATABASE}")


def repeated_keys(con: duckdb.DuckDBPyConnection, table: Table) -> str:
    """The table (in the scratch database) of the primary keys that occur more than once among the
    table's pending rows, made on first use; returns its name. Rows leaving raw_pending later (to
    quarantine or to wait) can only make a key repeat less: a superset stays right for a semi join."""
    _attach(con)
    keys = f"{SCRATCH_DATABASE}.{identifier(table.name + '_repeated_keys')}"
    key = ", ".join(identifier(column) for column in table.primary_key)
    con.execute(
        f"create table if not exists {keys} as select {key} from {relation_name(PENDING_SCHEMA, table.name)} "
        "group by all having count(*) > 1"
    )
    return keys


def same_key_sql(table: Table, left: str, right: str) -> str:
    """The join condition of two aliases on the primary key, an empty value matching an empty one."""
    return " and ".join(f"{left}.{identifier(c)} is not distinct from {right}.{identifier(c)}"
                        for c in table.primary_key)


def _attach(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"ATTACH IF NOT EXISTS ':memory:' AS {SCRATCH_DATABASE}")
