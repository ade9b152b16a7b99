"""Small DuckDB SQL helpers shared by ingestion, the gates and publish: quoting and existence checks."""

from __future__ import annotations

import duckdb


def identifier(name: str) -> str:
    """A quoted SQL identifier (names may come from landed files)."""
    return '"' + name.replace('"', '""') + '"'


def literal(value: str) -> str:
    """A quoted SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def relation_exists(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    # fetchall, not fetchone: DuckDB 2.0 keeps a partly fetched result open and refuses the
    # connection's next statement.
    [(count,)] = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
        [schema, name],
    ).fetchall()
    return count > 0
