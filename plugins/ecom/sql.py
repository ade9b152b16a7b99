"""Small DuckDB SQL helpers shared by ingestion, the gates and publish: quoting and existence checks."""

from __future__ import annotations

import duckdb


def identifier(name: str) -> str:
    """A quoted SQL identifier (names may come from landed files)."""
    return '"' + name.replace('"', '""') + '"'


def literal(value: str) -> str:
    """A quoted SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def relation_names(con: duckdb.DuckDBPyConnection, schema: str, database: str | None = None) -> list[str]:
    """Tables and views of `schema`, sorted; in one attached `database` when given, else in any."""
    # fetchall, not fetchone: DuckDB 2.0 keeps a partly fetched result open and refuses the
    # connection's next statement.
    rows = con.execute(
        "SELECT DISTINCT table_name FROM information_schema.tables "
        "WHERE table_schema = ? AND coalesce(table_catalog = ?, true) ORDER BY table_name",
        [schema, database],
    ).fetchall()
    return [name for (name,) in rows]


def relation_exists(
    con: duckdb.DuckDBPyConnection, schema: str, name: str, database: str | None = None
) -> bool:
    return name in relation_names(con, schema, database)
