"""Vectorised rendering of generated values as the text a shop export holds (Arrow string columns)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

NULL_TEXT = pa.scalar(None, type=pa.string())


def with_missing(column: pa.Array, missing: np.ndarray | None) -> pa.Array:
    """`column` with the rows where `missing` is true emptied (null)."""
    if missing is None or not np.any(missing):
        return column
    return pc.if_else(pa.array(np.asarray(missing, dtype=bool)), NULL_TEXT, column)


def text(values: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    """A string column from numpy strings."""
    return with_missing(pa.array(np.asarray(values, dtype=str), type=pa.string()), missing)


def _digits(numbers: np.ndarray) -> pa.Array:
    return pa.array(np.asarray(numbers, dtype=np.int64)).cast(pa.string())


def identifiers(prefix: str, numbers: np.ndarray, width: int, missing: np.ndarray | None = None) -> pa.Array:
    """Zero-padded text identifiers, e.g. identifiers('O', [42], 9) -> 'O000000042'."""
    padded = pc.utf8_lpad(_digits(numbers), width=width, padding="0")
    return with_missing(pc.binary_join_element_wise(prefix, padded, "") if prefix else padded, missing)


def pick(choices: tuple[str, ...], codes: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    """Category labels from integer codes into `choices` (codes of missing rows are ignored)."""
    codes = np.asarray(codes, dtype=np.int64)
    safe = codes if missing is None else np.where(missing, 0, codes)
    return with_missing(pc.take(pa.array(choices, type=pa.string()), pa.array(safe)), missing)


def money(cents: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    """Amounts in cents rendered with a '.' decimal point and two decimals: 12345 -> '123.45'."""
    cents = np.asarray(cents, dtype=np.int64)
    if (cents < 0).any():
        raise ValueError("generated a negative amount")
    fraction = pc.utf8_lpad(_digits(cents % 100), width=2, padding="0")
    return with_missing(pc.binary_join_element_wise(_digits(cents // 100), fraction, "."), missing)


def integers(values: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    return with_missing(_digits(values), missing)


def timestamps(day: date, seconds: np.ndarray) -> pa.Array:
    """Naive local timestamps 'YYYY-MM-DD HH:MM:SS' for seconds counted from midnight of `day`."""
    instants = np.datetime64(day, "s") + np.asarray(seconds, dtype=np.int64).astype("timedelta64[s]")
    return pa.array(instants).cast(pa.string())


def dates(values: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    """ISO dates from numpy datetime64[D] values."""
    return with_missing(pa.array(np.asarray(values, dtype="datetime64[D]")).cast(pa.string()), missing)
