"""The raw data contract (raw_tables.yml): tables, columns, types, ranges, which columns are personal
and which are the shop's own vocabulary."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

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


# Digits kept after the decimal point by the `decimal` storage type.
DECIMAL_SCALE = 2
# What ingestion does with a decimal value that has more decimals than DECIMAL_SCALE (`excess_decimals`).
EXCESS_DECIMALS = ("reject", "round")
# The keys a column may have: anything else (a typo, a description cut by an unquoted comma) is refused.
_COLUMN_KEYS = {"name", "type", "nullable", "description", "personal", "allowed_values", "vocabulary",
                "min", "max", "excess_decimals"}
# The keys `type_defaults` may give a type.
_DEFAULT_KEYS = {"min", "max", "excess_decimals"}

Bound = int | float | Decimal | date | datetime


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    nullable: bool
    description: str
    personal: bool = False
    allowed_values: tuple[str, ...] | None = None
    vocabulary: Vocabulary | None = None
    min: Bound | None = None  # numbers for decimal/integer, dates or datetimes for date/timestamp
    max: Bound | None = None
    excess_decimals: str = EXCESS_DECIMALS[0]  # decimal columns: what a value with more decimals gets

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
    type_defaults: dict[str, dict[str, Any]] = field(default_factory=dict)  # type -> min/max/excess_decimals

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


def bound_text(bound: Bound) -> str:
    """A range bound as the contract and the reject reasons write it: 100000000, 1970-01-01."""
    return bound.isoformat() if isinstance(bound, date) else str(bound)


def _parse_bound(column: str, column_type: str, value: Any) -> Bound | None:
    """A range bound as the column's type compares it: a number, a date or a datetime."""
    if value is None:
        return None
    if column_type in ("date", "timestamp"):
        if isinstance(value, date):  # YAML reads an unquoted 1970-01-01 as a date
            return value
        if isinstance(value, str):
            return datetime.fromisoformat(value) if column_type == "timestamp" else date.fromisoformat(value)
    elif column_type in ("decimal", "integer") and type(value) in (int, float):  # a bool is no bound
        return value
    raise ValueError(f"column {column!r}: a {column_type} column cannot have the range bound {value!r}")


def _parse_column(
    spec: dict, vocabularies: dict[str, Vocabulary], type_defaults: dict[str, dict[str, Any]]
) -> Column:
    name = spec.get("name")
    unknown = sorted(str(key) for key in set(spec) - _COLUMN_KEYS)
    if unknown:
        raise ValueError(f"column {name!r}: unknown key(s) {', '.join(map(repr, unknown))} "
                         "(is a description with a comma unquoted?)")
    if spec["type"] not in STORAGE_TYPES:
        raise ValueError(f"column {name!r}: unknown type {spec['type']!r}")
    rules = {**type_defaults.get(spec["type"], {}), **spec}
    excess_decimals = rules.get("excess_decimals", EXCESS_DECIMALS[0])
    if excess_decimals not in EXCESS_DECIMALS or ("excess_decimals" in spec and spec["type"] != "decimal"):
        raise ValueError(f"column {name!r}: excess_decimals is for decimal columns, one of "
                         f"{', '.join(EXCESS_DECIMALS)}")
    allowed = spec.get("allowed_values")
    vocabulary = spec.get("vocabulary")
    if vocabulary is not None and (vocabulary not in vocabularies or spec["type"] != "text"):
        raise ValueError(f"column {name!r}: vocabulary {vocabulary!r} is not a declared "
                         f"vocabulary of a text column ({', '.join(vocabularies)})")
    return Column(
        name=name,
        type=spec["type"],
        nullable=bool(spec["nullable"]),
        description=spec["description"],
        personal=bool(spec.get("personal", False)),
        allowed_values=tuple(str(v) for v in allowed) if allowed else None,
        vocabulary=vocabularies[vocabulary] if vocabulary else None,
        min=_parse_bound(name, spec["type"], rules.get("min")),
        max=_parse_bound(name, spec["type"], rules.get("max")),
        excess_decimals=excess_decimals,
    )


def _parse_type_defaults(document: dict) -> dict[str, dict[str, Any]]:
    defaults = document.get("type_defaults") or {}
    for type_name, rules in defaults.items():
        keys = _DEFAULT_KEYS if type_name == "decimal" else _DEFAULT_KEYS - {"excess_decimals"}
        if type_name not in STORAGE_TYPES or set(rules) - keys:
            raise ValueError(f"type_defaults: {type_name!r} cannot have {rules!r} (min and max; "
                             "excess_decimals for decimal)")
    return defaults


def parse_contract(document: dict) -> Contract:
    vocabularies = {
        name: _parse_vocabulary(name, spec) for name, spec in (document.get("vocabularies") or {}).items()
    }
    type_defaults = _parse_type_defaults(document)
    tables = {}
    for name, spec in document["tables"].items():
        tables[name] = Table(
            name=name,
            required=bool(spec["required"]),
            description=spec["description"],
            primary_key=tuple(spec["primary_key"]),
            columns=tuple(_parse_column(c, vocabularies, type_defaults) for c in spec["columns"]),
        )
    return Contract(tables=tables, vocabularies=vocabularies, type_defaults=type_defaults)


@cache
def load_contract(path: Path = CONTRACT_FILE) -> Contract:
    with open(path, encoding="utf-8") as f:
        return parse_contract(yaml.safe_load(f))
