"""The raw data contract (raw_tables.yml): tables, columns, types, which columns are personal and which
are the shop's own vocabulary."""

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
# What becomes of a value a vocabulary's seed rows do not map (raw_tables.yml, `vocabularies`).
KEEP, QUARANTINE = "keep", "quarantine"


@dataclass(frozen=True)
class Vocabulary:
    """Categorical values the shop names itself; dbt_project/seeds/shop_vocabulary.csv maps them to
    canonical groups (ecom.vocabulary)."""

    name: str
    unmapped: str  # KEEP or QUARANTINE
    description: str
    groups: tuple[str, ...] | None = None  # QUARANTINE: the canonical groups the model interprets

    @property
    def quarantines_unmapped(self) -> bool:
        return self.unmapped == QUARANTINE


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    nullable: bool
    description: str
    personal: bool = False
    allowed_values: tuple[str, ...] | None = None
    vocabulary: Vocabulary | None = None
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

    @property
    def vocabulary_columns(self) -> list[Column]:
        return [c for c in self.columns if c.vocabulary]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"table {self.name!r} has no column {name!r}")


@dataclass(frozen=True)
class Contract:
    tables: dict[str, Table]
    vocabularies: dict[str, Vocabulary]

    def table(self, name: str) -> Table:
        try:
            return self.tables[name]
        except KeyError:
            raise KeyError(f"the raw contract has no table {name!r}") from None

    @property
    def required_tables(self) -> list[str]:
        return [t.name for t in self.tables.values() if t.required]


def _parse_vocabulary(name: str, spec: dict) -> Vocabulary:
    if spec["unmapped"] not in (KEEP, QUARANTINE):
        raise ValueError(
            f"vocabulary {name!r}: unmapped must be {KEEP} or {QUARANTINE}, not {spec['unmapped']!r}"
        )
    groups = spec.get("groups")
    if (spec["unmapped"] == QUARANTINE) != bool(groups):
        raise ValueError(f"vocabulary {name!r}: groups are listed exactly when unmapped is {QUARANTINE}")
    return Vocabulary(name=name, unmapped=spec["unmapped"], description=spec["description"],
                      groups=tuple(str(g) for g in groups) if groups else None)


_COLUMN_KEYS = {
    "name", "type", "nullable", "description", "personal", "allowed_values", "vocabulary", "min", "max",
}


def _parse_column(spec: dict, vocabularies: dict[str, Vocabulary]) -> Column:
    # an unquoted comma in a flow mapping's description silently makes a key of the rest
    unknown = sorted(set(spec) - _COLUMN_KEYS)
    if unknown:
        raise ValueError(
            f"column {spec['name']!r}: unknown keys {unknown} (quote a description holding a comma)"
        )
    if spec["type"] not in STORAGE_TYPES:
        raise ValueError(f"column {spec['name']!r}: unknown type {spec['type']!r}")
    allowed = spec.get("allowed_values")
    vocabulary = spec.get("vocabulary")
    if vocabulary is not None and (vocabulary not in vocabularies or spec["type"] != "text"):
        raise ValueError(f"column {spec['name']!r}: vocabulary {vocabulary!r} is not a declared "
                         f"vocabulary of a text column ({', '.join(vocabularies)})")
    return Column(
        name=spec["name"],
        type=spec["type"],
        nullable=bool(spec["nullable"]),
        description=spec["description"],
        personal=bool(spec.get("personal", False)),
        allowed_values=tuple(str(v) for v in allowed) if allowed else None,
        vocabulary=vocabularies[vocabulary] if vocabulary else None,
        min=spec.get("min"),
        max=spec.get("max"),
    )


def parse_contract(document: dict) -> Contract:
    vocabularies = {
        name: _parse_vocabulary(name, spec) for name, spec in (document.get("vocabularies") or {}).items()
    }
    tables = {}
    for name, spec in document["tables"].items():
        tables[name] = Table(
            name=name,
            required=bool(spec["required"]),
            description=spec["description"],
            primary_key=tuple(spec["primary_key"]),
            columns=tuple(_parse_column(c, vocabularies) for c in spec["columns"]),
        )
    return Contract(tables=tables, vocabularies=vocabularies)


@cache
def load_contract(path: Path = CONTRACT_FILE) -> Contract:
    with open(path, encoding="utf-8") as f:
        return parse_contract(yaml.safe_load(f))
