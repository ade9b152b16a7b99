"""Run settings, read from environment variables so the CLI, the DAG and docker-compose agree.

ECOM_LANDING_DIR    folder holding <table>/ subfolders of landed files   (default ./data/landing)
ECOM_WAREHOUSE_DIR  folder for the working warehouse, serving db, reports (default ./warehouse)
ECOM_BUSINESS_TZ    IANA time zone of the business day                    (default Asia/Shanghai)
ECOM_AS_OF          the run's as-of date, YYYY-MM-DD; empty = decided by the run
ECOM_DUCKDB_MEMORY_LIMIT  DuckDB memory_limit of every warehouse connection, e.g. 4GB or 60% (default 80%)
ECOM_DUCKDB_TEMP_DIR      where DuckDB spills what does not fit in memory (default <warehouse>/duckdb_tmp)
ECOM_GATE_CHUNK_ROWS      rows the raw gate validates at a time, which bounds its memory (default 500000)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"
DAGS_DIR = PROJECT_ROOT / "dags"
# DuckDB's own default: a share of the machine's memory.
DEFAULT_DUCKDB_MEMORY_LIMIT = "80%"
# About 1.1 KB per row in pandas: some 0.5 GB per chunk of pending rows.
DEFAULT_GATE_CHUNK_ROWS = 500_000


def _env(name: str) -> str:
    return os.environ.get(name, "").strip()


def _positive_int(name: str, default: int) -> int:
    text = _env(name).replace("_", "")
    if not text:
        return default
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"{name} must be a positive number of rows, e.g. 500000, not {_env(name)!r}")
    return int(text)


@dataclass(frozen=True)
class Settings:
    landing_dir: Path
    warehouse_dir: Path
    business_tz: str = "Asia/Shanghai"
    as_of: date | None = None
    duckdb_memory_limit: str = DEFAULT_DUCKDB_MEMORY_LIMIT
    duckdb_temp_dir: Path | None = None
    gate_chunk_rows: int = DEFAULT_GATE_CHUNK_ROWS

    @classmethod
    def from_env(cls) -> Settings:
        as_of = os.environ.get("ECOM_AS_OF", "").strip()
        return cls(
            landing_dir=Path(os.environ.get("ECOM_LANDING_DIR", "data/landing")).resolve(),
            warehouse_dir=Path(os.environ.get("ECOM_WAREHOUSE_DIR", "warehouse")).resolve(),
            business_tz=os.environ.get("ECOM_BUSINESS_TZ", "Asia/Shanghai"),
            as_of=date.fromisoformat(as_of) if as_of else None,
            duckdb_memory_limit=_env("ECOM_DUCKDB_MEMORY_LIMIT") or DEFAULT_DUCKDB_MEMORY_LIMIT,
            duckdb_temp_dir=Path(temp_dir).resolve() if (temp_dir := _env("ECOM_DUCKDB_TEMP_DIR")) else None,
            gate_chunk_rows=_positive_int("ECOM_GATE_CHUNK_ROWS", DEFAULT_GATE_CHUNK_ROWS),
        )

    def as_env(self) -> dict[str, str]:
        """The environment variables that reproduce these settings in another process."""
        return {
            "ECOM_LANDING_DIR": str(self.landing_dir),
            "ECOM_WAREHOUSE_DIR": str(self.warehouse_dir),
            "ECOM_BUSINESS_TZ": self.business_tz,
            "ECOM_AS_OF": self.as_of.isoformat() if self.as_of else "",
            "ECOM_DUCKDB_MEMORY_LIMIT": self.duckdb_memory_limit,
            "ECOM_DUCKDB_TEMP_DIR": str(self.duckdb_temp_dir) if self.duckdb_temp_dir else "",
            "ECOM_GATE_CHUNK_ROWS": str(self.gate_chunk_rows),
        }

    @property
    def duckdb_temp_directory(self) -> Path:
        """Where DuckDB spills: ECOM_DUCKDB_TEMP_DIR, else a folder under the warehouse."""
        return self.duckdb_temp_dir or self.warehouse_dir / "duckdb_tmp"

    def duckdb_config(self, database: Path) -> dict[str, str]:
        """`duckdb.connect(database, config=...)` for the pipeline's own connections (dbt's: profiles.yml).

        Each database file spills into its own folder, as DuckDB's default `<file>.tmp` does. The folder
        holding those is created here: DuckDB creates only the last level when it first spills. dbt
        runs after ingestion, which has called this for the warehouse.
        """
        self.duckdb_temp_directory.mkdir(parents=True, exist_ok=True)
        return {"memory_limit": self.duckdb_memory_limit,
                "temp_directory": str(self.duckdb_temp_directory / f"{database.name}.tmp")}

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
    def airflow_home(self) -> Path:
        return self.warehouse_dir / "airflow"
