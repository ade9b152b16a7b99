"""dbt source freshness of the raw layer: a real `dbt source freshness` over a tiny ingested shop."""

from __future__ import annotations

import json
from datetime import date

import duckdb
import pytest

from ecom import pipeline_tasks
from ecom.config import Settings
from ecom.generate import generate_shop
from ecom.quality.results import ERROR, WARNING
from ecom.quality.source_freshness import FRESHNESS_GATE, freshness_checks

AS_OF = date(2026, 6, 30)


@pytest.fixture(scope="module")
def promoted(tmp_path_factory) -> Settings:
    """A tiny shop ingested and promoted to the raw layer (no dbt build)."""
    root = tmp_path_factory.mktemp("freshness")
    generate_shop(out=root / "landing", customers=40, days=10, seed=3, end_date=AS_OF)
    settings = Settings(landing_dir=root / "landing", warehouse_dir=root / "warehouse")
    pipeline_tasks.ingest_and_resolve_as_of(settings, "run1", AS_OF.isoformat(), AS_OF)
    pipeline_tasks.raw_quality_gate(settings, "run1", AS_OF)
    return settings


def recorded(settings: Settings, run_id: str) -> dict[str, tuple]:
    with duckdb.connect(str(settings.warehouse_db), read_only=True) as con:
        rows = con.execute(
            "select table_name, severity, success, message from audit.validation_results "
            "where gate = ? and run_id = ?", [FRESHNESS_GATE, run_id]).fetchall()
    return {row[0]: row[1:] for row in rows}


def raw_tables(settings: Settings) -> set[str]:
    with duckdb.connect(str(settings.warehouse_db), read_only=True) as con:
        rows = con.execute(
            "select table_name from information_schema.tables where table_schema = 'raw'").fetchall()
    return {row[0] for row in rows}


def test_every_landed_table_is_fresh_right_after_ingest(promoted: Settings) -> None:
    summary = pipeline_tasks.source_freshness(promoted, "run1", AS_OF)

    results = recorded(promoted, "run1")
    assert set(results) == raw_tables(promoted)
    assert all(success for _, success, _ in results.values())
    assert "0 errors, 0 warnings" in summary
    assert results["orders"][2].startswith("orders: last loaded ")
    assert results["orders"][2].endswith(" ago, fresh (warn after 36 hours)")


def test_a_table_loaded_40_hours_ago_is_a_warning_naming_its_age(promoted: Settings) -> None:
    with duckdb.connect(str(promoted.warehouse_db)) as con:
        con.execute("update raw.orders set _loaded_at = _loaded_at - interval 40 hour")

    summary = pipeline_tasks.source_freshness(promoted, "run2", AS_OF)

    results = recorded(promoted, "run2")
    severity, success, message = results["orders"]
    assert (severity, success) == (WARNING, False)
    assert message.startswith("orders: last loaded 40.")
    assert message.endswith(" h ago, stale (warn after 36 hours)")
    assert [table for table, (_, ok, _) in results.items() if not ok] == ["orders"]
    assert "1 warnings" in summary


def test_statuses_map_to_severities() -> None:
    def outcome(status: str, **criteria: dict) -> dict:
        return {"unique_id": "source.ecom.shop.orders", "status": status, "criteria": criteria,
                "max_loaded_at": "2026-06-30T00:00:00", "max_loaded_at_time_ago_in_s": 7200.0}

    error_after = {"count": 1, "period": "hour"}
    checks = freshness_checks({"results": [
        outcome("pass", error_after=error_after),
        outcome("error", error_after=error_after),
        {"unique_id": "source.ecom.shop.touchpoints", "status": "runtime error", "error": "boom"},
    ]})

    assert [(c.severity, c.success) for c in checks] == [(ERROR, True), (ERROR, False), (ERROR, False)]
    assert checks[1].message == "orders: last loaded 2.0 h ago, stale (error after 1 hour)"
    assert json.loads(checks[1].observed)["seconds_since_loaded"] == 7200.0
    assert checks[2].message == "touchpoints: source freshness could not be computed: boom"
