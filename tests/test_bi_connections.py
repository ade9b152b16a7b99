"""The connection recipes of the README, tested as Superset uses them: SQLAlchemy's inspector walks the
published marts (schemas, tables, columns with comments, keys, a sample query) with the versions of
tests/clients/superset.txt, in that client environment, on the DuckDB file and on PostgreSQL."""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import date
from pathlib import Path

import pytest

import client_envs
import fake_marts
from ecom.config import DBT_PROJECT_DIR, PROJECT_ROOT, Settings
from ecom.dbt_manifest import manifest_path
from ecom.publish import publish
from fake_marts import DESCRIPTIONS

SUPERSET_INSPECT = client_envs.PINS_DIR / "superset_inspect.py"
README = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")


@pytest.fixture
def settings(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, postgres_url: str
) -> Settings:
    seeded = fake_marts.seed(settings, tmp_path, monkeypatch)
    published = dataclasses.replace(seeded, serving_url=postgres_url)
    publish(published, "run-1", date(2024, 3, 31))
    return published


def described_columns(table: str, types: list[str]) -> list[list[str]]:
    return [[name, sql_type, " ".join(text.split())]
            for (name, text), sql_type in zip(DESCRIPTIONS[table][1].items(), types, strict=True)]


def expect_marts(seen: dict, types: dict[str, list[str]]) -> None:
    assert seen["sqlalchemy"] == client_envs.pins("superset")["sqlalchemy"]
    assert set(seen["tables"]) == {"channel_attribution", "cohort_retention", "customer_portrait"}
    for table, found in seen["tables"].items():
        assert found["comment"] == " ".join(DESCRIPTIONS[table][0].split()), table
        assert found["columns"] == described_columns(table, types[table]), table
    assert seen["tables"]["customer_portrait"]["sample_rows"] == 3
    assert seen["tables"]["cohort_retention"]["sample_rows"] == 3


def test_superset_inspects_the_duckdb_file(settings: Settings) -> None:
    url = f"duckdb:///{settings.serving_db}?access_mode=read_only"

    seen = client_envs.run("superset", SUPERSET_INSPECT, url, "marts")

    assert {"serving.marts", "serving.meta"} <= set(seen["schemas"])  # duckdb-engine names the catalog
    expect_marts(seen, {
        # duckdb-engine knows no list type: Superset shows it untyped, and reads it
        "customer_portrait": ["VARCHAR", "BIGINT", "NUMERIC(18, 2)", "DATE", "NULL"],
        "cohort_retention": ["DATE", "INTEGER", "BIGINT", "FLOAT"],
        "channel_attribution": ["VARCHAR", "VARCHAR", "FLOAT", "NUMERIC(18, 2)"],
    })


def test_superset_inspects_postgresql(settings: Settings) -> None:
    url = settings.serving_url.replace("postgresql://", "postgresql+psycopg2://")

    seen = client_envs.run("superset", SUPERSET_INSPECT, url, "marts")

    assert {"marts", "meta"} <= set(seen["schemas"])
    expect_marts(seen, {
        "customer_portrait": ["TEXT", "BIGINT", "NUMERIC(18, 2)", "DATE", "ARRAY"],
        "cohort_retention": ["DATE", "INTEGER", "BIGINT", "DOUBLE_PRECISION"],
        "channel_attribution": ["TEXT", "TEXT", "DOUBLE_PRECISION", "NUMERIC(18, 2)"],
    })
    assert seen["tables"]["customer_portrait"]["primary_key"] == ["customer_id"]


def test_the_readme_names_the_tested_versions() -> None:
    for package, version in client_envs.pins("superset").items():
        assert f"{package}=={version}" in README, package
    assert f"duckdb=={client_envs.pins('duckdb_oldest')['duckdb']}" in README


def test_the_readme_proposes_the_dashboards_the_exposures_declare() -> None:
    manifest = json.loads(manifest_path(DBT_PROJECT_DIR).read_text(encoding="utf-8"))
    declared = {
        exposure["label"]: sorted(node.split(".")[-1] for node in exposure["depends_on"]["nodes"]
                                  if node.startswith("model."))
        for exposure in manifest["exposures"].values()
    }
    section = README.split("**Dashboards to build**")[1].split("\n## ")[0]
    proposed = {match[1]: sorted(re.findall(r"`marts\.(\w+)`", match[2]))
                for match in re.finditer(r"^- \*\*(.+?)\*\*: (.*)$", section, re.MULTILINE)}
    assert proposed == declared and len(declared) == 4
