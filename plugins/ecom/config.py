"""Run settings, read from environment variables so the CLI, the DAG and docker-compose agree.

ECOM_LANDING_DIR    folder holding <table>/ subfolders of landed files   (default ./data/landing)
ECOM_WAREHOUSE_DIR  folder for the working warehouse, serving db, reports (default ./warehouse)
ECOM_BUSINESS_TZ    IANA time zone of the business day                    (default Asia/Shanghai)
ECOM_AS_OF          the run's as-of date, YYYY-MM-DD; empty = decided by the run
ECOM_DUCKDB_MEMORY_LIMIT  DuckDB memory_limit of every warehouse connection, e.g. 4GB or 60% (default 1GB)
ECOM_DUCKDB_TEMP_DIR      where DuckDB spills what does not fit in memory (default <warehouse>/duckdb_tmp)
ECOM_SERVING_URL          postgresql://user:password@host:port/database: publish also loads the marts
                          there, schema marts (default: none, serving.duckdb only)
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"
DAGS_DIR = PROJECT_ROOT / "dags"
# What DuckDB may hold before it spills to ECOM_DUCKDB_TEMP_DIR. Not DuckDB's own default (80% of the
# machine, which it then keeps: a medium run peaked at 10.9-20.4 GB); with 1GB the same run peaked at
# 2.3 GB and took less time (benchmarks/analysis.md).
DEFAULT_DUCKDB_MEMORY_LIMIT = "1GB"
DEFAULT_BUSINESS_TZ = "Asia/Shanghai"
LANDING_ENV = "ECOM_LANDING_DIR"
WAREHOUSE_ENV = "ECOM_WAREHOUSE_DIR"
# The folders when neither a command-line flag nor the environment names them (relative to the cwd).
DEFAULT_FOLDERS = {LANDING_ENV: "data/landing", WAREHOUSE_ENV: "warehouse"}


class ConfigError(ValueError):
    """An ECOM_* environment variable holds a value that cannot be used; the message names it."""

POSTGRES_URL_SCHEMES = ("postgresql://", "postgres://")


def _env(name: str) -> str:
    return os.environ.get(name, "").strip()


def env_folder(name: str) -> Path:
    """The folder environment variable `name` names, else its default (DEFAULT_FOLDERS), resolved."""
    return Path(_env(name) or DEFAULT_FOLDERS[name]).resolve()


def _as_of(name: str) -> date | None:
    text = _env(name)
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"{name} must be a date YYYY-MM-DD (or empty), not {text!r}") from None


def _memory_limit(name: str, default: str) -> str:
    """DuckDB's own parser judges the value (it accepts 4GB, 4 GiB, 60%, ...)."""
    limit = _env(name)
    if not limit:
        return default
    import duckdb

    try:
        duckdb.connect(config={"memory_limit": limit}).close()
    except duckdb.Error as error:
        raise ConfigError(f"{name} must be a DuckDB memory limit such as 4GB or 60%, not {limit!r} "
                          f"({str(error).splitlines()[0]})") from None
    return limit


def _time_zone(name: str, default: str) -> str:
    zone = _env(name) or default
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{name} must be an IANA time zone such as {default}, not {zone!r}") from None
    return zone


def _serving_url(name: str) -> str:
    url = _env(name)
    if url and not url.startswith(POSTGRES_URL_SCHEMES):
        scheme = url.split("://", 1)[0] if "://" in url else "no scheme"
        # not the URL itself: it may hold a password
        raise ValueError(f"{name} must be a postgresql://user:password@host:port/database URL, not {scheme}")
    return url


@dataclass(frozen=True)
class Settings:
    landing_dir: Path
    warehouse_dir: Path
    business_tz: str = DEFAULT_BUSINESS_TZ
    as_of: date | None = None
    duckdb_memory_limit: str = DEFAULT_DUCKDB_MEMORY_LIMIT
    duckdb_temp_dir: Path | None = None
    # May hold a password: kept out of repr (and so out of logs).
    serving_url: str = field(default="", repr=False)

    @classmethod
    def from_env(cls) -> Settings:
        """The settings the environment gives; ConfigError (naming the variable) for an unusable value."""
        return cls(
            landing_dir=env_folder(LANDING_ENV),
            warehouse_dir=env_folder(WAREHOUSE_ENV),
            business_tz=_time_zone("ECOM_BUSINESS_TZ", DEFAULT_BUSINESS_TZ),
            as_of=_as_of("ECOM_AS_OF"),
            duckdb_memory_limit=_memory_limit("ECOM_DUCKDB_MEMORY_LIMIT", DEFAULT_DUCKDB_MEMORY_LIMIT),
            duckdb_temp_dir=Path(temp_dir).resolve() if (temp_dir := _env("ECOM_DUCKDB_TEMP_DIR")) else None,
            serving_url=_serving_url("ECOM_SERVING_URL"),
        )

    def as_env(self) -> dict[str, str]:
        """The environment variables that reproduce these settings in another process."""
        return {
            LANDING_ENV: str(self.landing_dir),
            WAREHOUSE_ENV: str(self.warehouse_dir),
            "ECOM_BUSINESS_TZ": self.business_tz,
            "ECOM_AS_OF": self.as_of.isoformat() if self.as_of else "",
            "ECOM_DUCKDB_MEMORY_LIMIT": self.duckdb_memory_limit,
            "ECOM_DUCKDB_TEMP_DIR": str(self.duckdb_temp_dir) if self.duckdb_temp_dir else "",
            "ECOM_SERVING_URL": self.serving_url,
        }

    @property
    def duckdb_temp_directory(self) -> Path:
        """Where DuckDB spills: ECOM_DUCKDB_TEMP_DIR, else a folder under the warehouse (one subfolder per
        database file, ecom.warehouse.duckdb_config)."""
        return self.duckdb_temp_dir or self.warehouse_dir / "duckdb_tmp"

    @property
    def warehouse_db(self) -> Path:
        """The working warehouse: raw layer, audit tables and every dbt model. Only the pipeline opens it."""
        return self.warehouse_dir / "warehouse.duckdb"

    @property
    def serving_db(self) -> Path:
        """The published marts, replaced atomically by the publish step. The only file BI reads."""
        return self.warehouse_dir / "serving.duckdb"

    @property
    def published_inputs(self) -> Path:
        """What the last publish was built from (`ecom.run_inputs`): a run with nothing new stops early."""
        return self.warehouse_dir / "published_inputs.json"

    @property
    def reports_dir(self) -> Path:
        return self.warehouse_dir / "reports"

    @property
    def latest_report(self) -> Path:
        """The report of the latest run; every run also keeps its own under reports/runs/."""
        return self.reports_dir / "run_report.html"

    def run_report(self, run_id: str) -> Path:
        return self.reports_dir / "runs" / f"{run_id}.html"

    @property
    def data_docs_dir(self) -> Path:
        return self.reports_dir / "data_docs"

    @property
    def gx_dir(self) -> Path:
        return self.warehouse_dir / "gx"

    @property
    def dbt_log_dir(self) -> Path:
        return self.warehouse_dir / "dbt" / "logs"

    @property
    def lineage_events(self) -> Path:
        """OpenLineage events of `ecom run`, one JSON per line, when no other transport is configured."""
        return self.warehouse_dir / "lineage" / "events.jsonl"

    @property
    def airflow_home(self) -> Path:
        return self.warehouse_dir / "airflow"

    @property
    def run_lock(self) -> Path:
        """Held (flock) by the `ecom run` that is using this warehouse folder (ecom.warehouse_lock)."""
        return self.warehouse_dir / "ecom_run.lock"
