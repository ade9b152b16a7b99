"""Read one landed file as text into two temporary tables, whatever its format.

`ingest_source`: `_line BIGINT` (physical line in the file, or Parquet row number, 1-based) and one
VARCHAR column per file column, named by its normalised header (stripped, lower case).
`ingest_broken`: rows that could not be split into columns at all (a CSV line with too many or too
few fields, an unterminated quote, invalid UTF-8; a JSON line that is not an object): `line,
column_name, raw_value, reason`. Every record of the file lands in exactly one of the two.
Both are replaced by the next file read and vanish with the connection.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Callable

import duckdb

from ecom.ingest.discovery import LandedFile
from ecom.sql import identifier, literal

SOURCE_TABLE = "ingest_source"
BROKEN_TABLE = "ingest_broken"
_CSV_ERRORS = "ingest_csv_errors"
_CSV_SCANS = "ingest_csv_scans"
_CSV_RECORDS = "ingest_csv_records"
_CSV_RECORD_STARTS = "ingest_csv_record_starts"
_JSON_LINES = "ingest_json_lines"
_LINE_COUNT_ENCODINGS = ("utf-8", "latin-1")
_BROKEN_COLUMNS = "line BIGINT, column_name VARCHAR, raw_value VARCHAR, reason VARCHAR"


def read_landed_file(con: duckdb.DuckDBPyConnection, file: LandedFile) -> list[str]:
    """Fill `ingest_source` and `ingest_broken` from `file`; returns the (normalised) columns it has."""
    readers: dict[str, Callable[[duckdb.DuckDBPyConnection, LandedFile], list[str]]] = {
        "csv": _read_csv,
        "parquet": _read_parquet,
        "jsonl": _read_json_lines,
    }
    return readers[file.file_format](con, file)


def normalise_header(names: list[str]) -> list[str]:
    """Strip and lower-case column names; a blank name becomes column_<n>, a repeated one gets _<k>."""
    normalised: list[str] = []
    for position, name in enumerate(names, start=1):
        candidate = name.strip().lower() or f"column_{position}"
        unique, suffix = candidate, 2
        while unique in normalised:
            unique, suffix = f"{candidate}_{suffix}", suffix + 1
        normalised.append(unique)
    return normalised


def _create_source(con: duckdb.DuckDBPyConnection, select_sql: str) -> None:
    con.execute(f"CREATE OR REPLACE TEMP TABLE {SOURCE_TABLE} AS {select_sql}")


def _create_empty_broken(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"CREATE OR REPLACE TEMP TABLE {BROKEN_TABLE} ({_BROKEN_COLUMNS})")


def _read_empty(con: duckdb.DuckDBPyConnection) -> list[str]:
    _create_source(con, "SELECT NULL::BIGINT AS _line WHERE false")
    _create_empty_broken(con)
    return []


def _physical_lines_sql(file: LandedFile, encoding: str) -> str:
    """Every physical line of a text file (blank ones as NULL), in file order: `n` (1-based), `text`."""
    return (
        "SELECT row_number() OVER () AS n, text FROM read_csv("
        f"{literal(str(file.path))}, columns = {{'text': 'VARCHAR'}}, header = false, auto_detect = false, "
        f"delim = chr(0), quote = '', escape = '', strict_mode = false, encoding = {literal(encoding)})"
    )


# ---------------------------------------------------------------------------------------------- CSV


def _csv_header(file: LandedFile) -> list[str] | None:
    """The first record of the file, or None when the file has no header (empty or blank)."""
    opener = gzip.open if file.path.name.lower().endswith(".gz") else open
    with opener(file.path, "rb") as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="replace", newline="")
        for record in csv.reader(text):
            if record:
                return record
    return None


def _read_csv(con: duckdb.DuckDBPyConnection, file: LandedFile) -> list[str]:
    header = _csv_header(file) if file.size_bytes else None
    if header is None:
        return _read_empty(con)
    names = normalise_header(header)
    positional = [f"c{i}" for i in range(1, len(names) + 1)]
    columns_struct = "{" + ", ".join(f"'{name}': 'VARCHAR'" for name in positional) + "}"
    # DuckDB appends to existing rejects tables: start them afresh for this file.
    con.execute(f"DROP TABLE IF EXISTS {_CSV_ERRORS}; DROP TABLE IF EXISTS {_CSV_SCANS}")
    # Fixed dialect (comma, double quote): no sniffing, so a broken line can't change how the file is read.
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {_CSV_RECORDS} AS "
        f"SELECT row_number() OVER () AS _ordinal, * FROM read_csv({literal(str(file.path))}, "
        f"columns = {columns_struct}, header = true, auto_detect = false, delim = ',', quote = '\"', "
        f"escape = '\"', store_rejects = true, "
        f"rejects_table = '{_CSV_ERRORS}', rejects_scan = '{_CSV_SCANS}')"
    )
    _map_csv_records_to_lines(con, file)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {BROKEN_TABLE} AS "
        f"SELECT coalesce(s.line, e.line)::BIGINT AS line, e.column_name, "
        f"trim(e.csv_line, chr(10) || chr(13)) AS raw_value, "
        f"'malformed CSV line (' || lower(e.error_type) || '): ' || e.error_message AS reason "
        f"FROM {_CSV_ERRORS} e LEFT JOIN {_CSV_RECORD_STARTS} s ON s.reported_line = e.line"
    )
    renamed = ", ".join(f"r.{p} AS {identifier(n)}" for p, n in zip(positional, names, strict=True))
    _create_source(
        con,
        f"WITH good_starts AS ("
        f"  SELECT line, row_number() OVER (ORDER BY line) AS ordinal FROM {_CSV_RECORD_STARTS}"
        f"  WHERE reported_line NOT IN (SELECT line FROM {_CSV_ERRORS})) "
        f"SELECT coalesce(g.line, r._ordinal + 1)::BIGINT AS _line, {renamed} "
        f"FROM {_CSV_RECORDS} r LEFT JOIN good_starts g ON g.ordinal = r._ordinal",
    )
    return names


def _map_csv_records_to_lines(con: duckdb.DuckDBPyConnection, file: LandedFile) -> None:
    """`ingest_csv_record_starts(line, reported_line)`: the physical line each data record starts on.

    DuckDB reports rejected records by a line count in which a quoted multi-line record counts once
    (`reported_line`); a line continues a record while the quotes before it are unbalanced. Lines are
    read only to count them and their quotes: as UTF-8, else as latin-1 (a file with invalid UTF-8).
    If neither works the table stays empty and rows fall back to "record number + 1" as their line.
    """
    for encoding in _LINE_COUNT_ENCODINGS:
        try:
            con.execute(_record_starts_sql(file, encoding))
            return
        except duckdb.InvalidInputException:
            continue
    con.execute(f"CREATE OR REPLACE TEMP TABLE {_CSV_RECORD_STARTS} (line BIGINT, reported_line BIGINT)")


def _record_starts_sql(file: LandedFile, encoding: str) -> str:
    return (
        f"CREATE OR REPLACE TEMP TABLE {_CSV_RECORD_STARTS} AS "
        f"WITH lines AS ({_physical_lines_sql(file, encoding)}), "
        "quoting AS ("
        "  SELECT n, text, coalesce(sum(length(text) - length(replace(text, '\"', ''))) OVER ("
        "    ORDER BY n ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) % 2 = 1 AS continues_record"
        "  FROM lines), "
        "counted AS ("
        "  SELECT n, text IS NOT NULL AND NOT continues_record AS starts_record,"
        "    sum(CASE WHEN continues_record THEN 0 ELSE 1 END) OVER (ORDER BY n) AS reported_line"
        "  FROM quoting) "
        "SELECT n AS line, reported_line FROM counted WHERE starts_record "
        "QUALIFY row_number() OVER (ORDER BY n) > 1"  # the first record is the header
    )


# ------------------------------------------------------------------------------------------ Parquet


def _read_parquet(con: duckdb.DuckDBPyConnection, file: LandedFile) -> list[str]:
    scan = f"read_parquet({literal(str(file.path))}, file_row_number = true)"
    file_columns = [row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall()
                    if row[0] != "file_row_number"]
    names = normalise_header(file_columns)
    as_text = "".join(f", CAST({identifier(c)} AS VARCHAR) AS {identifier(n)}"
                      for c, n in zip(file_columns, names, strict=True))
    _create_source(con, f"SELECT (file_row_number + 1)::BIGINT AS _line{as_text} FROM {scan}")
    _create_empty_broken(con)
    return names


# -------------------------------------------------------------------------------------- JSON lines


def _read_json_lines(con: duckdb.DuckDBPyConnection, file: LandedFile) -> list[str]:
    if not file.size_bytes:
        return _read_empty(con)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {_JSON_LINES} AS "
        f"SELECT n AS _line, text, "
        f"coalesce(CASE WHEN json_valid(text) THEN json_type(text) = 'OBJECT' END, false) AS is_object "
        f"FROM ({_physical_lines_sql(file, 'utf-8')}) WHERE trim(text) <> ''"
    )
    keys = [row[0] for row in con.execute(
        f"SELECT DISTINCT unnest(json_keys(text)) AS key FROM {_JSON_LINES} WHERE is_object ORDER BY key"
    ).fetchall()]
    keys_by_name: dict[str, list[str]] = {}  # keys differing only in case or spaces are one column
    for key in keys:
        keys_by_name.setdefault(key.strip().lower() or "column_blank", []).append(key)
    extracted = "".join(
        f", {_json_value_sql(same_keys)} AS {identifier(name)}" for name, same_keys in keys_by_name.items()
    )
    _create_source(con, f"SELECT _line{extracted} FROM {_JSON_LINES} WHERE is_object")
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {BROKEN_TABLE} AS "
        f"SELECT _line AS line, NULL::VARCHAR AS column_name, text AS raw_value, "
        f"'not a valid JSON object' AS reason FROM {_JSON_LINES} WHERE NOT is_object"
    )
    return list(keys_by_name)


def _json_value_sql(keys: list[str]) -> str:
    """The value of a key as text (numbers and booleans as written, null as NULL)."""
    paths = [f"json_extract_string(text, {literal('$.' + _json_path_key(key))})" for key in keys]
    return paths[0] if len(paths) == 1 else f"coalesce({', '.join(paths)})"


def _json_path_key(key: str) -> str:
    return '"' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'
