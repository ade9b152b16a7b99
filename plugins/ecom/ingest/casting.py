"""Type the text of a group of files into the contract's storage types, in one SQL statement.

Each contract column becomes its typed value; every value that cannot be typed, every empty value
of a required column the file has, and every value outside the contract's allowed values or range
(`allowed_values`, `min`, `max`) becomes one entry of the row's `_problems` list
(column_name, raw_value, reason). A row with no problems is loaded, any other row is rejected.
Requires the session time zone to be the business time zone (naive timestamps are local time).
"""

from __future__ import annotations

from ecom.contract import Column, Table
from ecom.sql import identifier, literal

TYPED_TABLE = "ingest_typed"
PROBLEM_TYPE = "STRUCT(column_name VARCHAR, raw_value VARCHAR, reason VARCHAR)"
_WHITESPACE = "' ' || chr(9) || chr(10) || chr(13)"
_ISO_DATE = "\\d{4}-\\d{2}-\\d{2}"


def typed_value_sql(column: Column, text: str) -> str:
    """SQL typing `text` (trimmed, never '') as `column`: NULL when it is not a valid value of the type."""
    target = column.storage_type
    if column.type in ("id", "text"):
        return text
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


def typed_rows_sql(table: Table, columns_present: list[str], source: str) -> str:
    """SELECT `_file_index`, `_line`, every contract column typed (NULL when the file lacks it) and
    `_problems`."""
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
    problems = [sql for sql in (_problem_sql(c) for c in present) if sql]
    problem_list = f"list_filter([{', '.join(problems)}], lambda p: p IS NOT NULL)" if problems else "[]"
    return (
        f"SELECT _file_index, _line, {output}, CAST({problem_list} AS {PROBLEM_TYPE}[]) AS _problems "
        f"FROM (SELECT *{typed} FROM (SELECT _file_index, _line{as_text} FROM {source}))"
    )


def _raw(column: Column) -> str:
    return identifier(column.name + "__raw")


def _text(column: Column) -> str:
    return identifier(column.name + "__text")


def _typed(column: Column) -> str:
    return identifier(column.name + "__typed")


# What the reason of a rejected value says, after (or, for `untypable`, before) the value quoted.
REQUIRED_EMPTY = "required value is empty"


def untypable(column: Column) -> str:
    return f"not a valid {column.type}: "


def not_allowed(column: Column) -> str:
    return f" is not an allowed value ({', '.join(column.allowed_values or ())})"


def below_minimum(column: Column) -> str:
    return f" is below the minimum {column.min:g}"


def above_maximum(column: Column) -> str:
    return f" is above the maximum {column.max:g}"


def _problem_sql(column: Column) -> str | None:
    """A CASE giving the column's problem struct for a row (NULL if none); None when it can have none."""

    def problem(reason_sql: str) -> str:
        name = literal(column.name)
        return f"{{'column_name': {name}, 'raw_value': {_raw(column)}, 'reason': {reason_sql}}}"

    text, typed = _text(column), _typed(column)
    branches = []
    if column.type not in ("id", "text"):
        reason = f"{literal(untypable(column))} || chr(39) || {text} || chr(39)"
        branches.append(f"WHEN {text} IS NOT NULL AND {typed} IS NULL THEN {problem(reason)}")
    if not column.nullable:
        branches.append(f"WHEN {text} IS NULL THEN {problem(literal(REQUIRED_EMPTY))}")
    if column.allowed_values:
        allowed = ", ".join(literal(value) for value in column.allowed_values)
        reason = f"chr(39) || {typed} || chr(39) || {literal(not_allowed(column))}"
        branches.append(f"WHEN {typed} NOT IN ({allowed}) THEN {problem(reason)}")
    if column.min is not None:
        reason = f"{typed}::VARCHAR || {literal(below_minimum(column))}"
        branches.append(f"WHEN {typed} < {column.min} THEN {problem(reason)}")
    if column.max is not None:
        reason = f"{typed}::VARCHAR || {literal(above_maximum(column))}"
        branches.append(f"WHEN {typed} > {column.max} THEN {problem(reason)}")
    return f"CASE {' '.join(branches)} END" if branches else None
