from datetime import date
from pathlib import Path

import pytest

from ecom.config import Settings
from ecom.warehouse import duckdb_config


def test_settings_come_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("ECOM_LANDING_DIR", str(tmp_path / "land"))
    monkeypatch.setenv("ECOM_WAREHOUSE_DIR", str(tmp_path / "wh"))
    monkeypatch.setenv("ECOM_BUSINESS_TZ", "Europe/Berlin")
    monkeypatch.setenv("ECOM_AS_OF", "2026-03-01")
    s = Settings.from_env()
    assert s.landing_dir == tmp_path / "land"
    assert s.business_tz == "Europe/Berlin"
    assert s.as_of == date(2026, 3, 1)
    assert s.warehouse_db == tmp_path / "wh" / "warehouse.duckdb"
    assert s.serving_db == tmp_path / "wh" / "serving.duckdb"
    assert s.reports_dir == tmp_path / "wh" / "reports"


def test_defaults_and_round_trip(monkeypatch):
    for name in ("ECOM_LANDING_DIR", "ECOM_WAREHOUSE_DIR", "ECOM_BUSINESS_TZ", "ECOM_AS_OF"):
        monkeypatch.delenv(name, raising=False)
    s = Settings.from_env()
    assert s.landing_dir == Path("data/landing").resolve()
    assert s.business_tz == "Asia/Shanghai"
    assert s.as_of is None
    for key, value in s.as_env().items():
        monkeypatch.setenv(key, value)
    assert Settings.from_env() == s


def test_duckdb_memory_limit_and_spill_folder(monkeypatch, tmp_path):
    for name in ("ECOM_DUCKDB_MEMORY_LIMIT", "ECOM_DUCKDB_TEMP_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ECOM_WAREHOUSE_DIR", str(tmp_path / "wh"))
    default = Settings.from_env()
    assert duckdb_config(default, default.warehouse_db) == {
        "memory_limit": "1GB", "temp_directory": str(tmp_path / "wh" / "duckdb_tmp" / "warehouse.duckdb.tmp")}

    monkeypatch.setenv("ECOM_DUCKDB_MEMORY_LIMIT", "3GB")
    monkeypatch.setenv("ECOM_DUCKDB_TEMP_DIR", str(tmp_path / "spill"))
    s = Settings.from_env()
    assert duckdb_config(s, s.serving_db) == {
        "memory_limit": "3GB", "temp_directory": str(tmp_path / "spill" / "serving.duckdb.tmp")}
    assert (tmp_path / "spill").is_dir()  # DuckDB creates only the last level of its temp_directory
    for key, value in s.as_env().items():
        monkeypatch.setenv(key, value)
    assert Settings.from_env() == s


def test_serving_url_from_the_environment_is_never_shown(monkeypatch):
    monkeypatch.delenv("ECOM_SERVING_URL", raising=False)
    assert Settings.from_env().serving_url == ""
    url = "postgresql://ecom:pa55word@db.example:5433/serving"
    monkeypatch.setenv("ECOM_SERVING_URL", url)
    s = Settings.from_env()
    assert s.serving_url == url
    assert "pa55word" not in repr(s)
    for key, value in s.as_env().items():
        monkeypatch.setenv(key, value)
    assert Settings.from_env() == s
    for bad, scheme in (("mysql://u:pa55word@h/db", "mysql"), ("u:pa55word@h/db", "no scheme")):
        monkeypatch.setenv("ECOM_SERVING_URL", bad)
        message = f"ECOM_SERVING_URL must be a postgresql://.*, not {scheme}$"
        with pytest.raises(ValueError, match=message) as error:
            Settings.from_env()
        assert "pa55word" not in str(error.value)


def test_dbt_profile_applies_the_same_duckdb_settings(monkeypatch, tmp_path):
    """profiles.yml, rendered as dbt renders it, gives dbt-duckdb the settings our connections use."""
    import os

    import yaml
    from dbt.config.renderer import ProfileRenderer
    from dbt_common.context import set_invocation_context

    from ecom.config import DBT_PROJECT_DIR

    monkeypatch.setenv("ECOM_WAREHOUSE_DIR", str(tmp_path))
    monkeypatch.setenv("ECOM_DUCKDB_MEMORY_LIMIT", "1GB")
    monkeypatch.setenv("ECOM_DUCKDB_TEMP_DIR", str(tmp_path / "spill"))
    set_invocation_context(os.environ)
    profile = yaml.safe_load((DBT_PROJECT_DIR / "profiles.yml").read_text(encoding="utf-8"))
    rendered = ProfileRenderer({}).render_data(profile)["ecom"]["outputs"]["duckdb"]
    s = Settings.from_env()
    assert rendered["path"] == str(s.warehouse_db)
    assert rendered["config_options"] == duckdb_config(s, s.warehouse_db)
    assert "settings" not in rendered  # SET per cursor: refused once the database has spilled
