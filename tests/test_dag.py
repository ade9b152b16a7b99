"""The ecommerce_marts DAG as Airflow parses it: tasks, dependencies, dbt task group, pools, assets, params.

The dbt task group is rendered from dbt_project/target/manifest.json (regenerated here when stale); each
expectation about dbt tasks is computed from that manifest's JSON, independently of cosmos.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

# Airflow reads its configuration once, at import: keep it away from ~/airflow and the examples.
os.environ.setdefault("AIRFLOW_HOME", str(Path(tempfile.gettempdir()) / "ecom-tests-airflow"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")

from airflow.dag_processing.dagbag import DagBag
from airflow.providers.common.compat.lineage.entities import Table
from airflow.sdk import DAG, Asset, CronDataIntervalTimetable, TriggerRule
from airflow.sdk.exceptions import AirflowFailException, ParamValidationError

from ecom import pipeline_tasks
from ecom.config import DAGS_DIR, DBT_PROJECT_DIR, Settings
from ecom.contract import load_contract
from ecom.dbt_manifest import ensure_manifest

DAG_FILE = DAGS_DIR / "ecommerce_marts.py"
PYTHON_TASKS = ["ingest", "raw_quality_gate", "mart_quality_gate", "publish", "reports"]
AS_OF_TEMPLATE = "{{ ti.xcom_pull(task_ids='ingest') }}"


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> dict:
    warehouse = tmp_path_factory.mktemp("warehouse")
    settings = Settings(landing_dir=warehouse / "landing", warehouse_dir=warehouse)
    return json.loads(ensure_manifest(settings, DBT_PROJECT_DIR).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def warehouse_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    warehouse = tmp_path_factory.mktemp("dag_warehouse")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ECOM_WAREHOUSE_DIR", str(warehouse))
        patch.delenv("ECOM_DBT_PROJECT_DIR", raising=False)
        yield warehouse


@pytest.fixture(scope="module")
def bag(manifest: dict, warehouse_env: Path) -> DagBag:
    return DagBag(dag_folder=str(DAG_FILE))


@pytest.fixture(scope="module")
def dag(bag: DagBag) -> DAG:
    return bag.dags["ecommerce_marts"]


def dbt_nodes(manifest: dict, resource_type: str) -> dict[str, dict]:
    return {uid: node for uid, node in manifest["nodes"].items() if node["resource_type"] == resource_type}


def dbt_task_id(node: dict) -> str:
    """cosmos names a build task `<node name>_<resource type>_build` inside the task group `dbt`."""
    return f"dbt.{node['name']}_{node['resource_type']}_build"


def dbt_tasks(dag: DAG) -> set[str]:
    return {task_id for task_id in dag.task_ids if task_id.startswith("dbt.")}


def detached_tests(manifest: dict) -> dict[str, dict]:
    """Tests of more than one model or seed: no model's build selects them when neither parent is built
    before the other, so each runs in a task of its own (cosmos names it `<test name>_test`)."""
    buildable = {**dbt_nodes(manifest, "model"), **dbt_nodes(manifest, "seed")}
    return {uid: node for uid, node in dbt_nodes(manifest, "test").items()
            if len(set(node["depends_on"]["nodes"]) & set(buildable)) > 1}


def test_dag_file_parses_without_import_errors(bag: DagBag) -> None:
    assert bag.import_errors == {}
    assert list(bag.dags) == ["ecommerce_marts"]


def test_dag_file_parses_without_running_dbt(bag: DagBag, monkeypatch: pytest.MonkeyPatch) -> None:
    """The dbt task group is rendered from the manifest: parsing never starts dbt (in-process or not)."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("parsing the DAG file ran dbt")

    monkeypatch.setattr("dbt.cli.main.dbtRunner.invoke", refuse)
    monkeypatch.setattr("subprocess.Popen.__init__", refuse)
    second = DagBag(dag_folder=str(DAG_FILE))

    assert second.import_errors == {}
    assert dbt_tasks(second.dags["ecommerce_marts"]) == dbt_tasks(bag.dags["ecommerce_marts"])


def test_one_dbt_build_task_per_model_and_seed_and_one_per_test_of_several(dag: DAG, manifest: dict) -> None:
    buildable = {**dbt_nodes(manifest, "model"), **dbt_nodes(manifest, "seed")}
    detached = {f"dbt.{node['name']}_test" for node in detached_tests(manifest).values()}

    # e.g. the singular test over cohort_retention and cohort_repeat_purchase, two sibling marts
    assert "dbt.assert_cohort_cuts_partition_each_cohort_test" in detached
    assert dbt_tasks(dag) == {dbt_task_id(node) for node in buildable.values()} | detached
    operators = {task_id: type(dag.get_task(task_id)).__name__ for task_id in dbt_tasks(dag)}
    tests = {task_id for task_id, operator in operators.items() if operator == "DbtTestLocalOperator"}
    assert tests == detached
    assert set(operators.values()) == {"DbtBuildLocalOperator", "DbtTestLocalOperator"}


def test_dbt_tasks_follow_the_dbt_dependency_graph(dag: DAG, manifest: dict) -> None:
    buildable = {**dbt_nodes(manifest, "model"), **dbt_nodes(manifest, "seed")}
    for node in buildable.values():
        parent_ids = [uid for uid in node["depends_on"].get("nodes", []) if uid in buildable]
        parents = {dbt_task_id(buildable[uid]) for uid in parent_ids}
        expected = parents or {"raw_quality_gate"}
        assert dag.get_task(dbt_task_id(node)).upstream_task_ids == expected, node["name"]
    for node in detached_tests(manifest).values():
        parents = {dbt_task_id(buildable[uid]) for uid in node["depends_on"]["nodes"] if uid in buildable}
        assert dag.get_task(f"dbt.{node['name']}_test").upstream_task_ids == parents, node["name"]
        for parent in parents:  # and their builds leave it out: it runs once
            assert node["name"] in dag.get_task(parent).exclude, (parent, node["name"])


def test_pipeline_order(dag: DAG) -> None:
    dbt = dbt_tasks(dag)
    dbt_leaves = {t for t in dbt if not (dag.get_task(t).downstream_task_ids & dbt)}

    assert set(dag.task_ids) == set(PYTHON_TASKS) | dbt
    assert dag.get_task("ingest").upstream_task_ids == set()
    assert dag.get_task("raw_quality_gate").upstream_task_ids == {"ingest"}
    assert dag.get_task("raw_quality_gate").downstream_task_ids == {
        t for t in dbt if not (dag.get_task(t).upstream_task_ids & dbt)
    }
    assert dag.get_task("mart_quality_gate").upstream_task_ids == dbt_leaves
    assert dag.get_task("publish").upstream_task_ids == {"mart_quality_gate"}
    assert dag.get_task("reports").upstream_task_ids == {"publish"}


def test_reports_runs_whatever_happened_upstream_without_hiding_a_failure(dag: DAG) -> None:
    reports = dag.get_task("reports")
    # A teardown without setups runs once upstream is done in any state; the run's state ignores it.
    assert reports.is_teardown
    assert reports.trigger_rule == TriggerRule.ALL_DONE_SETUP_SUCCESS
    assert not reports.upstream_list[0].is_setup
    assert not reports.on_failure_fail_dagrun


def test_schedule_retries_and_concurrency(dag: DAG) -> None:
    assert isinstance(dag.timetable, CronDataIntervalTimetable)
    assert (dag.timetable.expression, str(dag.timetable.timezone)) == ("0 0 * * *", "UTC")
    assert dag.catchup is False
    assert dag.max_active_runs == 1
    for task in dag.tasks:
        assert (task.retries, task.retry_delay) == (2, timedelta(minutes=5)), task.task_id


def test_every_task_writes_through_the_single_warehouse_pool(dag: DAG) -> None:
    assert {(task.pool, task.pool_slots) for task in dag.tasks} == {("warehouse_writer", 1)}


def test_publish_outlets_one_asset_per_mart(dag: DAG, manifest: dict) -> None:
    marts = sorted(node["name"] for node in dbt_nodes(manifest, "model").values()
                   if node["original_file_path"].startswith("models/marts/"))

    assert marts
    assets = [outlet for outlet in dag.get_task("publish").outlets if isinstance(outlet, Asset)]
    assert [asset.uri for asset in assets] == [f"ecom://serving/marts/{mart}" for mart in marts]
    assert [t.task_id for t in dag.tasks if any(isinstance(o, Asset) for o in t.outlets)] == ["publish"]


def test_python_tasks_declare_their_lineage_datasets(dag: DAG, manifest: dict) -> None:
    """Named as cosmos names the dbt tasks' datasets, so OpenLineage joins them into one graph."""
    settings = Settings.from_env()
    marts = sorted(node["name"] for node in dbt_nodes(manifest, "model").values()
                   if node["original_file_path"].startswith("models/marts/"))
    warehouse, serving = f"duckdb://{settings.warehouse_db}", f"duckdb://{settings.serving_db}"

    def names(datasets: list) -> list[tuple[str, str]]:
        return [(d.cluster, f"{d.database}.{d.name}") for d in datasets if isinstance(d, Table)]

    raw_tables = sorted(load_contract().tables)
    assert [f.url for f in dag.get_task("ingest").inlets] == [
        (settings.landing_dir / table).as_uri() for table in raw_tables]
    pending = [(warehouse, f"warehouse.raw_pending.{table}") for table in raw_tables]
    assert names(dag.get_task("ingest").outlets) == names(dag.get_task("raw_quality_gate").inlets) == pending
    raw = [(warehouse, f"warehouse.raw.{table}") for table in raw_tables]
    assert names(dag.get_task("raw_quality_gate").outlets) == raw
    assert names(dag.get_task("publish").inlets) == [(warehouse, f"warehouse.marts.{mart}") for mart in marts]
    assert names(dag.get_task("publish").outlets) == [(serving, f"serving.marts.{mart}") for mart in marts]
    portrait = next(t for t in dag.get_task("publish").outlets
                    if isinstance(t, Table) and t.name == "user_portrait")
    assert portrait.description.startswith("One row per customer") and len(portrait.columns) > 50
    assert all(column.description and column.data_type for column in portrait.columns)


def test_as_of_param(dag: DAG) -> None:
    param = dag.params.get_param("as_of")
    assert param.value == ""
    for accepted in ["", "latest", "2024-05-31"]:
        assert param.resolve(accepted) == accepted
    for rejected in ["yesterday", "31/05/2024", "2024-5-31"]:
        with pytest.raises(ParamValidationError):
            param.resolve(rejected)


def test_dbt_gets_the_resolved_as_of_and_logs_under_the_warehouse(dag: DAG,
                                                                   warehouse_env: Path) -> None:
    task = dag.get_task(sorted(dbt_tasks(dag))[0])
    ti = SimpleNamespace(xcom_pull=lambda task_ids: {"ingest": "2024-05-31"}[task_ids])

    rendered = task.render_template(task.env, {"ti": ti}, jinja_env=dag.get_template_env())

    assert rendered == {
        "ECOM_AS_OF": "2024-05-31",
        "DBT_LOG_PATH": str(warehouse_env / "dbt" / "logs"),
    }
    assert task.invocation_mode.value == "dbt_runner"
    assert task.indirect_selection == "buildable"
    assert task.install_deps is False


def test_python_tasks_read_the_as_of_from_ingest(dag: DAG) -> None:
    for task_id in ["raw_quality_gate", "mart_quality_gate", "publish"]:
        assert list(dag.get_task(task_id).op_args) == [AS_OF_TEMPLATE], task_id


def test_ingest_task_resolves_as_of_against_the_logical_date(dag: DAG,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def fake(settings: Settings, batch_id: str, requested: str, logical_date: date) -> tuple[date, str]:
        calls.append((batch_id, requested, logical_date))
        return date(2024, 5, 30), "2 files loaded"

    monkeypatch.setattr(pipeline_tasks, "ingest_and_resolve_as_of", fake)
    ingest = dag.get_task("ingest").python_callable

    assert ingest(params={"as_of": ""}, ds="2024-06-01", run_id="scheduled__1") == "2024-05-30"
    run_without_logical_date = SimpleNamespace(run_after=datetime(2024, 6, 3, 7, 30, tzinfo=UTC))
    assert ingest(params={"as_of": "latest"}, ds=None, run_id="manual__2", dag_run=run_without_logical_date) \
        == "2024-05-30"
    assert calls == [("scheduled__1", "", date(2024, 6, 1)), ("manual__2", "latest", date(2024, 6, 3))]


@pytest.mark.parametrize(("task_id", "function"), [("raw_quality_gate", "raw_quality_gate"),
                                                   ("mart_quality_gate", "mart_quality_gate")])
def test_failed_gate_fails_the_task_without_retry(dag: DAG, monkeypatch: pytest.MonkeyPatch,
                                                  task_id: str, function: str) -> None:
    def failing_gate(settings: Settings, run_id: str, as_of: date) -> str:
        assert (run_id, as_of) == ("run-1", date(2024, 5, 31))
        raise pipeline_tasks.QualityGateFailedError("gate failed:\norders.amount < 0 in 3 rows")

    monkeypatch.setattr(pipeline_tasks, function, failing_gate)

    with pytest.raises(AirflowFailException, match=r"gate failed:\norders.amount < 0 in 3 rows"):
        dag.get_task(task_id).python_callable("2024-05-31", run_id="run-1")


def test_every_task_alerts_on_failure(dag: DAG) -> None:
    from ecom.alerts import on_task_failure

    for task in dag.tasks:
        callbacks = task.on_failure_callback
        callbacks = callbacks if isinstance(callbacks, list) else [callbacks]
        assert on_task_failure in callbacks, task.task_id


def test_full_refresh_param_reaches_every_dbt_task(dag: DAG) -> None:
    assert dag.params.get_param("full_refresh").value is False
    for task_id in dbt_tasks(dag):
        task = dag.get_task(task_id)
        if task_id.endswith("_test"):
            continue  # a test task builds nothing
        for value, expected in ((True, "True"), (False, "False")):
            rendered = task.render_template(task.full_refresh, {"params": {"full_refresh": value}},
                                            jinja_env=dag.get_template_env())
            assert rendered == expected, task_id


def test_every_dbt_task_records_its_test_results_under_the_run(dag: DAG, monkeypatch: pytest.MonkeyPatch,
                                                               tmp_path: Path) -> None:
    calls = []

    def record(settings: Settings, run_id: str, as_of: date, target: Path) -> int:
        calls.append((run_id, as_of, target))
        return 0

    monkeypatch.setattr(pipeline_tasks, "record_dbt_results", record)
    callbacks = {dag.get_task(task_id).callback for task_id in dbt_tasks(dag)}
    [callback] = callbacks
    ti = SimpleNamespace(xcom_pull=lambda task_ids: {"ingest": "2024-05-31"}[task_ids])

    # cosmos calls it after the dbt command, with the task's temporary project copy
    callback(str(tmp_path), context={"run_id": "manual__1", "ti": ti})

    assert calls == [("manual__1", date(2024, 5, 31), tmp_path / "target")]
