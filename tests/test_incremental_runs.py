"""Daily incremental runs: a day's run after history equals a full refresh; a day run twice, or a run
interrupted after ingest and started again, publishes the same marts.

The steps are called directly (`ecom.direct_run`, no Airflow) on a tiny generated shop whose files
land day by day, as a shop's would.
"""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from ecom import pipeline_tasks
from ecom.config import Settings
from ecom.direct_run import dbt_build, run_steps
from ecom.generate import generate_shop
from published_marts import published_checksums

pytestmark = pytest.mark.slow(90)

LAST_DAY = date(2026, 6, 30)
INCREMENTAL_FACTS = ("stg_shop__events", "stg_shop__orders", "stg_shop__order_items", "stg_shop__touchpoints")


def land_until(shop: Path, landing: Path, day: date, but: str | None = None) -> int:
    """Copy the generated files of every business day up to `day` (folders dt=YYYY-MM-DD) into landing,
    except those of table `but`."""
    copied = 0
    for path in sorted(shop.rglob("dt=*/*")):
        target = landing / path.relative_to(shop)
        if path.relative_to(shop).parts[0] == but:
            continue
        if date.fromisoformat(path.parent.name.removeprefix("dt=")) <= day and not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
            copied += 1
    return copied


def staging_rows(settings: Settings, model: str) -> list[tuple]:
    with duckdb.connect(str(settings.warehouse_db), read_only=True) as con:
        return sorted(con.sql(f"select * exclude (_loaded_at) from staging.{model}").fetchall(), key=repr)


@pytest.fixture(scope="module")
def days(tmp_path_factory) -> dict[str, object]:
    """History up to the day before LAST_DAY, then LAST_DAY through an interrupted run, a restart,
    a second run of the same day and finally a full refresh; the marts published after each.

    Touchpoints land late: none in the history, all of them with LAST_DAY (an incremental model
    built empty while its table had not landed must then take every row, not only the last days).
    """
    root = tmp_path_factory.mktemp("incremental")
    shop = root / "shop"
    generate_shop(out=shop, customers=150, days=20, seed=5, end_date=LAST_DAY)
    settings = Settings(landing_dir=root / "landing", warehouse_dir=root / "warehouse")
    settings.landing_dir.mkdir()
    day_before = LAST_DAY - timedelta(days=1)

    land_until(shop, settings.landing_dir, day_before, but="touchpoints")
    run_steps(settings, day_before.isoformat(), run_id="history")

    new_files = land_until(shop, settings.landing_dir, LAST_DAY)
    # Interrupted: the day's files are ingested and promoted, then the run dies before dbt.
    pipeline_tasks.ingest_and_resolve_as_of(settings, "interrupted", LAST_DAY.isoformat(), LAST_DAY)
    pipeline_tasks.raw_quality_gate(settings, "interrupted", LAST_DAY)
    run_steps(settings, LAST_DAY.isoformat(), run_id="restarted")
    restarted = published_checksums(settings.serving_db)
    target = settings.warehouse_dir / "dbt" / "target"
    model_sql = Path("ecom", "models", "staging", "stg_shop__events.sql")
    incremental_sql = (target / "compiled" / model_sql).read_text() + (target / "run" / model_sql).read_text()
    incremental_staging = {model: staging_rows(settings, model) for model in INCREMENTAL_FACTS}

    run_steps(settings, LAST_DAY.isoformat(), run_id="same_day_again")
    again = published_checksums(settings.serving_db)

    dbt_build(settings, LAST_DAY, "full_refresh", full_refresh=True)
    pipeline_tasks.publish_marts(settings, "full_refresh", LAST_DAY)
    return {
        "new_files": new_files,
        "restarted": restarted,
        "again": again,
        "full_refresh": published_checksums(settings.serving_db),
        "incremental_sql": incremental_sql,
        "incremental_staging": incremental_staging,
        "full_refresh_staging": {model: staging_rows(settings, model) for model in INCREMENTAL_FACTS},
    }


def test_the_day_built_incrementally(days: dict) -> None:
    assert days["new_files"] >= 20 + 4  # every day's touchpoints and the day's orders, items, events...
    assert "changed_keys" in days["incremental_sql"]
    assert "_loaded_at >" in days["incremental_sql"]
    assert 'delete from "warehouse"."staging"."stg_shop__events"' in days["incremental_sql"]


def test_incremental_staging_equals_a_full_refresh(days: dict) -> None:
    for model in INCREMENTAL_FACTS:
        assert days["incremental_staging"][model] == days["full_refresh_staging"][model], model
    assert len(days["full_refresh_staging"]["stg_shop__events"]) > 1000
    assert len(days["full_refresh_staging"]["stg_shop__touchpoints"]) > 100


def test_daily_run_publishes_the_marts_of_a_full_refresh(days: dict) -> None:
    assert set(days["restarted"]) >= {"user_portrait", "cohort_retention", "attribution_channel"}
    assert days["restarted"] == days["full_refresh"]


def test_running_a_day_twice_publishes_the_same_marts(days: dict) -> None:
    assert days["again"] == days["restarted"]
