"""Type the text of a group of files into the contract's storage types, in one SQL statement.

Each contract column becomes its typed value; every value that is nested (a JSON object or list, a
Parquet struct), cannot be typed, looks personal in a column that is not (`ecom.redaction`), is
empty in a required column the file has, has more decimals than the storage type keeps (when the
contract says `excess_decimals: reject`), lies outside the contract's allowed values or range
(`allowed_values`, `min`, `max`), or belongs to a `quarantine` vocabulary whose seed does not map it
(ecom.vocabulary) becomes one entry of the row's `_problems` list (column_name, raw_value, reason).
A row with no problems is loaded, any other row is rejected.
Reasons never quote the value: it is in raw_value, where it can be masked.
`_rounded` counts the row's values rounded to the storage scale (`excess_decimals: round`).
Requires the session time zone to be the business time zone (naive timestamps are local time).
"""

from __future__ import annotations

from datetime import date, datetime

from ecom.contract import DECIMAL_SCALE, Bound, Column, Table, bound_text
from ecom.redaction import looks_personal_sql
from ecom.sql import identifier, literal
from ecom.vocabulary import ShopVocabulary, load_vocabulary

TYPED_TABLE = "ingest_typed"
PROBLEM_TYPE = "STRUCT(column_name VARCHAR, raw_value VARCHAR, reason VARCHAR)"
NESTED_COLUMN = "_nested"  # in every source table: the names of the row's columns holding a nested value
_WHITESPACE = "' ' || chr(9) || chr(10) || chr(13)"
_ISO_DATE = "\\d{4}-\\d{2}-\\d{2}"
_CONTROL_CHARACTER = "[[:cntrl:]]"
# A decimal text whose digits beyond the storage scale are not all zeros.
_EXCESS_DECIMALS = f"\\.\\d{{{DECIMAL_SCALE}}}\\d*[1-9]"
_INVALID_REASONS = {
    "id": "not a valid id: it holds a line break or another control character",
    "timestamp": "not a valid timestamp (ISO 8601 expected)",
    "date": "not a valid date (YYYY-MM-DD expected)",
    "decimal": "not a valid decimal (digits with a '.' decimal point expected)",
    "integer": "not a valid integer",
    "boolean": "not a valid boolean (true/false, 1/0 or yes/no expected)",
}
NESTED_REASON = "is a nested value (an object or a list), not a single value"
# Personal data lands in personal columns only: in another column (a shifted export) it would reach a mart.
PERSONAL_REASON = ("looks like personal data (an e-mail address, a phone or ID-card number) in a column "
                   "that is not personal")


def typed_value_sql(column: Column, text: str) -> str:
    """SQL typing `text` (trimmed, never '') as `column`: NULL when it is not a valid value of the type."""
    target = column.storage_type
    if column.type == "text":
        return text
    if column.type == "id":
        return f"CASE WHEN NOT regexp_matches({text}, '{_CONTROL_CHARACTER}') THEN {text} END"
    if column.type == "timestamp":
        # ISO 8601 only; an offset or Z is honoured, a naive value is session (business) local time.
        return (f"CASE WHEN regexp_matches({text}, '^{_ISO_DATE}') "
                f"THEN timezone('UTC', TRY_CAST({text} AS TIMESTAMPTZ)) END")
    if column.type == "date":
        return f"CASE WHEN regexp_full_match({text}, '{_ISO_DATE}') THEN TRY_CAST({text} AS {target}) END"
    if column.type == "decimal":
        return (f"CASE WHEN regexp_full_match({text}, '[+-]?(\\d+(\\.\\d*)?|\\.\\d+)') "
                f"THEN TRY_CAST({text} AS {target}) END")
    if column.type == "integer":
        return f"CASE WHEN regexp_full_match({text}, '[+-]?\\d+') THEN TRY_CAST({text} AS {target}) END"
    if column.type == "boolean":
        return (f"CASE WHEN lower({text}) IN ('true', '1', 'yes') THEN true "
                f"WHEN lower({text}) IN ('false', '0', 'no') THEN false END")
    raise ValueError(f"column {column.name!r}: no typing rule for type {column.type!r}")


def typed_rows_sql(table: Table, columns_present: list[str], source: str, nested: bool) -> str:
    """SELECT `_file_index`, `_line`, every contract column typed (NULL when the file lacks it),
    `_problems` and `_rounded`. `nested`: whether the source's `_nested` lists may hold names."""
    present = [c for c in table.columns if c.name in columns_present]
    as_text = "".join(
        f", {identifier(c.name)} AS {_raw(c)}, "
        f"NULLIF(trim({identifier(c.name)}, {_WHITESPACE}), '') AS {_text(c)}"
        for c in present
    )
    typed = "".join(f", {typed_value_sql(c, _text(c))}::{c.storage_type} AS {_typed(c)}" for c in present)
    output = ", ".join(
        f"{_typed(c) if c in present else f'NULL::{c.storage_type}'} AS {identifier(c.name)}"
        for c in table.columns
    )
    problems = [sql for sql in (_problem_sql(c, nested) for c in present) if sql]
    interpreted = [c for c in table.columns if c.vocabulary and c.vocabulary.quarantines_unmapped]
    if interpreted:
        vocabulary = load_vocabulary()
        problems += [sql for sql in (_unmapped_problem_sql(table, c, c in present, vocabulary)
                                     for c in interpreted) if sql]
    problem_list = f"list_filter([{', '.join(problems)}], lambda p: p IS NOT NULL)" if problems else "[]"
    rounded = [f"({_has_excess_decimals(c)} AND {_typed(c)} IS NOT NULL)::INTEGER"
               for c in present if c.type == "decimal" and c.excess_decimals == "round"]
    return (
        f"SELECT _file_index, _line, {output}, CAST({problem_list} AS {PROBLEM_TYPE}[]) AS _problems, "
        f"coalesce({' + '.join(rounded) or '0'}, 0)::INTEGER AS _rounded "
        f"FROM (SELECT *{typed} FROM (SELECT _file_index, _line{f', {NESTED_COLUMN}' if nested else ''}"
        f"{as_text} FROM {source}))"
    )


def _raw(column: Column) -> str:
    return identifier(column.name + "__raw")


def _text(column: Column) -> str:
    return identifier(column.name + "__text")


def _typed(column: Column) -> str:
    return identifier(column.name + "__typed")


def _has_excess_decimals(column: Column) -> str:
    return f"regexp_matches({_text(column)}, '{_EXCESS_DECIMALS}')"


def bound_sql(column: Column, bound: Bound) -> str:
    """A range bound as a SQL literal of the column's type."""
    if isinstance(bound, datetime | date):
        kind = "TIMESTAMP" if column.type == "timestamp" else "DATE"
        return f"{kind} {literal(bound.isoformat())}"
    return str(bound)


def _problem_sql(column: Column, nested: bool) -> str | None:
    """A CASE giving the column's problem struct for a row (NULL if none); None when it can have none."""

    def problem(reason: str) -> str:
        return _problem_struct(column, _raw(column), literal(reason))

    text, typed = _text(column), _typed(column)
    branches = []
    if nested:
        branches.append(f"WHEN list_contains({NESTED_COLUMN}, {literal(column.name)}) "
                        f"THEN {problem(NESTED_REASON)}")
    if column.type != "text":
        branches.append(f"WHEN {text} IS NOT NULL AND {typed} IS NULL "
                        f"THEN {problem(_INVALID_REASONS[column.type])}")
    if column.type in ("id", "text") and not column.personal:
        branches.append(f"WHEN {looks_personal_sql(text)} THEN {problem(PERSONAL_REASON)}")
    if not column.nullable:
        branches.append(f"WHEN {text} IS NULL THEN {problem('required value is empty')}")
    if column.type == "decimal" and column.excess_decimals == "reject":
        branches.append(f"WHEN {_has_excess_decimals(column)} "
                        f"THEN {problem(f'has more than {DECIMAL_SCALE} decimals')}")
    if column.allowed_values:
        allowed = ", ".join(literal(value) for value in column.allowed_values)
        reason = f"is not an allowed value ({', '.join(column.allowed_values)})"
        branches.append(f"WHEN {typed} NOT IN ({allowed}) THEN {problem(reason)}")
    if column.min is not None:
        reason = f"is below the minimum {bound_text(column.min)}"
        branches.append(f"WHEN {typed} < {bound_sql(column, column.min)} THEN {problem(reason)}")
    if column.max is not None:
        reason = f"is above the maximum {bound_text(column.max)}"
        branches.append(f"WHEN {typed} > {bound_sql(column, column.max)} THEN {problem(reason)}")
    return f"CASE {' '.join(branches)} END" if branches else None


def _unmapped_problem_sql(
    table: Table, column: Column, present: bool, vocabulary: ShopVocabulary
) -> str | None:
    """The problem of a value of a `quarantine` vocabulary column that the seed does not map; None when
    there can be none. A file without the column holds its empty value. The reason names the seed, not
    the value (audit.rejects.raw_value holds that)."""
    declared = column.vocabulary
    if declared is None or (not column.nullable and not present):
        return None  # a file lacking a required column fails the raw gate's schema check
    groups = ", ".join(declared.groups or ())
    reason = literal(f"{table.name}.{column.name} value not mapped in {vocabulary.seed_name} "
                     f"(vocabulary {declared.name}): map it there to one of {groups}")
    if not present:
        empty_mapped = vocabulary.maps(declared.name, "")
        return None if empty_mapped else _problem_struct(column, "NULL::VARCHAR", reason)
    unmapped = vocabulary.unmapped_sql(declared.name, _text(column))
    if not column.nullable:  # an empty value is already the required-value problem
        unmapped = f"{_text(column)} IS NOT NULL AND {unmapped}"
    return f"CASE WHEN {unmapped} THEN {_problem_struct(column, _raw(column), reason)} END"


def _problem_struct(column: Column, raw_value_sql: str, reason_sql: str) -> str:
    return f"{{'column_name': {literal(column.name)}, 'raw_value': {raw_value_sql}, 'reason': {reason_sql}}}"
