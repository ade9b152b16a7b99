from datetime import date
from pathlib import Path

from ecom.config import Settings


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
