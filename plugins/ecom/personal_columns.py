"""Which columns carry personal data: a name that holds a `personal` column of the raw contract as a
word of its snake_case name, in any letter case (`email`, `customer_email`, `Phone_Number`).

The one guard against personal data in the marts, called by the mart gate (a check the steward sees)
and by publish (which refuses to serve such a column). The contract declares which names are personal.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from ecom.contract import Contract, load_contract


@dataclass(frozen=True)
class PersonalColumn:
    table: str
    column: str
    personal: tuple[str, ...]  # the contract columns it is named after, as table.column

    def describe(self, schema: str) -> str:
        named_after = ", ".join(self.personal)
        return f"{schema}.{self.table}.{self.column} (personal column {named_after} of the raw contract)"


def personal_names(contract: Contract | None = None) -> dict[str, list[str]]:
    """Each personal column name of the contract (lower case) -> the table.column pairs declaring it."""
    names: dict[str, list[str]] = {}
    for table in (contract or load_contract()).tables.values():
        for column in table.personal_columns:
            names.setdefault(column.lower(), []).append(f"{table.name}.{column}")
    return names


def personal_columns(
    con: duckdb.DuckDBPyConnection, schema: str, database: str | None = None
) -> list[PersonalColumn]:
    """The columns of the relations in `schema` (of the attached `database`, default the connection's
    own) that are named after a personal column, by table and column position."""
    names = personal_names()
    rows = con.execute(
        """
        select table_name, column_name,
               list_filter(
                   $names::varchar[],
                   lambda name: regexp_matches(lower(column_name), '(^|_)' || name || '(_|$)')
               ) as words
        from duckdb_columns()
        where database_name = coalesce($database, current_database()) and schema_name = $schema
          and len(words) > 0
        order by table_name, column_index
        """,
        {"names": sorted(names), "database": database, "schema": schema},
    ).fetchall()
    return [
        PersonalColumn(table, column, tuple(pair for word in words for pair in names[word]))
        for table, column, words in rows
    ]
