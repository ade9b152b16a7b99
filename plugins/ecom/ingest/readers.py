"""Read landed files as text into two temporary tables, whatever their format.

Files are read in groups (`reading_groups`): the CSV files that share a header (and its delimiter)
are read in one scan, any other file alone. For the group just read:
`ingest_source`: `_file_index BIGINT` (position of the row's file in the group), `_line BIGINT`
(physical line in the file, or Parquet row number, 1-based), `_nested VARCHAR[]` (the row's columns
holding a nested value: a JSON object or list, a Parquet struct, list or map) and one VARCHAR column
per file column, named by its normalised header (stripped, lower case).
`ingest_broken`: rows that could not be split into columns at all (a CSV line with too many or too
few fields, a stray quote, invalid UTF-8; a JSON line that is not an object), one row per record:
`file_index, line, column_name (NULL: raw_value is the whole record), raw_value, reason`. A CSV
record whose quote is never closed swallows the lines after it: each of them is a row of its own.
Every record of every file lands in exactly one of the two, and that is checked, not assumed: a text
file's lines as read must be its physical lines counted from its bytes (`LandedFile.physical_lines`),
and the records the CSV scan returns (loaded or rejected) must be the records a second reading
(Python's csv module, or for a file of plain one-line records its non-blank lines) finds, line for
line. A file that fails either check is read alone, then refused (`MisreadFileError`).
Both tables are replaced by the next group read and vanish with the connection.

A landed file's name is data, never a pattern, and its folders are layout, never columns: DuckDB
reads a file whose path holds a glob character (`[`, `*`, `?`...) through a link with a plain name in
a private temporary folder (it would take the path as a pattern), and never with hive partitioning
(a `dt=` folder would become a column).
"""

from __future__ import annotations

import csv
import gzip
import io
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ecom.ingest.casting import NESTED_COLUMN
from ecom.ingest.discovery import LandedFile, is_gzip
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
# Delimiters a CSV file may use, the header decides (a comma when several split it alike).
CSV_DELIMITERS = (",", ";", "\t", "|")
_DELIMITER_PATTERNS = {",": ",", ";": ";", "\t": "\\t", "|": "\\|"}
_HEADER_SAMPLE_CHARS = 1 << 16
_LINK_ENDINGS = {"csv": ".csv", "parquet": ".parquet", "jsonl": ".jsonl"}
# Glob characters, and others DuckDB's file system may give a meaning (escapes, home, braces).
_SPECIAL_PATH_CHARACTERS = "[]*?\\{}~"
_NESTED_PARQUET_TYPES = ("STRUCT", "MAP", "UNION")


class MisreadFileError(Exception):
    """A file whose rows cannot be tied to its physical lines: it is refused rather than half read."""


@dataclass(frozen=True)
class CsvLayout:
    delimiter: str
    header: list[str]
    blank_lines: int = 0  # blank lines before the header, skipped


@dataclass(frozen=True)
class GroupRead:
    columns: list[str]  # the group's (normalised) columns
    misread: list[int]  # positions of files the group's scan may have misread: read each of them alone
    nested: bool = False  # whether a value may be nested (`_nested` may be non-empty): not in a CSV file


def csv_layout(file: LandedFile) -> CsvLayout | None:
    """The file's delimiter and header: of CSV_DELIMITERS, the one splitting the first record into the
    most fields (the earliest on a tie), and the blank lines before it. None when the file has no
    header (empty or blank)."""
    opener = gzip.open if is_gzip(file.path) else open
    sample, blank_lines = "", 0
    with opener(file.path, "rb") as raw:
        try:  # up to the end of the first record: a non-blank line, its quotes paired
            for line in io.TextIOWrapper(raw, encoding="utf-8-sig", errors="replace", newline=""):
                if not sample and not line.strip():
                    blank_lines += 1
                    continue
                sample += line
                if sample.count('"') % 2 == 0 or len(sample) >= _HEADER_SAMPLE_CHARS:
                    break
        except (EOFError, OSError):  # a .gz cut short or not gzip at all: reading the file will say so
            pass
    if not sample:
        return None
    layouts = [CsvLayout(d, next(csv.reader(io.StringIO(sample, newline=""), delimiter=d)), blank_lines)
               for d in CSV_DELIMITERS]
    return max(layouts, key=lambda layout: len(layout.header))  # the first of the widest


def reading_groups(files: list[LandedFile]) -> list[list[LandedFile]]:
    """Split `files` (order kept within a group) into groups read in one scan each.

    CSV files with the same layout (delimiter, normalised header, blank lines before it) and
    compression form one group; an empty or blank CSV file, a Parquet file and a JSON-lines file are
    each a group of their own.
    """
    groups: dict[tuple[object, ...], list[LandedFile]] = {}
    for position, file in enumerate(files):
        layout = csv_layout(file) if file.file_format == "csv" and file.size_bytes else None
        key: tuple[object, ...] = ("alone", position)
        if layout is not None:
            key = ("csv", is_gzip(file.path), layout.delimiter, layout.blank_lines,
                   *normalise_header(layout.header))
        groups.setdefault(key, []).append(file)
    return list(groups.values())


def read_landed_files(con: duckdb.DuckDBPyConnection, files: list[LandedFile]) -> GroupRead:
    """Fill `ingest_source` and `ingest_broken` from one reading group.

    Raises MisreadFileError when a file read alone does not reconcile with its lines.
    """
    with _readable_paths(files) as paths:
        if files[0].file_format == "csv":
            return _read_csv(con, files, paths)
        readers: dict[str, Callable[[duckdb.DuckDBPyConnection, LandedFile, str], list[str]]] = {
            "parquet": _read_parquet,
            "jsonl": _read_json_lines,
        }
        [file], [path] = files, paths
        return GroupRead(columns=readers[file.file_format](con, file, path), misread=[], nested=True)


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


@contextmanager
def _readable_paths(files: list[LandedFile]) -> Iterator[list[str]]:
    """The paths DuckDB reads the files by: a file's own path when it holds no character DuckDB's path
    handling treats specially, else a `<n>.<format>` link to it in a private temporary folder."""
    with ExitStack() as stack:
        folder: str | None = None
        paths = []
        for index, file in enumerate(files):
            path = str(file.path)
            if any(character in path for character in _SPECIAL_PATH_CHARACTERS):
                folder = folder or stack.enter_context(tempfile.TemporaryDirectory(prefix="ecom-ingest-"))
                if any(character in folder for character in _SPECIAL_PATH_CHARACTERS):
                    raise RuntimeError(f"the temporary folder {folder} has a glob character in its path: "
                                       "set TMPDIR to a plain path")
                ending = _LINK_ENDINGS[file.file_format] + (".gz" if is_gzip(file.path) else "")
                path = str(Path(folder) / f"{index}{ending}")
                Path(path).symlink_to(file.path)
            paths.append(path)
        yield paths


def _create_source(con: duckdb.DuckDBPyConnection, select_sql: str) -> None:
    con.execute(f"CREATE OR REPLACE TEMP TABLE {SOURCE_TABLE} AS {select_sql}")


def _create_empty_broken(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"CREATE OR REPLACE TEMP TABLE {BROKEN_TABLE} ({BROKEN_COLUMNS})")


def _read_empty(con: duckdb.DuckDBPyConnection) -> list[str]:
    _create_source(con, f"SELECT NULL::BIGINT AS _file_index, NULL::BIGINT AS _line, "
                        f"NULL::VARCHAR[] AS {NESTED_COLUMN} WHERE false")
    _create_empty_broken(con)
    return []


def _path_list(paths: list[str]) -> str:
    return "[" + ", ".join(literal(path) for path in paths) + "]"


def _physical_lines_sql(paths: list[str], encoding: str) -> str:
    """Every physical line of text files (blank ones as NULL), in file order: `file_index` (position
    in `paths`), `n` (1-based line number in its file), `text`."""
    scan = (
        f"read_csv({_path_list(paths)}, columns = {{'text': 'VARCHAR'}}, header = false, "
        f"auto_detect = false, delim = chr(0), quote = '', escape = '', strict_mode = false, "
        f"hive_partitioning = false, encoding = {literal(encoding)})"
    )
    return (
        "SELECT file_index, row_number() OVER (PARTITION BY file_index ORDER BY position) AS n, text "
        f"FROM (SELECT file_index::BIGINT AS file_index, row_number() OVER () AS position, text FROM {scan})"
    )


def _lines_differ(file: LandedFile, lines_read: int) -> str | None:
    """Why the lines read are not the file's physical lines; None when they are."""
    if lines_read == file.physical_lines:
        return None
    if file.physical_lines is None:
        return "its physical lines could not be counted"
    return f"{lines_read} lines were read of its {file.physical_lines} physical lines"


# ---------------------------------------------------------------------------------------------- CSV


def _read_csv(con: duckdb.DuckDBPyConnection, files: list[LandedFile], paths: list[str]) -> GroupRead:
    """Read CSV files sharing one layout in a single scan (a lone file may be empty: no columns)."""
    layout = csv_layout(files[0]) if files[0].size_bytes else None
    if layout is None:
        return GroupRead(columns=_read_empty(con), misread=[])
    names = normalise_header(layout.header)
    positional = [f"c{i}" for i in range(1, len(names) + 1)]
    columns_struct = "{" + ", ".join(f"'{name}': 'VARCHAR'" for name in positional) + "}"
    # DuckDB appends to existing rejects tables: start them afresh for this group.
    con.execute(f"DROP TABLE IF EXISTS {_CSV_ERRORS}; DROP TABLE IF EXISTS {_CSV_SCANS}")
    # Fixed dialect (the header's delimiter, double quote): no sniffing, so a broken line can't change
    # how a file is read. `_ordinal`: the record's 1-based number in its file (file order, then record order).
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {_CSV_RECORDS} AS "
        f"SELECT _file_index, _position - min(_position) OVER (PARTITION BY _file_index) + 1 AS _ordinal, "
        f"* EXCLUDE (_file_index, _position) "
        f"FROM (SELECT file_index::BIGINT AS _file_index, row_number() OVER () AS _position, * "
        f"FROM read_csv({_path_list(paths)}, "
        f"columns = {columns_struct}, header = true, auto_detect = false, "
        f"delim = chr({ord(layout.delimiter)}), skip = {layout.blank_lines}, "
        f"quote = '\"', escape = '\"', hive_partitioning = false, store_rejects = true, "
        f"rejects_table = '{_CSV_ERRORS}', rejects_scan = '{_CSV_SCANS}'))"
    )
    _read_physical_lines(con, paths)
    misread = _reconcile(con, files, layout)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {BROKEN_TABLE} AS {_broken_records_sql(names, positional)}")
    renamed = ", ".join(f"r.{p} AS {identifier(n)}" for p, n in zip(positional, names, strict=True))
    _create_source(
        con,
        f"WITH good_starts AS ("
        f"  SELECT file_index, line, row_number() OVER (PARTITION BY file_index ORDER BY line) AS ordinal"
        f"  FROM {_CSV_RECORD_STARTS} s WHERE NOT EXISTS ("
        f"    SELECT 1 FROM {_CSV_ERRORS} e WHERE e.file_id = s.file_index AND e.line = s.reported_line)) "
        f"SELECT r._file_index, g.line::BIGINT AS _line, []::VARCHAR[] AS {NESTED_COLUMN}, {renamed} "
        f"FROM {_CSV_RECORDS} r "
        f"JOIN good_starts g ON g.file_index = r._file_index AND g.ordinal = r._ordinal",
    )
    return GroupRead(columns=names, misread=misread)


def _reconcile(con: duckdb.DuckDBPyConnection, files: list[LandedFile], layout: CsvLayout) -> list[int]:
    """Find each record's lines (`ingest_csv_record_starts`) and check them against the scan.

    Returns the files of a multi-file scan to read again alone: not plain one-line records, or not
    adding up. Raises MisreadFileError for a file read alone that does not add up.
    """
    facts = {index: (lines, plain) for index, lines, plain in con.execute(
        f"SELECT file_index, count(*), bool_and(text IS NULL OR regexp_full_match(text, "
        f"{literal(_plain_line_pattern(layout.delimiter))})) FROM {_CSV_LINES} GROUP BY ALL"
    ).fetchall()}
    alone = len(files) == 1
    misread = set()
    for index, file in enumerate(files):
        lines, plain = facts.get(index, (0, True))
        problem = _lines_differ(file, lines)
        if alone and problem:
            raise MisreadFileError(problem)
        if not alone and (problem or not plain):  # not plain: its records span lines or hold stray quotes
            misread.add(index)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {_CSV_RECORD_STARTS} "
                "(file_index BIGINT, line BIGINT, last_line BIGINT, reported_line BIGINT)")
    if alone and not facts.get(0, (0, True))[1]:
        spans = _record_spans(files[0], layout)
        con.execute(f"INSERT INTO {_CSV_RECORD_STARTS} SELECT 0, unnest(?::BIGINT[]), unnest(?::BIGINT[]), "
                    "unnest(?::BIGINT[])", [[span[part] for span in spans] for part in range(3)])
    else:
        con.execute(f"INSERT INTO {_CSV_RECORD_STARTS} {_plain_record_starts_sql(layout.blank_lines)}")
    for index, problem in _records_disagree(con):
        if alone:
            raise MisreadFileError(problem)
        misread.add(index)
    return sorted(misread)


def _plain_line_pattern(delimiter: str) -> str:
    """A line of one-line fields: plain (no quote, delimiter or line break) or quoted."""
    d = _DELIMITER_PATTERNS[delimiter]
    field = f"([^\"{d}\r\n]*|\"([^\"]|\"\")*\")"
    return f"{field}({d}{field})*"


def _plain_record_starts_sql(blank_lines: int) -> str:
    """Record lines of plain files: every non-blank line after the header is one record."""
    return f"SELECT file_index, n, n, n FROM {_CSV_LINES} WHERE text IS NOT NULL AND n > {blank_lines + 1}"


def _record_spans(file: LandedFile, layout: CsvLayout) -> list[tuple[int, int, int]]:
    """(first line, last line, reported line) of each data record of a CSV file, by Python's csv module.

    `reported line` numbers records as DuckDB's rejects do: the header, each record (however many lines
    it spans) and each blank line count one. Decoded as latin-1: one character per byte, so quotes,
    delimiters and line breaks are found whatever the encoding.
    """
    opener = gzip.open if is_gzip(file.path) else open
    limit = csv.field_size_limit(sys.maxsize)  # a quote that never closes makes one field of the rest
    try:
        with opener(file.path, "rb") as raw:
            reader = csv.reader(io.TextIOWrapper(raw, encoding="latin-1", newline=""),
                                delimiter=layout.delimiter, strict=False)
            spans, last_line = [], 0
            for reported, record in enumerate(reader, start=1):  # the blank lines, the header, the rest
                first, last_line = last_line + 1, reader.line_num
                if record and reported > layout.blank_lines + 1:
                    spans.append((first, last_line, reported))
    finally:
        csv.field_size_limit(limit)
    return spans


def _records_disagree(con: duckdb.DuckDBPyConnection) -> list[tuple[int, str]]:
    """Files whose scanned records (loaded or rejected) are not the records their lines start."""
    return con.execute(
        f"WITH scanned AS ("
        f"  SELECT _file_index AS file_index, count(*) AS records FROM {_CSV_RECORDS} GROUP BY ALL "
        f"  UNION ALL SELECT file_id, count(DISTINCT line) FROM {_CSV_ERRORS} GROUP BY ALL), "
        f"started AS (SELECT file_index, count(*) AS records FROM {_CSV_RECORD_STARTS} GROUP BY ALL), "
        f"unplaced AS (SELECT e.file_id AS file_index, min(e.line) AS line FROM {_CSV_ERRORS} e "
        f"  WHERE NOT EXISTS (SELECT 1 FROM {_CSV_RECORD_STARTS} s "
        f"    WHERE s.file_index = e.file_id AND s.reported_line = e.line) GROUP BY ALL) "
        f"SELECT file_index, 'the CSV reader returned ' || coalesce(sum(s.records), 0) "
        f"  || ' records where its lines start ' || coalesce(any_value(t.records), 0) "
        f"FROM scanned s FULL JOIN started t USING (file_index) GROUP BY ALL "
        f"HAVING coalesce(sum(s.records), 0) <> coalesce(any_value(t.records), 0) "
        f"UNION ALL SELECT file_index, 'a rejected record (line ' || line || ' as the reader counts) "
        f"starts on none of its lines' FROM unplaced ORDER BY 1"
    ).fetchall()


def _broken_records_sql(names: list[str], positional: list[str]) -> str:
    """`ingest_broken` rows for the records DuckDB rejected: one per record, however many errors it
    reported for it, except that a record whose quote never closes is one row per line it spans.

    DuckDB reports a record with too few fields once per missing field and one with too many once per
    extra field, each at a positional column (`c<k>`): they become one reason, "expected <n> fields,
    found <m>" (`column_idx` of a missing field is the number of fields found, that of an extra field
    the number read so far). Other errors (a stray quote, invalid UTF-8...) name the header column they
    were found in. `column_name` stays NULL: `raw_value` is the whole record (or line), not one column's
    value. The rejects table's file_id is the file's position in the scanned list, like file_index.
    """
    header_name = "CASE e.column_name " + " ".join(
        f"WHEN {literal(p)} THEN {literal(n)}" for p, n in zip(positional, names, strict=True)) + " END"
    quotes = "length(l.text) - length(replace(l.text, '\"', ''))"
    return (
        f"WITH records AS ("
        f"  SELECT e.file_id::BIGINT AS file_index, e.line AS reported_line, "
        f"    any_value(trim(e.csv_line, chr(10) || chr(13))) AS raw_value, "
        f"    string_agg(lower(e.error_type) || coalesce(' in ' || {header_name}, '') || ': ' "
        f"      || e.error_message, '; ' ORDER BY e.column_idx) "
        f"      FILTER (WHERE e.error_type NOT IN ('MISSING COLUMNS', 'TOO MANY COLUMNS')) AS field_errors, "
        f"    coalesce(min(e.column_idx) FILTER (WHERE e.error_type = 'MISSING COLUMNS'), "
        f"      max(e.column_idx) FILTER (WHERE e.error_type = 'TOO MANY COLUMNS')) AS fields_found "
        f"  FROM {_CSV_ERRORS} e GROUP BY ALL), "
        f"broken AS ("
        f"  SELECT r.file_index, s.line, s.last_line, r.raw_value, "
        f"    'malformed CSV line: ' || concat_ws('; ', r.field_errors, "
        f"    'expected {len(names)} fields, found ' || r.fields_found) AS reason "
        f"  FROM records r JOIN {_CSV_RECORD_STARTS} s "
        f"  ON s.file_index = r.file_index AND s.reported_line = r.reported_line), "
        f"unclosed AS ("  # its quotes do not pair up: the record ran on to the end of the file
        f"  SELECT b.file_index, b.line FROM broken b JOIN {_CSV_LINES} l "
        f"  ON l.file_index = b.file_index AND l.n BETWEEN b.line AND b.last_line "
        f"  WHERE b.last_line > b.line GROUP BY ALL HAVING sum(coalesce({quotes}, 0)) % 2 = 1) "
        f"SELECT file_index, line::BIGINT AS line, NULL::VARCHAR AS column_name, raw_value, reason "
        f"FROM broken b WHERE NOT EXISTS ("
        f"  SELECT 1 FROM unclosed u WHERE u.file_index = b.file_index AND u.line = b.line) "
        f"UNION ALL "
        f"SELECT b.file_index, l.n, NULL, l.text, CASE WHEN l.n = b.line THEN b.reason "
        f"  ELSE 'malformed CSV line: inside the quoted field opened on line ' || b.line "
        f"  || ', which is never closed' END "
        f"FROM broken b JOIN unclosed u USING (file_index, line) JOIN {_CSV_LINES} l "
        f"ON l.file_index = b.file_index AND l.n BETWEEN b.line AND b.last_line WHERE l.text IS NOT NULL"
    )


def _read_physical_lines(con: duckdb.DuckDBPyConnection, paths: list[str]) -> None:
    """`ingest_csv_lines(file_index, n, text)`: every physical line of the files, read to count them,
    find their quotes and keep a swallowed line's text: as UTF-8 (all files at once), else file by file
    as UTF-8 or latin-1 (a file with invalid UTF-8). A file neither works for has no lines."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE {_CSV_LINES} (file_index BIGINT, n BIGINT, text VARCHAR)")
    if _insert_lines(con, paths, "utf-8", file_index=None):
        return
    for index, path in enumerate(paths):
        for encoding in _LINE_COUNT_ENCODINGS:
            if _insert_lines(con, [path], encoding, file_index=index):
                break


def _insert_lines(con: duckdb.DuckDBPyConnection, paths: list[str], encoding: str,
                  file_index: int | None) -> bool:
    """Append the lines of `paths` (as file `file_index` when given); False if `encoding` does not fit."""
    index_sql = "file_index" if file_index is None else str(file_index)
    try:
        con.execute(f"INSERT INTO {_CSV_LINES} SELECT {index_sql}, n, text "
                    f"FROM ({_physical_lines_sql(paths, encoding)})")
    except duckdb.InvalidInputException:
        return False
    return True


# ------------------------------------------------------------------------------------------ Parquet


def _read_parquet(con: duckdb.DuckDBPyConnection, file: LandedFile, path: str) -> list[str]:
    scan = f"read_parquet({literal(path)}, file_row_number = true, hive_partitioning = false)"
    described = [(row[0], row[1]) for row in con.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall()
                 if row[0] != "file_row_number"]
    file_columns = [name for name, _ in described]
    names = normalise_header(file_columns)
    as_text = "".join(f", CAST({identifier(c)} AS VARCHAR) AS {identifier(n)}"
                      for c, n in zip(file_columns, names, strict=True))
    nested = [f"CASE WHEN {identifier(c)} IS NOT NULL THEN {literal(n)} END"
              for (c, sql_type), n in zip(described, names, strict=True) if _is_nested_type(sql_type)]
    _create_source(con, f"SELECT 0::BIGINT AS _file_index, (file_row_number + 1)::BIGINT AS _line, "
                        f"{_present_names_sql(nested)} AS {NESTED_COLUMN}{as_text} FROM {scan}")
    _create_empty_broken(con)
    return names


def _is_nested_type(sql_type: str) -> bool:
    return sql_type.startswith(_NESTED_PARQUET_TYPES) or sql_type.endswith("]")


def _present_names_sql(cases: list[str]) -> str:
    """A VARCHAR[] of the names the CASE expressions give (NULL ones left out)."""
    if not cases:
        return "[]::VARCHAR[]"
    return f"list_filter([{', '.join(cases)}], lambda name: name IS NOT NULL)"


# -------------------------------------------------------------------------------------- JSON lines


def _read_json_lines(con: duckdb.DuckDBPyConnection, file: LandedFile, path: str) -> list[str]:
    if not file.size_bytes:
        return _read_empty(con)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {_JSON_LINES} AS "
        f"SELECT n AS _line, text, coalesce(trim(text) = '', true) AS blank, "
        f"coalesce(CASE WHEN json_valid(text) THEN json_type(text) = 'OBJECT' END, false) AS is_object "
        f"FROM ({_physical_lines_sql([path], 'utf-8')})"
    )
    [(lines_read,)] = con.execute(f"SELECT count(*) FROM {_JSON_LINES}").fetchall()
    if (problem := _lines_differ(file, lines_read)) is not None:
        raise MisreadFileError(problem)
    keys = [row[0] for row in con.execute(  # in the order they first appear
        f"SELECT key FROM (SELECT _line, unnest(json_keys(text)) AS key, "
        f"generate_subscripts(json_keys(text), 1) AS position FROM {_JSON_LINES} WHERE is_object) "
        f"GROUP BY key ORDER BY min({{'line': _line, 'position': position}})"
    ).fetchall()]
    keys_by_name: dict[str, list[str]] = {}  # keys differing only in case or spaces are one column
    for key in keys:
        keys_by_name.setdefault(key.strip().lower() or "column_blank", []).append(key)
    extracted = "".join(
        f", {_json_value_sql(same_keys)} AS {identifier(name)}" for name, same_keys in keys_by_name.items()
    )
    nested = [f"CASE WHEN json_type(text, {literal(_json_path(key))}) IN ('OBJECT', 'ARRAY') "
              f"THEN {literal(name)} END" for name, same_keys in keys_by_name.items() for key in same_keys]
    _create_source(con, f"SELECT 0::BIGINT AS _file_index, _line, {_present_names_sql(nested)} "
                        f"AS {NESTED_COLUMN}{extracted} FROM {_JSON_LINES} WHERE is_object")
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {BROKEN_TABLE} AS "
        f"SELECT 0::BIGINT AS file_index, _line AS line, NULL::VARCHAR AS column_name, text AS raw_value, "
        f"'not a valid JSON object' AS reason FROM {_JSON_LINES} WHERE NOT is_object AND NOT blank"
    )
    return list(keys_by_name)


def _json_value_sql(keys: list[str]) -> str:
    """The value of a key as text (numbers and booleans as written, null as NULL)."""
    paths = [f"json_extract_string(text, {literal(_json_path(key))})" for key in keys]
    return paths[0] if len(paths) == 1 else f"coalesce({', '.join(paths)})"


def _json_path(key: str) -> str:
    return '$."' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'
