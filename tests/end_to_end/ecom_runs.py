"""What the end-to-end modules share: the demo shop they run on, `ecom run` as a user calls it, and
reading what a run left behind (Airflow's task states, the published marts)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd

from ecom.dbt_manifest import PROJECT_DIR_ENV
from ecom.generate import generate_shop

ECOM = str(Path(sys.executable).with_name("ecom"))


def generate_demo_shop(landing: Path) -> Path:
    """The end-to-end shop: 200 customers over 120 days, as CSV files in `landing`."""
    generate_shop(out=landing, customers=200, days=120, seed=11, fmt="csv", end_date=date(2026, 6, 30))
    return landing


@dataclass
class Run:
    returncode: int
    output: str


def ecom_run(landing: Path, warehouse: Path, serving_url: str = "", dbt_project: Path | None = None) -> Run:
    env = {**os.environ, "ECOM_SERVING_URL": serving_url}
    if dbt_project:
        env[PROJECT_DIR_ENV] = str(dbt_project)
    done = subprocess.run(
        [ECOM, "run", "--landing", str(landing), "--warehouse", str(warehouse)],
        capture_output=True, text=True, timeout=900, env=env,
    )
    return Run(done.returncode, done.stdout + done.stderr)


def task_states(warehouse: Path) -> dict[str, str]:
    """Task id → state of the latest DAG run, as Airflow recorded it (`ecom run`'s metadata db)."""
    with sqlite3.connect(warehouse / "airflow" / "airflow.db") as con:
        return dict(con.execute(
            "SELECT task_id, state FROM task_instance WHERE run_id = "
            "(SELECT run_id FROM dag_run ORDER BY start_date DESC LIMIT 1)").fetchall())


def serving(warehouse: Path, sql: str) -> pd.DataFrame:
    """Rows from the published marts, DATE columns as datetime.date (pandas would make them datetimes)."""
    with duckdb.connect(str(warehouse / "serving.duckdb"), read_only=True) as con:
        relation = con.sql(sql)
        frame = relation.df()
        for column, column_type in zip(relation.columns, relation.types, strict=True):
            if str(column_type) == "DATE":
                frame[column] = frame[column].dt.date
        return frame

