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
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException, ParamValidationError

from ecom import pipeline_tasks
from ecom.config import DAGS_DIR, DBT_PROJECT_DIR, Settings
from ecom.contract import load_contract
from ecom.dbt_manifest import ensure_manifest

DAG_FILE = DAGS_DIR / "ecommerce_marts.py"
PYTHON_TASKS = ["ingest", "anything_new", "raw_quality_gate", "source_freshness", "mart_quality_gate",
                "publish", "reports"]
AS_OF_TEMPLATE = "{{ ti.xcom_pull(task_ids='ingest') }}"
# cosmos watcher mode: the one `dbt build`, and the task that lets the group succeed when it is skipped.
PRODUCER = "dbt.dbt_producer_watcher"
PRODUCER_DONE = "dbt.dbt_producer_watcher_done"
NODE_TASK_SUFFIX = {"model": "run", "seed": "seed"}
CONSUMER_OPERATORS = {"run": "DbtRunWatcherOperator", "seed": "DbtSeedWatcherOperator",
                      "test": "DbtTestWatcherOperator"}


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


def buildable_nodes(manifest: dict) -> dict[str, dict]:
    return {**dbt_nodes(manifest, "model"), **dbt_nodes(manifest, "seed")}


def nodes_with_tests(manifest: dict) -> set[str]:
    """Unique ids of the models and seeds some dbt test depends on."""
    return {uid for test in dbt_nodes(manifest, "test").values() for uid in test["depends_on"]["nodes"]}


def node_tasks(node: dict, tested: set[str]) -> list[str]:
    """cosmos' tasks for a model or seed: `<name>_run` alone, or `<name>.run` then `<name>.test` in a group
    of its own when the node has tests (`seed` in place of `run` for a seed)."""
    suffix = NODE_TASK_SUFFIX[node["resource_type"]]
    if node["unique_id"] in tested:
        return [f"dbt.{node['name']}.{suffix}", f"dbt.{node['name']}.test"]
    return [f"dbt.{node['name']}_{suffix}"]


def dbt_tasks(dag: DAG) -> set[str]:
    return {task_id for task_id in dag.task_ids if task_id.startswith("dbt.")}


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


def test_one_dbt_build_and_a_task_per_model_seed_and_their_tests(dag: DAG, manifest: dict) -> None:
    tested = nodes_with_tests(manifest)
    expected = {PRODUCER, PRODUCER_DONE}
    for node in buildable_nodes(manifest).values():
        expected |= set(node_tasks(node, tested))

    assert dbt_tasks(dag) == expected
    assert type(dag.get_task(PRODUCER)).__mro__[1].__name__ == "DbtProducerWatcherOperator"
    for task_id in expected - {PRODUCER, PRODUCER_DONE}:
        kind = task_id.rsplit(".", 1)[-1] if task_id.count(".") == 2 else task_id.rsplit("_", 1)[-1]
        assert type(dag.get_task(task_id)).__name__ == CONSUMER_OPERATORS[kind], task_id
    assert len(tested) > 20  # most models have tests: their verdict is a task of its own


def test_dbt_tasks_follow_the_dbt_dependency_graph(dag: DAG, manifest: dict) -> None:
    buildable = buildable_nodes(manifest)
    tested = nodes_with_tests(manifest)
    for node in buildable.values():
        first, *test = node_tasks(node, tested)
        parent_ids = [uid for uid in node["depends_on"].get("nodes", []) if uid in buildable]
        parents = {node_tasks(buildable[uid], tested)[-1] for uid in parent_ids}
        assert dag.get_task(first).upstream_task_ids == (parents or {"source_freshness"}), node["name"]
        if test:
            assert dag.get_task(test[0]).upstream_task_ids == {first}


def test_the_build_starts_after_source_freshness_and_the_model_tasks_watch_it(dag: DAG) -> None:
    producer = dag.get_task(PRODUCER)
    assert producer.upstream_task_ids == {"source_freshness"}
    assert producer.downstream_task_ids == {PRODUCER_DONE}
    for task_id in dbt_tasks(dag) - {PRODUCER, PRODUCER_DONE}:
        assert dag.get_task(task_id).producer_task_id == PRODUCER, task_id


def test_pipeline_order(dag: DAG) -> None:
    dbt = dbt_tasks(dag)
    dbt_leaves = {t for t in dbt if not (dag.get_task(t).downstream_task_ids & dbt)}

    assert set(dag.task_ids) == set(PYTHON_TASKS) | dbt
    assert dag.get_task("ingest").upstream_task_ids == set()
    assert dag.get_task("anything_new").upstream_task_ids == {"ingest"}
    assert dag.get_task("raw_quality_gate").upstream_task_ids == {"anything_new"}
    assert dag.get_task("raw_quality_gate").downstream_task_ids == {"source_freshness"}
    assert dag.get_task("source_freshness").downstream_task_ids == {
        t for t in dbt if not (dag.get_task(t).upstream_task_ids & dbt)
    }
    assert PRODUCER_DONE in dbt_leaves
    assert dag.get_task("mart_quality_gate").upstream_task_ids == dbt_leaves
    assert dag.get_task("publish").upstream_task_ids == {"mart_quality_gate"}
    assert dag.get_task("reports").upstream_task_ids == {"publish"}


def test_nothing_new_skips_everything_after_ingest(dag: DAG, monkeypatch: pytest.MonkeyPatch) -> None:
    decide = dag.get_task("anything_new")
    pushed = []
    ti = SimpleNamespace(xcom_push=lambda key, value: pushed.append((key, value)))
    assert type(decide).__name__ == "_ShortCircuitDecoratedOperator"
    assert decide.ignore_downstream_trigger_rules  # the whole rest of the run, whatever its trigger rules
    calls = []

    def nothing_new(settings: Settings, as_of: date, full_refresh: bool) -> str | None:
        calls.append((as_of, full_refresh))
        return "nothing new since run-1" if not full_refresh else None

    monkeypatch.setattr(pipeline_tasks, "nothing_new", nothing_new)

    assert decide.python_callable("2024-05-31", params={"full_refresh": False}, ti=ti) is False
    assert decide.python_callable("2024-05-31", params={"full_refresh": True}, ti=ti) is True
    assert calls == [(date(2024, 5, 31), False), (date(2024, 5, 31), True)]
    assert pushed == [("nothing_new", "nothing new since run-1")]  # what the reports task reads
    assert list(decide.op_args) == [AS_OF_TEMPLATE]


def test_reports_are_skipped_when_nothing_was_new(dag: DAG, monkeypatch: pytest.MonkeyPatch,
                                                  tmp_path: Path) -> None:
    written = []
    monkeypatch.setattr(pipeline_tasks, "write_report",
                        lambda settings, run_id: written.append(run_id) or tmp_path / "r.html")
    reports = dag.get_task("reports").python_callable

    def ti(reason: str | None) -> SimpleNamespace:
        return SimpleNamespace(xcom_pull=lambda task_ids, key: {("anything_new", "nothing_new"): reason}[
            (task_ids, key)])

    with pytest.raises(AirflowSkipException, match="nothing new"):
        reports(run_id="run-2", ti=ti("nothing new since run-1"))
    # New input, or the run stopped before deciding (ingest failed): the report says what happened.
    assert reports(run_id="run-3", ti=ti(None)) == str(tmp_path / "r.html")
    assert written == ["run-3"]


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
    task = dag.get_task(PRODUCER)
    ti = SimpleNamespace(xcom_pull=lambda task_ids: {"ingest": "2024-05-31"}[task_ids])

    rendered = task.render_template(task.env, {"ti": ti}, jinja_env=dag.get_template_env())

    assert rendered == {
        "ECOM_AS_OF": "2024-05-31",
        "DBT_LOG_PATH": str(warehouse_env / "dbt" / "logs"),
        "DBT_LOG_FORMAT_FILE": "text",
    }
    assert task.invocation_mode.value == "dbt_runner"
    assert task.install_deps is False
    assert (task.select, task.exclude) == (None, None)  # the whole project in one build
    # A test task retried alone runs the tests whose every parent is built by then.
    test_tasks = [dag.get_task(t) for t in dbt_tasks(dag) if t.endswith(".test")]
    assert {task.indirect_selection for task in test_tasks} == {"buildable"}


def test_python_tasks_read_the_as_of_from_ingest(dag: DAG) -> None:
    for task_id in ["raw_quality_gate", "source_freshness", "mart_quality_gate", "publish"]:
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
                                                   ("source_freshness", "source_freshness"),
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


def test_full_refresh_param_reaches_the_build_and_every_model_task(dag: DAG) -> None:
    assert dag.params.get_param("full_refresh").value is False
    model_tasks = [t for t in dbt_tasks(dag) if t.endswith("run")]
    assert model_tasks
    for task_id in [PRODUCER, *model_tasks]:  # a model task retried alone runs `dbt run` for its model
        task = dag.get_task(task_id)
        if task_id.endswith("_test"):
            continue  # a test task builds nothing
        for value, expected in ((True, "True"), (False, "False")):
            rendered = task.render_template(task.full_refresh, {"params": {"full_refresh": value}},
                                            jinja_env=dag.get_template_env())
            assert rendered == expected, task_id


def test_ecom_run_starts_the_model_tasks_once_the_build_has_ended(bag: DagBag) -> None:
    """dag.test runs ready tasks one at a time in no set order: a model task must not wait on the build."""
    from ecom.in_process_run import prepare_for_dag_test

    dag = DagBag(dag_folder=str(DAG_FILE)).dags["ecommerce_marts"]  # a copy: the fixture's stays as parsed
    before = {t.task_id: (set(t.upstream_task_ids), t.trigger_rule) for t in dag.tasks}

    prepare_for_dag_test(dag)

    consumers = dbt_tasks(dag) - {PRODUCER, PRODUCER_DONE}
    first = {t for t in consumers if before[t][0] == {"source_freshness"}}
    assert first and {t.rsplit("_", 1)[-1].rsplit(".", 1)[-1] for t in first} <= {"run", "seed"}
    for task in dag.tasks:
        assert task.retries == 0, task.task_id
        if task.task_id in first:
            assert task.upstream_task_ids == {"source_freshness", PRODUCER}
            assert task.trigger_rule == TriggerRule.ALL_DONE_MIN_ONE_SUCCESS
        else:
            assert (set(task.upstream_task_ids), task.trigger_rule) == before[task.task_id], task.task_id
        if task.task_id in consumers:
            assert task.poke_retry_number == 1  # a node without a result fails instead of running dbt alone


def dbt_event(name: str, unique_id: str, status: str) -> str:
    """A dbt JSON log line as cosmos receives it from dbt's event callback."""
    return json.dumps({"info": {"name": name, "msg": f"{name} {unique_id}", "level": "debug"},
                       "data": {"node_info": {"unique_id": unique_id, "node_status": status,
                                              "resource_type": unique_id.split(".")[0]}}})


def test_the_build_tells_the_model_tasks_how_each_node_ended_and_not_its_progress(
    dag: DAG, manifest: dict
) -> None:
    from ecom.dbt_watcher import DbtBuildProducer

    producer = dag.get_task(PRODUCER)
    assert isinstance(producer, DbtBuildProducer)
    pushed: dict[str, object] = {}
    ti = SimpleNamespace(xcom_push=lambda key, value: pushed.update({key: value}), xcom_pull=lambda **_: None)
    parse = producer._make_parse_callable()
    model = "model.ecom.int_orders_filtered"
    tests = [uid for uid, test in dbt_nodes(manifest, "test").items() if model in test["depends_on"]["nodes"]]
    assert sorted(producer.tests_per_model[model]) == sorted(tests)

    for step in ("NodeStart", "NodeCompiling", "NodeExecuting"):
        parse(dbt_event(step, model, "started"), {"context": {"ti": ti}})
    assert pushed == {}
    parse(dbt_event("NodeFinished", model, "success"), {"context": {"ti": ti}})
    assert pushed.pop("model__ecom__int_orders_filtered_status") == {"status": "success", "outlet_uris": []}
    assert pushed.pop("model__ecom__int_orders_filtered_dbt_event")["status"] == "success"
    for test in tests:
        parse(dbt_event("NodeFinished", test, "pass"), {"context": {"ti": ti}})
    # The model's test task reads one aggregate, once every test on the model has passed; nothing else.
    assert pushed == {"model__ecom__int_orders_filtered_tests_status": "pass"}


def test_a_relationship_test_is_reported_by_the_later_models_test_task(dag: DAG, manifest: dict) -> None:
    listed = dag.get_task(PRODUCER).tests_per_model
    relationship = next(uid for uid, node in dbt_nodes(manifest, "test").items()
                        if node["name"].startswith("relationships_user_portrait_customer_id"))
    assert sorted(manifest["nodes"][relationship]["depends_on"]["nodes"]) == [
        "model.ecom.stg_shop__customers", "model.ecom.user_portrait"]
    # dbt runs it once user_portrait is built; stg_shop__customers' test task does not wait for it
    assert relationship in listed["model.ecom.user_portrait"]
    assert relationship not in listed["model.ecom.stg_shop__customers"]
    assert listed["model.ecom.stg_shop__customers"]  # its own tests
    # A test of two sibling marts (neither built on the other) runs in the build once both are built;
    # both test tasks report it.
    sibling = "test.ecom.assert_cohort_cuts_partition_each_cohort"
    assert sorted(manifest["nodes"][sibling]["depends_on"]["nodes"]) == [
        "model.ecom.cohort_repeat_purchase", "model.ecom.cohort_retention"]
    assert sibling in listed["model.ecom.cohort_retention"]
    assert sibling in listed["model.ecom.cohort_repeat_purchase"]
    assert not [t for t in dag.task_ids if t.endswith("_test")]  # no detached test task waits for nothing


def test_every_dbt_task_records_its_test_results_under_the_run(dag: DAG, monkeypatch: pytest.MonkeyPatch,
                                                               tmp_path: Path) -> None:
    calls = []

    def record(settings: Settings, run_id: str, as_of: date, target: Path) -> int:
        calls.append((run_id, as_of, target))
        return 0

    monkeypatch.setattr(pipeline_tasks, "record_dbt_results", record)
    callbacks = {dag.get_task(task_id).callback for task_id in dbt_tasks(dag) - {PRODUCER_DONE}}
    [callback] = callbacks
    ti = SimpleNamespace(xcom_pull=lambda task_ids: {"ingest": "2024-05-31"}[task_ids])

    # cosmos calls it after the dbt command, with the task's temporary project copy
    callback(str(tmp_path), context={"run_id": "manual__1", "ti": ti})

    assert calls == [("manual__1", date(2024, 5, 31), tmp_path / "target")]
