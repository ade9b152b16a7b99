"""The SQLAlchemy dialect through which Great Expectations runs its metrics as queries in DuckDB.

GX 1.24's SQL execution engine runs each query in `with engine.connect() as connection:` and fetches
the rows after that block, once the connection has been given back to the pool. duckdb-engine 0.17's
cursor is the DuckDB connection itself, and giving it back issues a ROLLBACK, which discards the
unfetched result: every metric then comes back empty and every expectation fails with IndexError in
`resolve_metric_bundle`. The dialect `duckdb+buffered` fetches each result that has rows while the
connection is still held (SQLAlchemy's FullyBufferedCursorFetchStrategy, meant for results that must
outlive the database conversation). GX's metric queries return aggregates, and its lists of offending
rows are cut to `partial_unexpected_count` in the query, so what is buffered stays small.

Statements given as plain text are not buffered: GX's metrics are SQLAlchemy constructs, and the one
text statement it runs is a query asset's own query, executed only to read its column names (GX's
`column_reflection_fallback`); buffering it fetched every row of the batch into Python.

It also opens DuckDB with exactly the configuration it is given (duckdb-engine adds a user agent to
it): DuckDB shares one open database between the connections of a process only when their
configurations are equal, so a gate can validate the warehouse it holds open.
"""

from __future__ import annotations

import atexit
import sys
from pathlib import Path
from typing import Any

import duckdb
import duckdb_engine
from sqlalchemy.dialects import registry
from sqlalchemy.engine.cursor import FullyBufferedCursorFetchStrategy

DIALECT = "duckdb.buffered"


class BufferedExecutionContext(duckdb_engine.Dialect.execution_ctx_cls):
    def post_exec(self) -> None:
        super().post_exec()
        description = self.cursor.description
        if description is not None and not self.is_text:
            self.cursor_fetch_strategy = FullyBufferedCursorFetchStrategy(self.cursor, description)


class BufferedDuckDBDialect(duckdb_engine.Dialect):
    """duckdb-engine whose results are fetched before the connection returns to the pool."""

    execution_ctx_cls = BufferedExecutionContext
    supports_statement_cache = True

    def connect(self, *cargs: Any, **cparams: Any) -> duckdb_engine.ConnectionWrapper:
        config = {**cparams.pop("config", {}), **cparams.pop("url_config", {})}
        return duckdb_engine.ConnectionWrapper(duckdb.connect(*cargs, config=config, **cparams))


registry.register(DIALECT, __name__, BufferedDuckDBDialect.__name__)


def connection_string(database: Path) -> str:
    """The SQLAlchemy URL of a DuckDB file through the buffered dialect."""
    return f"duckdb+buffered:///{database.resolve()}"


@atexit.register
def _drop_duckdb_type_constants() -> None:
    """Let DuckDB's type constants go before the interpreter tears its extension down.

    In a process that has imported both Great Expectations and duckdb-engine, the globals of
    `duckdb.value.constant` (DuckDBPyType objects such as INTEGER) outlive the interpreter's module
    cleanup, and nanobind, which checks at exit that no instance of its types is left, prints about a
    hundred lines of "nanobind: leaked ..." after the program's own output. Nothing runs DuckDB code
    after exit handlers, so the module's references to them are dropped here (atexit runs before that
    check).
    """
    constants = sys.modules.get("duckdb.value.constant")
    for name, value in list(vars(constants).items()) if constants else []:
        if isinstance(value, duckdb.sqltypes.DuckDBPyType):
            delattr(constants, name)
