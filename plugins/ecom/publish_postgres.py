"""PostgreSQL as a second publish target: what publish wrote into the new serving file, swapped in atomically.

With `ECOM_SERVING_URL=postgresql://...`, `ecom.publish` hands the new (complete, not yet renamed)
serving.duckdb to `swapped_in`, which copies its schemas (`marts` and `meta`) into PostgreSQL in ONE
transaction:

1. each schema S is created afresh as `S__next`: the same tables and columns (DuckDB types mapped to
   PostgreSQL's, `POSTGRES_TYPES`), NOT NULL, then the rows by `COPY ... FROM STDIN` of CSV that DuckDB
   writes, then the primary key, unique and check constraints, then the table and column comments;
2. every table of the current S is locked (ACCESS EXCLUSIVE): a statement already reading one runs to
   its end first, and a statement arriving now waits. Each try waits at most `LOCK_WAIT`, then lets go
   of everything and tries again, up to `LOCK_PATIENCE_SECONDS` in all, so the swap never deadlocks
   with a reader;
3. S is renamed `S__previous`, `S__next` is renamed S, and `S__previous` is dropped;
4. the caller's block runs (publish renames the DuckDB file there), then the transaction commits.
   Only a failure of the COMMIT itself, after the rename, leaves the two targets apart (the file
   new, PostgreSQL old) until the next publish.

A reader's statement therefore sees the old marts and publish log or the new ones, never a mix, and
never a missing table; a failure anywhere (including in the caller's block) rolls everything back, so
PostgreSQL stays as it was and holds no half-loaded schema. Privileges do not travel with a renamed
schema: grant BI roles through `ALTER DEFAULT PRIVILEGES` (docs/bi.md), which every new schema and
table of the publishing role receives.
"""

from __future__ import annotations

import re
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from ecom.sql import identifier, literal

# The serving file's schemas, all of them copied.
SERVED_SCHEMAS = ("marts", "meta")
NEXT_SUFFIX = "__next"
PREVIOUS_SUFFIX = "__previous"
POSTGRES_TYPES = {
    "VARCHAR": "text",
    "BOOLEAN": "boolean",
    "TINYINT": "smallint",
    "SMALLINT": "smallint",
    "INTEGER": "integer",
    "BIGINT": "bigint",
    "UTINYINT": "smallint",
    "USMALLINT": "integer",
    "UINTEGER": "bigint",
    "UBIGINT": "numeric(20,0)",
    "HUGEINT": "numeric(39,0)",
    "FLOAT": "real",
    "DOUBLE": "double precision",
    "DATE": "date",
    "TIME": "time",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "INTERVAL": "interval",
    "UUID": "uuid",
}
DECIMAL = re.compile(r"DECIMAL\((\d+),(\d+)\)")
LIST_SUFFIX = "[]"
# How long one try at the swap's locks waits for readers, and how long tries go on in all.
LOCK_WAIT = "200ms"
LOCK_PATIENCE_SECONDS = 60.0


class UnsupportedTypeError(ValueError):
    """A served column has a DuckDB type that has no PostgreSQL counterpart here."""


class ServingBusyError(RuntimeError):
    """PostgreSQL sessions kept the marts locked for longer than the swap waits; nothing was published."""


@dataclass(frozen=True)
class Column:
    name: str
    duckdb_type: str
    postgres_type: str
    nullable: bool
    comment: str | None


@dataclass(frozen=True)
class Table:
    schema: str
    name: str
    comment: str | None
    columns: list[Column]
    constraints: list[str]  # PostgreSQL table constraints, added after the rows


def target_description(url: str) -> str:
    """Where the marts go, without user or password: postgresql://host:port/database."""
    info = conninfo_to_dict(url)
    return f"postgresql://{info.get('host', 'localhost')}:{info.get('port', '5432')}/{info.get('dbname', '')}"


def postgres_type(duckdb_type: str, column: str) -> str:
    """The PostgreSQL type of a DuckDB column type; lists become arrays."""
    if duckdb_type.endswith(LIST_SUFFIX):
        return postgres_type(duckdb_type[: -len(LIST_SUFFIX)], column) + LIST_SUFFIX
    if match := DECIMAL.fullmatch(duckdb_type):
        return f"numeric({match[1]},{match[2]})"
    if duckdb_type in POSTGRES_TYPES:
        return POSTGRES_TYPES[duckdb_type]
    raise UnsupportedTypeError(f"{column} is {duckdb_type}, which the PostgreSQL target cannot hold")


def served_tables(serving_file: Path) -> list[Table]:
    """Every table of the served schemas in the serving file, mapped to PostgreSQL (raises on a type
    without a counterpart before anything reaches PostgreSQL)."""
    where = "WHERE database_name = current_database() AND list_contains(?, schema_name)"
    served = [list(SERVED_SCHEMAS)]
    with duckdb.connect(str(serving_file), read_only=True) as con:
        tables = con.execute(
            f"SELECT schema_name, table_name, comment FROM duckdb_tables() {where} ORDER BY ALL", served
        ).fetchall()
        columns = con.execute(
            "SELECT schema_name, table_name, column_name, data_type, is_nullable, comment "
            f"FROM duckdb_columns() {where} ORDER BY schema_name, table_name, column_index", served
        ).fetchall()
        constraints = con.execute(
            "SELECT schema_name, table_name, constraint_type, constraint_column_names, constraint_text "
            f"FROM duckdb_constraints() {where} AND constraint_type IN ('PRIMARY KEY', 'UNIQUE', 'CHECK') "
            "ORDER BY schema_name, table_name, constraint_index", served
        ).fetchall()
    table_columns: dict[tuple[str, str], list[Column]] = defaultdict(list)
    for schema, name, column, data_type, nullable, text in columns:
        mapped = postgres_type(data_type, f"{schema}.{name}.{column}")
        table_columns[schema, name].append(Column(column, data_type, mapped, nullable, text))
    table_constraints: dict[tuple[str, str], list[str]] = defaultdict(list)
    for schema, name, kind, key, text in constraints:
        table_constraints[schema, name].append(_constraint(kind, key, text))
    return [Table(schema, name, comment, table_columns[schema, name], table_constraints[schema, name])
            for schema, name, comment in tables]


def _constraint(kind: str, columns: list[str], text: str) -> str:
    """A PostgreSQL table constraint: keys by their (quoted) columns, checks as DuckDB states them."""
    return text if kind == "CHECK" else f"{kind} ({', '.join(identifier(c) for c in columns)})"


@contextmanager
def swapped_in(url: str, serving_file: Path, work_dir: Path, duckdb_config: dict[str, str]) -> Iterator[None]:
    """Load `serving_file`'s schemas into PostgreSQL and swap them in; commits when the block exits
    normally, rolls back (PostgreSQL as it was) when anything raises. The CSV of one table at a time
    goes to a folder of its own under `work_dir`; DuckDB writes it with `duckdb_config`."""
    tables = served_tables(serving_file)
    with (tempfile.TemporaryDirectory(dir=work_dir, prefix="postgres_load.") as csv_dir,
          psycopg.connect(url) as conn, conn.transaction()):
        for schema in SERVED_SCHEMAS:
            new = sql.Identifier(schema + NEXT_SUFFIX)
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(new))
            conn.execute(sql.SQL("CREATE SCHEMA {}").format(new))
        with duckdb.connect(str(serving_file), read_only=True, config=duckdb_config) as source:
            for table in tables:
                _load(conn, source, table, Path(csv_dir))
        _lock_current(conn)
        for schema in SERVED_SCHEMAS:
            _swap(conn, schema)
        yield


def _load(conn: psycopg.Connection, source: duckdb.DuckDBPyConnection, table: Table, work_dir: Path) -> None:
    target = sql.Identifier(table.schema + NEXT_SUFFIX, table.name)
    definitions = sql.SQL(", ").join(
        sql.SQL("{} {}{}").format(sql.Identifier(c.name), sql.SQL(c.postgres_type),
                                 sql.SQL("" if c.nullable else " NOT NULL"))
        for c in table.columns
    )
    conn.execute(sql.SQL("CREATE TABLE {} ({})").format(target, definitions))
    column_list = sql.SQL(", ").join(sql.Identifier(c.name) for c in table.columns)
    csv_path = work_dir / f"{table.schema}.{table.name}.csv"
    select = ", ".join(_csv_value(c) for c in table.columns)
    source.execute(
        f"COPY (SELECT {select} FROM {identifier(table.schema)}.{identifier(table.name)}) "
        f"TO {literal(str(csv_path))} (FORMAT csv, HEADER false)"
    )
    try:
        with csv_path.open("rb") as rows, conn.cursor().copy(
            sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(target, column_list)
        ) as copy:
            while chunk := rows.read(1 << 20):
                copy.write(chunk)
    finally:
        csv_path.unlink()
    for constraint in table.constraints:
        conn.execute(sql.SQL("ALTER TABLE {} ADD {}").format(target, sql.SQL(constraint)))
    if table.comment:
        conn.execute(sql.SQL("COMMENT ON TABLE {} IS {}").format(target, sql.Literal(table.comment)))
    for column in table.columns:
        if column.comment:
            conn.execute(sql.SQL("COMMENT ON COLUMN {}.{} IS {}").format(
                target, sql.Identifier(column.name), sql.Literal(column.comment)))


def _csv_value(column: Column) -> str:
    """The DuckDB expression whose CSV text PostgreSQL reads back as the same value: a list as an
    array literal ({"a","b",NULL}); anything else as DuckDB writes it (NULL unquoted, '' quoted)."""
    name = identifier(column.name)
    if not column.duckdb_type.endswith(LIST_SUFFIX):
        return name
    element = (
        "CASE WHEN x IS NULL THEN 'NULL' "
        "ELSE '\"' || replace(replace(CAST(x AS VARCHAR), '\\', '\\\\'), '\"', '\\\"') || '\"' END"
    )
    return f"'{{' || array_to_string(list_transform({name}, lambda x: {element}), ',') || '}}' AS {name}"


def _lock_current(conn: psycopg.Connection) -> None:
    """ACCESS EXCLUSIVE on every table of the current served schemas, trying again while readers hold them."""
    tables = [
        sql.Identifier(schema, name)
        for schema, name in conn.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema = ANY(%s) ORDER BY 1, 2",
            [list(SERVED_SCHEMAS)],
        ).fetchall()
    ]
    if not tables:
        return
    statement = sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(sql.SQL(", ").join(tables))
    deadline = time.monotonic() + LOCK_PATIENCE_SECONDS
    pause = 0.05
    while True:
        try:
            with conn.transaction():  # a savepoint: a timed-out try gives back what it had locked
                conn.execute(sql.SQL("SET LOCAL lock_timeout = {}").format(sql.Literal(LOCK_WAIT)))
                conn.execute(statement)
            return
        except psycopg.errors.LockNotAvailable:
            if time.monotonic() + pause > deadline:
                raise ServingBusyError(
                    "PostgreSQL sessions kept the served tables locked for over "
                    f"{LOCK_PATIENCE_SECONDS:.0f} s (a transaction left open?); nothing was published"
                ) from None
            time.sleep(pause)
            pause = min(pause * 2, 1.0)


def _swap(conn: psycopg.Connection, schema: str) -> None:
    current, new, previous = (sql.Identifier(schema + end) for end in ("", NEXT_SUFFIX, PREVIOUS_SUFFIX))
    exists = conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [schema]).fetchall()
    if exists:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(previous))
        conn.execute(sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(current, previous))
    conn.execute(sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(new, current))
    if exists:
        conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(previous))
