"""The steward's data-quality settings: expectations/quality.yml, or the file ECOM_QUALITY_CONFIG names.

See docs/data_quality.md for what each setting does. Unknown or missing entries are refused with the
file and the entry named, so a typo never silently disables a check.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import yaml

from ecom.config import EXPECTATIONS_DIR
from ecom.quality.results import ERROR, WARNING

QUALITY_CONFIG_FILE = EXPECTATIONS_DIR / "quality.yml"
CONFIG_ENV = "ECOM_QUALITY_CONFIG"
SEVERITIES = (ERROR, WARNING)
SECTIONS = ("quarantine_rules", "quarantine_share", "files", "event_time", "volume", "freshness", "null_rate",
            "distribution", "mart_drift", "vocabulary")


class QualityConfigError(ValueError):
    """quality.yml cannot be used as it is; the message names the file and the entry."""


@dataclass(frozen=True)
class QuarantineRules:
    future_timestamps: bool
    exact_duplicates: bool
    conflicting_keys: bool
    unknown_customers: bool
    order_totals: bool
    order_total_tolerance: float


@dataclass(frozen=True)
class QualityConfig:
    rules: QuarantineRules
    quarantine_severity: str
    max_quarantine_share: float
    max_quarantine_share_by_table: dict[str, float]
    no_rows_severity: str
    schema_change_severity: str
    late_rows_severity: str
    max_days_late: int
    event_time: dict[str, str]
    volume: dict[str, Any]
    freshness_severity: str
    freshness_max_days: dict[str, int]
    null_rate: dict[str, Any]
    distribution: dict[str, Any]
    mart_drift: dict[str, Any]
    unmapped_values_severity: str

    def max_share(self, table: str) -> float:
        return self.max_quarantine_share_by_table.get(table, self.max_quarantine_share)


def config_path() -> Path:
    override = os.environ.get(CONFIG_ENV, "").strip()
    return Path(override) if override else QUALITY_CONFIG_FILE


def load_quality_config(path: Path | None = None) -> QualityConfig:
    path = path or config_path()
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise QualityConfigError(f"quality settings {path} do not exist ({CONFIG_ENV})") from None
    entry = _Entries(path, document)
    entry.checked(*SECTIONS)
    rule_names = [f.name for f in fields(QuarantineRules)]
    rules = entry.section("quarantine_rules").checked(*rule_names)
    files = entry.section("files")
    files.checked("no_rows", "schema_change", "late_rows")
    late = files.section("late_rows")
    late.checked("severity", "max_days_late")
    quarantine = entry.section("quarantine_share")
    quarantine.checked("severity", "max_share", "tables")
    freshness = entry.section("freshness")
    freshness.checked("severity", "max_days")
    vocabulary = entry.section("vocabulary")
    vocabulary.checked("unmapped_values")
    return QualityConfig(
        rules=QuarantineRules(
            **{name: bool(rules[name]) for name in rule_names if name != "order_total_tolerance"},
            order_total_tolerance=float(rules["order_total_tolerance"]),
        ),
        quarantine_severity=quarantine.severity(),
        max_quarantine_share=float(quarantine.get("max_share")),
        max_quarantine_share_by_table={k: float(v) for k, v in (quarantine.get("tables") or {}).items()},
        no_rows_severity=files.severity("no_rows"),
        schema_change_severity=files.severity("schema_change"),
        late_rows_severity=late.severity(),
        max_days_late=int(late.get("max_days_late")),
        event_time=dict(entry.get("event_time")),
        volume=entry.section("volume").checked(
            "severity", "recent_days", "trailing_days", "min_ratio", "max_ratio", "min_baseline_rows"
        ),
        freshness_severity=freshness.severity(),
        freshness_max_days={k: int(v) for k, v in freshness.get("max_days").items()},
        null_rate=entry.section("null_rate").checked("severity", "max_increase", "min_rows", "columns"),
        distribution=entry.section("distribution").checked(
            "severity", "max_ks", "max_tvd", "min_rows", "numeric", "categorical"
        ),
        mart_drift=entry.section("mart_drift").checked(
            "severity", "min_ratio", "max_ratio", "min_baseline_rows"
        ),
        unmapped_values_severity=vocabulary.severity("unmapped_values"),
    )


class _Entries:
    """One mapping of the file, reading entries with errors that name the file and the entry."""

    def __init__(self, path: Path, mapping: Any, where: str = "") -> None:
        if not isinstance(mapping, dict):
            raise QualityConfigError(f"{path}: {where or 'the file'} must be a mapping")
        self.path, self.mapping, self.where = path, mapping, where

    def get(self, name: str) -> Any:
        if name not in self.mapping:
            raise QualityConfigError(f"{self.path}: {self._name(name)} is missing")
        return self.mapping[name]

    def section(self, name: str) -> _Entries:
        return _Entries(self.path, self.get(name), self._name(name))

    def severity(self, name: str = "severity") -> str:
        value = self.get(name)
        if value not in SEVERITIES:
            raise QualityConfigError(
                f"{self.path}: {self._name(name)} is {value!r}, not one of error, warning"
            )
        return value

    def checked(self, *names: str) -> dict[str, Any]:
        """The section as a dict, every one of `names` present (and a valid severity)."""
        unknown = sorted(set(self.mapping) - set(names))
        if unknown:
            raise QualityConfigError(f"{self.path}: {self.where} has unknown entries {unknown}")
        values = {name: self.get(name) for name in names}
        if "severity" in names:
            values["severity"] = self.severity()
        return values

    def _name(self, name: str) -> str:
        return f"{self.where}.{name}" if self.where else name
