"""The raw data contract (raw_tables.yml): tables, columns, types and which columns are personal."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

CONTRACT_FILE = Path(__file__).with_name("raw_tables.yml")

# How each contract type is stored in the raw layer (DuckDB types).
STORAGE_TYPES: dict[str, str] = {
    "id": "VARCHAR",
    "text": "VARCHAR",
    "timestamp": "TIMESTAMP",
    "date": "DATE",
    "decimal": "DECIMAL(18,2)",
    "integer": "BIGINT",
    "boolean": "BOOLEAN",
}


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    nullable: bool
    description: str
    personal: bool = False
    allowed_values: tuple[str, ...] | None = None
    min: float | None = None
    max: float | None = None

    @property
    def storage_type(self) -> str:
        return STORAGE_TYPES[self.type]


@dataclass(frozen=True)
class Table:
    name: str
    required: bool
    description: str
    primary_key: tuple[str, ...]
    columns: tuple[Column, ...]

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required_columns(self) -> list[str]:
        """Columns every landed file must have: the non-nullable ones."""
        return [c.name for c in self.columns if not c.nullable]

    @property
    def personal_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.personal]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"table {self.name!r} has no column {name!r}")


@dataclass(frozen=True)
class Contract:
    tables: dict[str, Table]

    def table(self, name: str) -> Table:
        try:
            return self.tables[name]
        except KeyError:
            raise KeyError(f"the raw contract has no table {name!r}") from None

    @property
    def required_tables(self) -> list[str]:
        return [t.name for t in self.tables.values() if t.required]


def _parse_column(spec: dict) -> Column:
    if spec["type"] not in STORAGE_TYPES:
        raise ValueError(f"column {spec['name']!r}: unknown type {spec['type']!r}")
    allowed = spec.get("allowed_values")
    return Column(
        name=spec["name"],
        type=spec["type"],
        nullable=bool(spec["nullable"]),
        description=spec["description"],
        personal=bool(spec.get("personal", False)),
        allowed_values=tuple(str(v) for v in allowed) if allowed else None,
        min=spec.get("min"),
        max=spec.get("max"),
    )


def parse_contract(document: dict) -> Contract:
    tables = {}
    for name, spec in document["tables"].items():
        tables[name] = Table(
            name=name,
            required=bool(spec["required"]),
            description=spec["description"],
            primary_key=tuple(spec["primary_key"]),
            columns=tuple(_parse_column(c) for c in spec["columns"]),
        )
    return Contract(tables=tables)


@cache
def load_contract(path: Path = CONTRACT_FILE) -> Contract:
    with open(path, encoding="utf-8") as f:
        return parse_contract(yaml.safe_load(f))
