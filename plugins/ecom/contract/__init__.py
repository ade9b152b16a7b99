"""The raw data contract (raw_tables.yml): tables, columns, types, which columns are personal, and the
rules the raw quality gate checks on pending rows (each column's own, key uniqueness, row rules).

Unknown entries are refused, naming the table and the column: a typo never silently drops a rule.
"""

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
SEVERITIES = ("error", "warning")
_COLUMN_ENTRIES = {"name", "type", "nullable", "description", "personal", "allowed_values", "min", "max"}
_TABLE_ENTRIES = {"required", "description", "primary_key", "columns", "row_rules"}
_ROW_RULE_ENTRIES = {"column", "when", "severity", "description"}


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
class Condition:
    """A condition on one column of a row: it equals `equals`, or (is_null) it has no value."""

    column: str
    equals: str | None = None
    is_null: bool = False

    def describe(self) -> str:
        return f"{self.column} is empty" if self.is_null else f"{self.column} = {self.equals!r}"


@dataclass(frozen=True)
class RowRule:
    """`column` must have a value in the rows where `when` holds."""

    column: str
    when: Condition
    severity: str
    description: str


@dataclass(frozen=True)
class KeyRule:
    """How the gate judges a primary key that occurs more than once among the pending rows."""

    severity: str
    description: str


@dataclass(frozen=True)
class Table:
    name: str
    required: bool
    description: str
    primary_key: tuple[str, ...]
    columns: tuple[Column, ...]
    row_rules: tuple[RowRule, ...] = ()

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
    key_uniqueness: KeyRule

    def table(self, name: str) -> Table:
        try:
            return self.tables[name]
        except KeyError:
            raise KeyError(f"the raw contract has no table {name!r}") from None

    @property
    def required_tables(self) -> list[str]:
        return [t.name for t in self.tables.values() if t.required]


def _checked(spec: dict, known: set[str], where: str) -> dict:
    unknown = sorted(set(spec) - known)
    if unknown:
        raise ValueError(f"{where}: unknown entries {unknown}")
    return spec


def _severity(value: object, where: str) -> str:
    if value not in SEVERITIES:
        raise ValueError(f"{where}: severity {value!r} is not one of error, warning")
    return str(value)


def _parse_column(spec: dict, table: str) -> Column:
    _checked(spec, _COLUMN_ENTRIES, f"table {table!r}, column {spec.get('name')!r}")
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


def _parse_row_rule(spec: dict, table: str, columns: set[str]) -> RowRule:
    where = f"table {table!r}, row rule on {spec.get('column')!r}"
    _checked(spec, _ROW_RULE_ENTRIES, where)
    when = _checked(dict(spec["when"]), {"column", "equals", "is_null"}, f"{where}, when")
    if ("equals" in when) == bool(when.get("is_null")):
        raise ValueError(f"{where}: `when` needs exactly one of equals, is_null: true")
    for name in (spec["column"], when["column"]):
        if name not in columns:
            raise ValueError(f"{where}: no column {name!r}")
    equals = when.get("equals")
    return RowRule(
        column=spec["column"],
        when=Condition(when["column"], None if equals is None else str(equals), bool(when.get("is_null"))),
        severity=_severity(spec["severity"], where),
        description=spec["description"],
    )


def _parse_table(name: str, spec: dict) -> Table:
    _checked(spec, _TABLE_ENTRIES, f"table {name!r}")
    columns = tuple(_parse_column(c, name) for c in spec["columns"])
    names = {c.name for c in columns}
    return Table(
        name=name,
        required=bool(spec["required"]),
        description=spec["description"],
        primary_key=tuple(spec["primary_key"]),
        columns=columns,
        row_rules=tuple(_parse_row_rule(r, name, names) for r in spec.get("row_rules") or ()),
    )


def parse_contract(document: dict) -> Contract:
    key = _checked(dict(document["key_uniqueness"]), {"severity", "description"}, "key_uniqueness")
    return Contract(
        tables={name: _parse_table(name, spec) for name, spec in document["tables"].items()},
        key_uniqueness=KeyRule(_severity(key["severity"], "key_uniqueness"), key["description"]),
    )


@cache
def load_contract(path: Path = CONTRACT_FILE) -> Contract:
    with open(path, encoding="utf-8") as f:
        return parse_contract(yaml.safe_load(f))
