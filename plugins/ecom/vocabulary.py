"""The shop's own vocabulary: the seed that maps categorical values to the groups the model knows.

The raw contract marks the columns whose values the shop names itself (`vocabulary: <name>`) and
says, per vocabulary, what becomes of a value nobody mapped (`unmapped: keep | quarantine`).
dbt_project/seeds/shop_vocabulary.csv (vocabulary, raw_value, canonical_value) is the mapping the
shop edits: dbt loads it as a seed and staging maps every such column through it; ingestion reads
the same file to quarantine what a `quarantine` vocabulary cannot interpret. A value is mapped when
the seed lists it as a raw_value of its vocabulary, or when it already is one of that vocabulary's
canonical values; values are compared trimmed and case-insensitively, and an empty raw_value maps
the empty value. docs/vocabulary.md is the steward's guide.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import duckdb

from ecom.config import PROJECT_ROOT
from ecom.contract import Contract, load_contract
from ecom.dbt_manifest import dbt_project_dir
from ecom.sql import identifier, literal, relation_names

SEED_NAME = "shop_vocabulary"
SEED_COLUMNS = ["vocabulary", "raw_value", "canonical_value"]


class VocabularySeedError(ValueError):
    """The vocabulary seed cannot be used; the message names the file and the line."""


@dataclass(frozen=True)
class ShopVocabulary:
    path: Path
    mapped: dict[str, frozenset[str]]  # vocabulary -> keys (value_key) of the values it maps

    @property
    def seed_name(self) -> str:
        """The seed's path as the shop's repository names it (in messages)."""
        return _display(self.path)

    def maps(self, vocabulary: str, value: str) -> bool:
        return value_key(value) in self.mapped.get(vocabulary, ())

    def unmapped_sql(self, vocabulary: str, expression: str) -> str:
        """SQL condition: the VARCHAR `expression` (NULL = the empty value) is not mapped in `vocabulary`."""
        keys = sorted(self.mapped.get(vocabulary, ()))
        if not keys:
            return "true"
        return f"lower(trim(coalesce({expression}, ''))) NOT IN ({', '.join(literal(k) for k in keys)})"


@dataclass(frozen=True)
class UnmappedValue:
    table_name: str
    column_name: str
    value: str
    row_count: int


def value_key(value: str) -> str:
    """How a value is compared with the seed's values: trimmed, lower case ('' for an empty value)."""
    return value.strip().lower()


def seed_file() -> Path:
    """The vocabulary seed of the dbt project the pipeline runs (ECOM_DBT_PROJECT_DIR or dbt_project/)."""
    return dbt_project_dir() / "seeds" / f"{SEED_NAME}.csv"


def load_vocabulary(path: Path | None = None) -> ShopVocabulary:
    """The seed at `path` (default: seed_file()), checked against the contract's vocabularies."""
    path = path or seed_file()
    if not path.is_file():
        raise VocabularySeedError(f"the vocabulary seed {_display(path)} does not exist")
    stat = path.stat()
    return _read_seed(path, stat.st_mtime_ns, stat.st_size)


@cache
def _read_seed(path: Path, _mtime_ns: int, _size: int) -> ShopVocabulary:
    contract = load_contract()
    groups: dict[tuple[str, str], tuple[str, int]] = {}  # (vocabulary, key) -> (group, line)
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        header = next(reader, [])
        if header != SEED_COLUMNS:
            raise VocabularySeedError(
                f"{_display(path)} line 1: the header must be {','.join(SEED_COLUMNS)}, "
                f"not {','.join(header)}"
            )
        for line, row in enumerate(reader, start=2):
            if not any(field.strip() for field in row):
                continue
            where = f"{_display(path)} line {line}"
            if len(row) != len(SEED_COLUMNS):
                raise VocabularySeedError(f"{where}: {len(row)} fields, expected {len(SEED_COLUMNS)}")
            vocabulary, raw_value, group = (field.strip() for field in row)
            _check_row(contract, where, vocabulary, group)
            for key in {value_key(raw_value), value_key(group)}:
                earlier = groups.setdefault((vocabulary, key), (group, line))
                if earlier[0] != group:
                    raise VocabularySeedError(
                        f"{where}: {vocabulary} value '{key}' maps to '{group}', but line {earlier[1]} "
                        f"maps it to '{earlier[0]}'"
                    )
    mapped: dict[str, set[str]] = {}
    for vocabulary, key in groups:
        mapped.setdefault(vocabulary, set()).add(key)
    return ShopVocabulary(path=path, mapped={v: frozenset(keys) for v, keys in mapped.items()})


def _check_row(contract: Contract, where: str, vocabulary: str, group: str) -> None:
    declared = contract.vocabularies.get(vocabulary)
    if declared is None:
        raise VocabularySeedError(
            f"{where}: '{vocabulary}' is not a vocabulary of the raw contract "
            f"({', '.join(contract.vocabularies)})"
        )
    if not group:
        raise VocabularySeedError(f"{where}: canonical_value is empty")
    if declared.groups and group not in declared.groups:
        raise VocabularySeedError(
            f"{where}: '{group}' is not a group of {vocabulary} the model interprets "
            f"({', '.join(declared.groups)})"
        )


def unmapped_values(con: duckdb.DuckDBPyConnection, schema: str,
                    vocabulary: ShopVocabulary | None = None) -> list[UnmappedValue]:
    """Values of the contract's vocabulary columns in `schema` (raw or raw_pending) that the seed does
    not map, with their rows, by table and column: one query over every table of the schema."""
    vocabulary = vocabulary or load_vocabulary()
    present = set(relation_names(con, schema))
    selects = []
    for table in load_contract().tables.values():
        if table.name not in present:
            continue
        for column in table.columns:
            if column.vocabulary is None:
                continue
            unmapped = vocabulary.unmapped_sql(column.vocabulary.name, identifier(column.name))
            selects.append(
                f"SELECT {literal(table.name)} AS table_name, {literal(column.name)} AS column_name, "
                f"{identifier(column.name)} AS value, count(*) AS row_count "
                f"FROM {identifier(schema)}.{identifier(table.name)} "
                f"WHERE {identifier(column.name)} IS NOT NULL AND {unmapped} GROUP BY ALL"
            )
    if not selects:
        return []
    rows = con.execute(
        " UNION ALL ".join(selects) + " ORDER BY table_name, column_name, row_count DESC, value"
    ).fetchall()
    return [UnmappedValue(*row) for row in rows]


def _display(path: Path) -> str:
    try:
        return path.resolve().relative_to(PROJECT_ROOT).as_posix()
    except ValueError:
        return str(path)
