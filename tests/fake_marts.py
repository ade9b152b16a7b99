"""A small fake warehouse for the publish tests: three marts (one empty, one with a key and a list
column), a dbt manifest that documents them, and a dbt leftover that is never a mart."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import duckdb
import pytest

from ecom.config import Settings
from ecom.dbt_manifest import manifest_path

DESCRIPTIONS = {
    "customer_portrait": ("One row per\n  customer.\n", {
        "customer_id": "The customer.", "order_count": "Orders by A.",
        "revenue": "What they spent,\n in CNY.\n",
        "first_order_date": "Day of the first order.", "channels": "Channels that touched them.",
    }),
    "cohort_retention": ("Cohorts by month.", {
        "cohort_start": "First day of the cohort's month.", "period_index": "Months since cohort_start.",
        "customers": "Active customers.", "retention_rate": "customers / cohort size.",
    }),
    "channel_attribution": ("Credit per channel.", {
        "channel": "The channel.", "model": "Attribution model.", "conversions": "Credited conversions.",
        "revenue": "Credited revenue.",
    }),
}


def documented(name: str) -> dict:
    description, columns = DESCRIPTIONS[name]
    return {"description": description,
            "columns": {column: {"name": column, "description": text} for column, text in columns.items()}}


MANIFEST = {
    "nodes": {
        "model.ecom.customer_portrait": {
            "resource_type": "model",
            "name": "customer_portrait",
            "schema": "marts",
            "config": {"meta": {"requires_sources": ["customers", "orders"]}},
            **documented("customer_portrait"),
        },
        "model.ecom.cohort_retention": {
            "resource_type": "model",
            "name": "cohort_retention",
            "schema": "marts",
            "config": {"meta": {"requires_sources": ["customers", "orders"]}},
            **documented("cohort_retention"),
        },
        "model.ecom.channel_attribution": {
            "resource_type": "model",
            "name": "channel_attribution",
            "schema": "marts",
            "config": {"meta": {"requires_sources": ["orders", "touchpoints"]}},
            **documented("channel_attribution"),
        },
        "model.ecom.stg_shop__orders": {
            "resource_type": "model",
            "name": "stg_shop__orders",
            "schema": "staging",
            "config": {"meta": {"requires_sources": ["orders"]}},
        },
    }
}



def seed(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Build the fake warehouse and point the pipeline at a dbt project holding MANIFEST."""
    dbt_project = tmp_path / "dbt_project"
    manifest_path(dbt_project).parent.mkdir(parents=True)
    manifest_path(dbt_project).write_text(json.dumps(MANIFEST), encoding="utf-8")
    monkeypatch.setenv("ECOM_DBT_PROJECT_DIR", str(dbt_project))
    with duckdb.connect(str(settings.warehouse_db)) as con:
        con.execute("""
            CREATE SCHEMA raw;
            CREATE TABLE raw.customers (customer_id VARCHAR, _file_id VARCHAR, _line BIGINT);
            CREATE TABLE raw.orders (order_id VARCHAR, _file_id VARCHAR, _line BIGINT);
            CREATE SCHEMA marts;
            CREATE TABLE marts.customer_portrait (
                customer_id VARCHAR NOT NULL PRIMARY KEY,
                order_count BIGINT NOT NULL,
                revenue DECIMAL(18,2),
                first_order_date DATE,
                channels VARCHAR[]
            );
            INSERT INTO marts.customer_portrait VALUES
                ('00017', 2, 120.50, DATE '2024-01-05', ['search', 'social']),
                ('c2', 1, 0.00, DATE '2024-02-11', ['direct']),
                ('c3', 3, NULL, NULL, []);
            CREATE TABLE marts.cohort_retention (
                cohort_start DATE NOT NULL, period_index INTEGER NOT NULL,
                customers BIGINT, retention_rate DOUBLE
            );
            INSERT INTO marts.cohort_retention VALUES
                (DATE '2024-01-01', 0, 4, 1.0), (DATE '2024-01-01', 1, 2, 0.5),
                (DATE '2024-02-01', 0, 5, 1.0);
            CREATE TABLE marts.channel_attribution (
                channel VARCHAR NOT NULL, model VARCHAR NOT NULL, conversions DOUBLE, revenue DECIMAL(18,2)
            );
            CREATE TABLE marts.customer_portrait__dbt_backup AS SELECT * FROM marts.customer_portrait;
        """)
    return settings


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def leftovers(settings: Settings) -> list[str]:
    return sorted(p.name for p in settings.warehouse_dir.iterdir() if p.name.startswith("serving.duckdb."))


def in_warehouse(settings: Settings, sql: str) -> None:
    with duckdb.connect(str(settings.warehouse_db)) as con:
        con.execute(sql)
