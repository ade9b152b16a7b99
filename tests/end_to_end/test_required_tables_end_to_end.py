"""The whole DAG through Airflow (`ecom run`) on a landing holding only the required tables.

It first runs a dbt project with one failing model (its task fails, what depends on it does not run,
nothing is published), then the real project: the rerun publishes, and marts needing a missing table
are published empty, with the reason. Its own module (the scenario shares nothing with the shared
warehouse of test_pipeline_end_to_end), so the two workers each take one of these runs.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from ecom_runs import Run, ecom_run, generate_demo_shop, serving, task_states

from ecom.config import DBT_PROJECT_DIR
from ecom.dbt_manifest import GENERATED_DIRS

pytestmark = [pytest.mark.e2e, pytest.mark.slow(120)]


FAILING_MODEL = "int_orders_aggregated_to_customer_days"


@pytest.fixture(scope="module")
def required_only(tmp_path_factory) -> tuple[Path, Path]:
    """A landing holding only the demo shop's required tables, and an empty warehouse."""
    shop = generate_demo_shop(tmp_path_factory.mktemp("landing"))
    landing = tmp_path_factory.mktemp("required_landing")
    for table in ("customers", "orders"):
        shutil.copytree(shop / table, landing / table)
    return landing, tmp_path_factory.mktemp("required_warehouse")


@pytest.fixture(scope="module")
def failed_model_run(required_only: tuple[Path, Path], tmp_path_factory) -> Run:
    """The dbt project with one model that fails when dbt builds it."""
    project = tmp_path_factory.mktemp("failing_project") / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns(*GENERATED_DIRS))
    model = project / "models" / "intermediate" / "orders" / f"{FAILING_MODEL}.sql"
    assert model.is_file()
    model.write_text("select error('injected failure') as customer_id\n", encoding="utf-8")
    landing, warehouse = required_only
    return ecom_run(landing, warehouse, dbt_project=project)


def test_a_failed_model_fails_its_task_stops_what_depends_on_it_and_publishes_nothing(
    failed_model_run: Run, required_only: tuple[Path, Path]
) -> None:
    _, warehouse = required_only
    assert failed_model_run.returncode != 0
    assert f"task dbt.{FAILING_MODEL}.run failed" in failed_model_run.output
    states = task_states(warehouse)
    assert states[f"dbt.{FAILING_MODEL}.run"] == "failed"
    assert states[f"dbt.{FAILING_MODEL}.test"] == "upstream_failed"
    for downstream in (
        "int_customer_btyd_summarized", "growth_accounting", "cohort_retention", "user_portrait"
    ):
        assert states[f"dbt.{downstream}.run"] == "upstream_failed", downstream
    for independent in ("stg_shop__orders", "int_orders_filtered", "int_conversions_selected"):
        assert (states[f"dbt.{independent}.run"], states[f"dbt.{independent}.test"]) == ("success", "success")
    assert states["dbt.dbt_producer_watcher"] == "failed"  # the one dbt build, which ran every model
    assert (states["mart_quality_gate"], states["publish"], states["reports"]) == (
        "upstream_failed", "upstream_failed", "success")
    assert not (warehouse / "serving.duckdb").exists()


@pytest.fixture(scope="module")
def rerun(failed_model_run: Run, required_only: tuple[Path, Path]) -> Run:
    """The same landing and warehouse, run again with the project fixed."""
    landing, warehouse = required_only
    return ecom_run(landing, warehouse)


def test_only_required_tables_publish_empty_marts_with_the_reason(
    rerun: Run, required_only: tuple[Path, Path]
) -> None:
    run = rerun
    _, warehouse = required_only

    assert run.returncode == 0, run.output
    assert set(task_states(warehouse).values()) == {"success"}  # the rerun after the failure runs everything
    attribution = serving(warehouse, "select * from marts.attribution_channel")
    assert len(attribution) == 0
    assert list(attribution.columns)[:6] == ["grain", "model", "conversion_type", "channel", "campaign_id",
                                             "conversions"]
    assert len(serving(warehouse, "select * from marts.user_portrait")) > 100
    # without clickstream, day-based retention falls back to orders as the activity
    sources = serving(warehouse, "select distinct activity_source from marts.retention_daily")
    assert list(sources["activity_source"]) == ["orders"]
    notes = serving(warehouse, "select note from meta.publish_log where mart = 'attribution_channel'")
    assert notes["note"].iloc[0] == "empty: needs raw table touchpoints, which has not landed"
    assert "marts.attribution_channel" in run.output and "touchpoints, which has not landed" in run.output
