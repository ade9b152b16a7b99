"""ecommerce_marts: landed files → raw gate → dbt (one task per model) → mart gate → publish → report.

Task logic lives in `ecom.pipeline_tasks`; this file only wires it into Airflow. The dbt task group is
rendered from dbt_project/target/manifest.json (cosmos manifest load mode: no dbt call at parse time);
`ecom run` and docker-compose's airflow-init keep that manifest fresh (`python -m ecom.dbt_manifest`).
dbt runs in cosmos' watcher mode: one `dbt build` (the producer task) and one task per model and per
model's tests that reports how its node ended in that build.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import yaml
from airflow.sdk import DAG, Asset, Context, CronDataIntervalTimetable, Param, chain, task
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException
from airflow.sdk.types import DagRunProtocol, RuntimeTaskInstanceProtocol
from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
from cosmos.constants import ExecutionMode, InvocationMode, LoadMode, TestBehavior, TestIndirectSelection

from ecom import lineage, pipeline_tasks
from ecom.alerts import on_task_failure
from ecom.config import Settings
from ecom.dbt_manifest import dbt_project_dir, manifest_path, mart_names
from ecom.dbt_watcher import use_build_producer
from ecom.pipeline_tasks import DAG_ID, WAREHOUSE_POOL

# anything_new's XCom when the run has nothing to do: the reason, which the reports task reads too.
NOTHING_NEW = "nothing_new"
# The as-of date the ingest task resolved (its return value); templated into every later task and dbt.
AS_OF = "{{ ti.xcom_pull(task_ids='ingest') }}"

DBT_PROJECT = dbt_project_dir()
DBT_MANIFEST = manifest_path(DBT_PROJECT)
# What publish serves: every model dbt builds in schema `marts`, one Asset each.
MART_ASSETS = [Asset(uri=f"ecom://serving/marts/{mart}", name=f"serving_marts_{mart}")
               for mart in mart_names(DBT_MANIFEST)]
# OpenLineage datasets of the Python tasks (ecom.lineage); cosmos reports the dbt tasks' own.
SETTINGS = Settings.from_env()
DATASETS = lineage.PipelineDatasets.of(SETTINGS, DBT_MANIFEST)


def _dbt_target_name() -> str:
    """The default target of profile `ecom` in the project's profiles.yml."""
    profiles = yaml.safe_load((DBT_PROJECT / "profiles.yml").read_text(encoding="utf-8"))
    return profiles["ecom"]["target"]


@contextmanager
def _no_retry_on_permanent_failure() -> Iterator[None]:
    """A failed gate or a bad request fails the task for good instead of burning retries."""
    try:
        yield
    except pipeline_tasks.NoRetryError as error:
        raise AirflowFailException(str(error)) from error


def _record_dbt_results(project_dir: str, context: Context) -> None:
    """cosmos callback after each dbt task, passed or failed: its tests into audit.validation_results."""
    as_of = date.fromisoformat(context["ti"].xcom_pull(task_ids="ingest"))
    target = Path(project_dir) / "target"
    pipeline_tasks.record_dbt_results(Settings.from_env(), context["run_id"], as_of, target)


@task(task_id="ingest", inlets=DATASETS.landed, outlets=DATASETS.pending)
def ingest(params: dict | None = None, ds: str | None = None, run_id: str | None = None,
           dag_run: DagRunProtocol | None = None) -> str:
    """Load new landed files into raw_pending; return the run's as-of date (YYYY-MM-DD)."""
    # A run triggered without a logical date has no `ds`: its own date stands in.
    run_date = date.fromisoformat(ds) if ds else dag_run.run_after.date()
    with _no_retry_on_permanent_failure():
        as_of, summary = pipeline_tasks.ingest_and_resolve_as_of(
            Settings.from_env(), run_id, params["as_of"], run_date
        )
    print(summary)
    print(f"as-of date: {as_of.isoformat()}")
    return as_of.isoformat()


@task.short_circuit(task_id="anything_new")
def anything_new(as_of: str, params: dict | None = None,
                 ti: RuntimeTaskInstanceProtocol | None = None) -> bool:
    """False when nothing landed and neither the as-of date nor the code changed: every later task is
    skipped and serving.duckdb stays as the last publish left it (XCom `nothing_new`: why)."""
    reason = pipeline_tasks.nothing_new(Settings.from_env(), date.fromisoformat(as_of),
                                        full_refresh=params["full_refresh"])
    print(reason or "new input since the last publish: building")
    if reason:
        ti.xcom_push(key=NOTHING_NEW, value=reason)
    return reason is None


@task(task_id="raw_quality_gate", inlets=DATASETS.pending, outlets=DATASETS.raw)
def raw_quality_gate(as_of: str, run_id: str | None = None) -> None:
    with _no_retry_on_permanent_failure():
        print(pipeline_tasks.raw_quality_gate(Settings.from_env(), run_id, date.fromisoformat(as_of)))


@task(task_id="source_freshness", inlets=DATASETS.raw)
def source_freshness(as_of: str, run_id: str | None = None) -> None:
    with _no_retry_on_permanent_failure():
        print(pipeline_tasks.source_freshness(Settings.from_env(), run_id, date.fromisoformat(as_of)))


@task(task_id="mart_quality_gate", inlets=DATASETS.warehouse_marts)
def mart_quality_gate(as_of: str, run_id: str | None = None) -> None:
    with _no_retry_on_permanent_failure():
        print(pipeline_tasks.mart_quality_gate(Settings.from_env(), run_id, date.fromisoformat(as_of)))


@task(task_id="publish", inlets=DATASETS.warehouse_marts, outlets=[*MART_ASSETS, *DATASETS.published_marts])
def publish(as_of: str, run_id: str | None = None) -> None:
    print(pipeline_tasks.publish_marts(Settings.from_env(), run_id, date.fromisoformat(as_of)))


@task(task_id="reports")
def reports(run_id: str | None = None, ti: RuntimeTaskInstanceProtocol | None = None) -> str:
    if ti.xcom_pull(task_ids="anything_new", key=NOTHING_NEW):
        raise AirflowSkipException("nothing new: the latest report still describes the published marts")
    path = pipeline_tasks.write_report(Settings.from_env(), run_id)
    print(f"run report: {path}")
    return str(path)


def _dbt_task_group() -> DbtTaskGroup:
    group = DbtTaskGroup(
        group_id="dbt",
        project_config=ProjectConfig(
            dbt_project_path=DBT_PROJECT,
            manifest_path=DBT_MANIFEST,
            install_dbt_deps=False,
            # No DBT_TARGET_PATH: each task's target must stay in cosmos's temporary project copy, where
            # cosmos rewrites the cached partial parse to that copy's paths (a shared target made seeds
            # resolve to an earlier task's deleted copy).
            env_vars={
                "ECOM_AS_OF": AS_OF,
                "DBT_LOG_PATH": str(SETTINGS.dbt_log_dir),
                # The build logs JSON to the console for cosmos to read; its dbt.log stays plain text.
                "DBT_LOG_FORMAT_FILE": "text",
            },
        ),
        profile_config=ProfileConfig(
            profile_name="ecom",
            target_name=_dbt_target_name(),
            profiles_yml_filepath=DBT_PROJECT / "profiles.yml",
        ),
        execution_config=ExecutionConfig(
            # One `dbt build` of the whole project (dbt's own order, threads and test semantics: a failed
            # test skips what is built on its model); the model tasks only report its results. A model
            # task retried, or cleared in the UI, runs dbt for its model alone (cosmos' fallback).
            execution_mode=ExecutionMode.WATCHER,
            invocation_mode=InvocationMode.DBT_RUNNER,
            # For those single-model runs: the tests whose every parent is built by then.
            test_indirect_selection=TestIndirectSelection.BUILDABLE,
        ),
        # `ecom run --full-refresh` / the DAG param: incremental models are rebuilt from every raw row.
        # The callback records the test results of the build (run_results.json of its temporary target),
        # and of a model task that runs its model alone.
        operator_args={"full_refresh": "{{ params.full_refresh }}", "callback": _record_dbt_results},
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST,
            # A `<model>.test` task beside each `<model>.run` shows its tests' verdict (watcher mode has no
            # per-model build task: the producer's build runs them). A test of several models runs in the
            # one build once they are built, and is reported by the test tasks of the last of them
            # (ecom.dbt_watcher): not detached, since cosmos' watcher gives a detached test task no
            # result to wait for.
            test_behavior=TestBehavior.AFTER_EACH,
            # Our Assets are the published marts (see publish), not the working warehouse's relations.
            emit_datasets=False,
        ),
    )
    use_build_producer(group)
    return group


with DAG(
    dag_id=DAG_ID,
    description="Raw e-commerce tables → quality-gated user-portrait, cohort retention and attribution marts",
    # Interval semantics: the run for day D starts once D has ended (00:00 UTC on D+1) and its `ds` is D,
    # so an empty `as_of` means the last complete day, not the day that has just begun.
    schedule=CronDataIntervalTimetable("@daily", timezone="UTC"),
    start_date=datetime(2024, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    default_args={
        "retries": 2,
        "retry_delay": timedelta(minutes=5),
        "pool": WAREHOUSE_POOL,
        # Once a task has failed for good: a short summary to the log and, if configured, a webhook.
        "on_failure_callback": on_task_failure,
    },
    params={
        "as_of": Param(
            "",
            type="string",
            pattern=r"^(|latest|\d{4}-\d{2}-\d{2})$",
            description="YYYY-MM-DD, 'latest' (last order date landed) or empty (the run's logical date)",
        ),
        "full_refresh": Param(
            False,
            type="boolean",
            description="rebuild the incremental dbt models from every raw row (dbt --full-refresh)",
        ),
    },
    tags=["ecom", "dbt"],
) as dag:
    chain(
        ingest(),
        anything_new(AS_OF),
        raw_quality_gate(AS_OF),
        source_freshness(AS_OF),
        _dbt_task_group(),
        mart_quality_gate(AS_OF),
        publish(AS_OF),
        # A teardown without setups runs once everything upstream is done, whatever its state (all_done),
        # and unlike a plain all_done leaf it does not turn a failed run green: the run's state is publish's.
        reports().as_teardown(),
    )
