"""Read landed files as text into two temporary tables, whatever their format.

Files are read in groups (`reading_groups`): the CSV files that share a header are read in one scan,
any other file alone. For the group just read:
`ingest_source`: `_file_index BIGINT` (position of the row's file in the group), `_line BIGINT`
(physical line in the file, or Parquet row number, 1-based) and one VARCHAR column per file column,
named by its normalised header (stripped, lower case).
`ingest_broken`: rows that could not be split into columns at all (a CSV line with too many or too
few fields, an unterminated quote, invalid UTF-8; a JSON line that is not an object), one row per
record: `file_index, line, column_name (NULL: raw_value is the whole record), raw_value, reason`.
Every record of every file lands in exactly one of the two.
Both are replaced by the next group read and vanish with the connection.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ecom.ingest.discovery import LandedFile
from ecom.sql import identifier, literal

SOURCE_TABLE = "ingest_source"
BROKEN_TABLE = "ingest_broken"
_CSV_ERRORS = "ingest_csv_errors"
_CSV_SCANS = "ingest_csv_scans"
_CSV_RECORDS = "ingest_csv_records"
_CSV_RECORD_STARTS = "ingest_csv_record_starts"
_CSV_LINES = "ingest_csv_lines"
_JSON_LINES = "ingest_json_lines"
# Every temporary table a read creates (all replaced by the next read).
READING_TABLES = (SOURCE_TABLE, BROKEN_TABLE, _CSV_ERRORS, _CSV_SCANS, _CSV_RECORDS, _CSV_RECORD_STARTS,
                  _CSV_LINES, _JSON_LINES)
_LINE_COUNT_ENCODINGS = ("utf-8", "latin-1")
BROKEN_COLUMNS = "file_index BIGINT, line BIGINT, column_name VARCHAR, raw_value VARCHAR, reason VARCHAR"


def reading_groups(files: list[LandedFile]) -> list[list[LandedFile]]:
    """Split `files` (order kept within a group) into groups read in one scan each.

    CSV files with the same normalised header and compression form one group; an empty or blank CSV
    file, a Parquet file and a JSON-lines file are each a group of their own.
    """
    groups: dict[tuple[object, ...], list[LandedFile]] = {}
    for position, file in enumerate(files):
        header = _csv_header(file) if file.file_format == "csv" and file.size_bytes else None
        key: tuple[object, ...] = ("alone", position)
        if header is not None:
            key = ("csv", _is_gzip(file), *normalise_header(header))
        groups.setdefault(key, []).append(file)
    return list(groups.values())


@dataclass(frozen=True)
class GroupRead:
    columns: list[str]  # the group's (normalised) columns
    misread: list[int]  # positions of files the group's scan may have misread: read each of them alone


def read_landed_files(con: duckdb.DuckDBPyConnection, files: list[LandedFile]) -> GroupRead:
    """Fill `ingest_source` and `ingest_broken` from one reading group."""
    if files[0].file_format == "csv":
        return _read_csv(con, files)
    readers: dict[str, Callable[[duckdb.DuckDBPyConnection, LandedFile], list[str]]] = {
        "parquet": _read_parquet,
        "jsonl": _read_json_lines,
    }
    [file] = files
    return GroupRead(columns=readers[file.file_format](con, file), misread=[])


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
    con.execute(f"CREATE OR REPLACE TEMP TABLE {BROKEN_TABLE} ({BROKEN_COLUMNS})")


def _read_empty(con: duckdb.DuckDBPyConnection) -> list[str]:
    _create_source(con, "SELECT NULL::BIGINT AS _file_index, NULL::BIGINT AS _line WHERE false")
    _create_empty_broken(con)
    return []


def _path_list(paths: list[Path]) -> str:
    return "[" + ", ".join(literal(str(path)) for path in paths) + "]"


def _is_gzip(file: LandedFile) -> bool:
    return file.path.name.lower().endswith(".gz")


def _physical_lines_sql(paths: list[Path], encoding: str) -> str:
    """Every physical line of text files (blank ones as NULL), in file order: `file_index` (position
    in `paths`), `n` (1-based line number in its file), `text`."""
    scan = (
        f"read_csv({_path_list(paths)}, columns = {{'text': 'VARCHAR'}}, header = false, "
        f"auto_detect = false, delim = chr(0), quote = '', escape = '', strict_mode = false, "
        f"encoding = {literal(encoding)})"
    )
    return (
        "SELECT file_index, row_number() OVER (PARTITION BY file_index ORDER BY position) AS n, text "
        f"FROM (SELECT file_index::BIGINT AS file_index, row_number() OVER () AS position, text FROM {scan})"
    )


# ---------------------------------------------------------------------------------------------- CSV


def _csv_header(file: LandedFile) -> list[str] | None:
    """The first record of the file, or None when the file has no header (empty or blank)."""
    opener = gzip.open if _is_gzip(file) else open
    with opener(file.path, "rb") as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="replace", newline="")
        for record in csv.reader(text):
            if record:
                return record
    return None


def _read_csv(con: duckdb.DuckDBPyConnection, files: list[LandedFile]) -> GroupRead:
    """Read CSV files sharing one header in a single scan (a lone file may be empty: no columns)."""
    header = _csv_header(files[0]) if files[0].size_bytes else None
    if header is None:
        return GroupRead(columns=_read_empty(con), misread=[])
    names = normalise_header(header)
    positional = [f"c{i}" for i in range(1, len(names) + 1)]
    columns_struct = "{" + ", ".join(f"'{name}': 'VARCHAR'" for name in positional) + "}"
    # DuckDB appends to existing rejects tables: start them afresh for this group.
    con.execute(f"DROP TABLE IF EXISTS {_CSV_ERRORS}; DROP TABLE IF EXISTS {_CSV_SCANS}")
    # Fixed dialect (comma, double quote): no sniffing, so a broken line can't change how a file is read.
    # `_ordinal`: the record's 1-based number in its file (the scan keeps file order, then record order).
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {_CSV_RECORDS} AS "
        f"SELECT _file_index, _position - min(_position) OVER (PARTITION BY _file_index) + 1 AS _ordinal, "
        f"* EXCLUDE (_file_index, _position) "
        f"FROM (SELECT file_index::BIGINT AS _file_index, row_number() OVER () AS _position, * "
        f"FROM read_csv({_path_list([f.path for f in files])}, "
        f"columns = {columns_struct}, header = true, auto_detect = false, delim = ',', quote = '\"', "
        f"escape = '\"', store_rejects = true, "
        f"rejects_table = '{_CSV_ERRORS}', rejects_scan = '{_CSV_SCANS}'))"
    )
    _read_physical_lines(con, files)
    _map_csv_records_to_lines(con)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {BROKEN_TABLE} AS {_broken_records_sql(names, positional)}")
    renamed = ", ".join(f"r.{p} AS {identifier(n)}" for p, n in zip(positional, names, strict=True))
    _create_source(
        con,
        f"WITH good_starts AS ("
        f"  SELECT file_index, line, row_number() OVER (PARTITION BY file_index ORDER BY line) AS ordinal"
        f"  FROM {_CSV_RECORD_STARTS} s WHERE NOT EXISTS ("
        f"    SELECT 1 FROM {_CSV_ERRORS} e WHERE e.file_id = s.file_index AND e.line = s.reported_line)) "
        f"SELECT r._file_index, coalesce(g.line, r._ordinal + 1)::BIGINT AS _line, {renamed} "
        f"FROM {_CSV_RECORDS} r "
        f"LEFT JOIN good_starts g ON g.file_index = r._file_index AND g.ordinal = r._ordinal",
    )
    return GroupRead(columns=names, misread=_files_to_read_alone(con, len(names)) if len(files) > 1 else [])


def _broken_records_sql(names: list[str], positional: list[str]) -> str:
    """One `ingest_broken` row per record DuckDB rejected, however many errors it reported for it.

    DuckDB reports a record with too few fields once per missing field and one with too many once per
    extra field, each at a positional column (`c<k>`): they become one reason, "expected <n> fields,
    found <m>" (`column_idx` of a missing field is the number of fields found, that of an extra field
    the number read so far). Other errors (a stray quote, invalid UTF-8...) name the header column they
    were found in. `column_name` stays NULL: `raw_value` is the whole record, not one column's value.
    The rejects table's file_id is the file's position in the scanned list, like file_index.
    """
    header_name = "CASE e.column_name " + " ".join(
        f"WHEN {literal(p)} THEN {literal(n)}" for p, n in zip(positional, names, strict=True)) + " END"
    return (
        f"WITH records AS ("
        f"  SELECT e.file_id::BIGINT AS file_index, e.line AS reported_line, "
        f"    any_value(trim(e.csv_line, chr(10) || chr(13))) AS raw_value, "
        f"    string_agg(lower(e.error_type) || coalesce(' in ' || {header_name}, '') || ': ' "
        f"      || e.error_message, '; ' ORDER BY e.column_idx) "
        f"      FILTER (WHERE e.error_type NOT IN ('MISSING COLUMNS', 'TOO MANY COLUMNS')) AS field_errors, "
        f"    coalesce(min(e.column_idx) FILTER (WHERE e.error_type = 'MISSING COLUMNS'), "
        f"      max(e.column_idx) FILTER (WHERE e.error_type = 'TOO MANY COLUMNS')) AS fields_found "
        f"  FROM {_CSV_ERRORS} e GROUP BY ALL) "
        f"SELECT r.file_index, coalesce(s.line, r.reported_line)::BIGINT AS line, "
        f"NULL::VARCHAR AS column_name, r.raw_value, "
        f"'malformed CSV line: ' || concat_ws('; ', r.field_errors, "
        f"'expected {len(names)} fields, found ' || r.fields_found) AS reason "
        f"FROM records r LEFT JOIN {_CSV_RECORD_STARTS} s "
        f"ON s.file_index = r.file_index AND s.reported_line = r.reported_line"
    )


def _files_to_read_alone(con: duckdb.DuckDBPyConnection, field_count: int) -> list[int]:
    """Files of a multi-file scan that are not plainly well-formed: a line that is not `field_count`
    plain or quoted one-line fields, a rejected record, or records read + rejected other than the
    records their lines start.

    DuckDB's multi-file CSV scan can lose a malformed record that a scan of the file alone reports
    (seen with DuckDB 2.0: an unterminated quote at the end of a file), so only plainly well-formed
    files are taken from it; the others are read again alone.
    """
    field = "([^\",\r\n]*|\"([^\"]|\"\")*\")"
    record = f"{field}(,{field}){{{field_count - 1}}}"
    rows = con.execute(
        f"WITH scanned AS ("
        f"  SELECT _file_index AS file_index, count(*) AS records FROM {_CSV_RECORDS} GROUP BY ALL), "
        f"started AS (SELECT file_index, count(*) AS records FROM {_CSV_RECORD_STARTS} GROUP BY ALL) "
        f"SELECT file_index FROM scanned s FULL JOIN started USING (file_index) "
        f"WHERE coalesce(s.records, 0) <> coalesce(started.records, 0) "
        f"UNION SELECT file_id::BIGINT FROM {_CSV_ERRORS} "
        f"UNION SELECT file_index FROM {_CSV_LINES} "
        f"WHERE text IS NOT NULL AND NOT regexp_full_match(text, {literal(record)}) ORDER BY 1"
    ).fetchall()
    return [row[0] for row in rows]


def _read_physical_lines(con: duckdb.DuckDBPyConnection, files: list[LandedFile]) -> None:
    """`ingest_csv_lines(file_index, n, text)`: every physical line of the files, read only to count
    them and their quotes: as UTF-8 (all files at once), else file by file as UTF-8 or latin-1 (a file
    with invalid UTF-8). A file neither works for has no lines."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE {_CSV_LINES} (file_index BIGINT, n BIGINT, text VARCHAR)")
    if _insert_lines(con, [f.path for f in files], "utf-8", file_index=None):
        return
    for index, file in enumerate(files):
        for encoding in _LINE_COUNT_ENCODINGS:
            if _insert_lines(con, [file.path], encoding, file_index=index):
                break


def _insert_lines(con: duckdb.DuckDBPyConnection, paths: list[Path], encoding: str,
                  file_index: int | None) -> bool:
    """Append the lines of `paths` (as file `file_index` when given); False if `encoding` does not fit."""
    index_sql = "file_index" if file_index is None else str(file_index)
    try:
        con.execute(f"INSERT INTO {_CSV_LINES} SELECT {index_sql}, n, text "
                    f"FROM ({_physical_lines_sql(paths, encoding)})")
    except duckdb.InvalidInputException:
        return False
    return True


def _map_csv_records_to_lines(con: duckdb.DuckDBPyConnection) -> None:
    """`ingest_csv_record_starts(file_index, line, reported_line)`: the physical line each data record
    starts on.

    DuckDB reports rejected records by a line count in which a quoted multi-line record counts once
    (`reported_line`); a line continues a record while the quotes before it are unbalanced. A file
    without lines has no record starts: its rows fall back to "record number + 1" as their line.
    """
    con.execute(f"CREATE OR REPLACE TEMP TABLE {_CSV_RECORD_STARTS} AS {_record_starts_sql()}")


def _record_starts_sql() -> str:
    return (
        f"WITH lines AS (FROM {_CSV_LINES}), "
        "quoting AS ("
        "  SELECT file_index, n, text, coalesce(sum(length(text) - length(replace(text, '\"', ''))) OVER ("
        "    PARTITION BY file_index ORDER BY n ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) % 2 = 1"
        "    AS continues_record"
        "  FROM lines), "
        "counted AS ("
        "  SELECT file_index, n, text IS NOT NULL AND NOT continues_record AS starts_record,"
        "    sum(CASE WHEN continues_record THEN 0 ELSE 1 END) OVER (PARTITION BY file_index ORDER BY n)"
        "    AS reported_line"
        "  FROM quoting) "
        "SELECT file_index, n AS line, reported_line FROM counted WHERE starts_record "
        "QUALIFY row_number() OVER (PARTITION BY file_index ORDER BY n) > 1"  # the first record: the header
    )


# ------------------------------------------------------------------------------------------ Parquet


def _read_parquet(con: duckdb.DuckDBPyConnection, file: LandedFile) -> list[str]:
    scan = f"read_parquet({literal(str(file.path))}, file_row_number = true)"
    file_columns = [row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall()
                    if row[0] != "file_row_number"]
    names = normalise_header(file_columns)
    as_text = "".join(f", CAST({identifier(c)} AS VARCHAR) AS {identifier(n)}"
                      for c, n in zip(file_columns, names, strict=True))
    _create_source(con, f"SELECT 0::BIGINT AS _file_index, (file_row_number + 1)::BIGINT AS _line{as_text} "
                        f"FROM {scan}")
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
        f"FROM ({_physical_lines_sql([file.path], 'utf-8')}) WHERE trim(text) <> ''"
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
    _create_source(con, f"SELECT 0::BIGINT AS _file_index, _line{extracted} "
                        f"FROM {_JSON_LINES} WHERE is_object")
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {BROKEN_TABLE} AS "
        f"SELECT 0::BIGINT AS file_index, _line AS line, NULL::VARCHAR AS column_name, text AS raw_value, "
        f"'not a valid JSON object' AS reason FROM {_JSON_LINES} WHERE NOT is_object"
    )
    return list(keys_by_name)


def _json_value_sql(keys: list[str]) -> str:
    """The value of a key as text (numbers and booleans as written, null as NULL)."""
    paths = [f"json_extract_string(text, {literal('$.' + _json_path_key(key))})" for key in keys]
    return paths[0] if len(paths) == 1 else f"coalesce({', '.join(paths)})"


def _json_path_key(key: str) -> str:
    return '"' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'
