"""`ecom run` plumbing: the run's environment, manifest freshness, exit code and failure message.

Running the DAG itself through Airflow is the end-to-end test's job.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest

from ecom import dbt_manifest, orchestrate
from ecom.config import DAGS_DIR, DBT_PROJECT_DIR, Settings
from ecom.orchestrate import TaskOutcome


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(landing_dir=tmp_path / "landing", warehouse_dir=tmp_path / "wh",
                    business_tz="Europe/Paris", as_of=date(2024, 5, 31))


def test_airflow_environment(settings: Settings, tmp_path: Path) -> None:
    base = {"PATH": "/usr/bin", "AIRFLOW_HOME": "/elsewhere", "ECOM_AS_OF": "1999-01-01"}

    env = orchestrate.airflow_environment(settings, base)

    home = tmp_path / "wh" / "airflow"
    events = tmp_path / "wh" / "lineage" / "events.jsonl"
    assert env == {
        "AIRFLOW__OPENLINEAGE__TRANSPORT": f'{{"type": "file", "log_file_path": "{events}", "append": true}}',
        "AIRFLOW__OPENLINEAGE__NAMESPACE": "ecom",
        "AIRFLOW__OPENLINEAGE__EXECUTE_IN_THREAD": "True",
        "PATH": "/usr/bin",
        "ECOM_LANDING_DIR": str(tmp_path / "landing"),
        "ECOM_WAREHOUSE_DIR": str(tmp_path / "wh"),
        "ECOM_BUSINESS_TZ": "Europe/Paris",
        "ECOM_AS_OF": "2024-05-31",
        "ECOM_DUCKDB_MEMORY_LIMIT": "1GB",
        "ECOM_DUCKDB_TEMP_DIR": "",
        "ECOM_SERVING_URL": "",
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_DIR),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__COSMOS__CACHE_DIR": str(home / "cosmos_cache"),
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
        "AIRFLOW__COSMOS__ENABLE_WATCHER_RELIABLE_RETRY": "False",
    }
    assert base["AIRFLOW_HOME"] == "/elsewhere"  # the caller's mapping is left alone
    # An OpenLineage endpoint of one's own wins over the file.
    http = '{"type": "http", "url": "http://marquez:5000"}'
    own = orchestrate.airflow_environment(settings, {**base, "AIRFLOW__OPENLINEAGE__TRANSPORT": http})
    assert own["AIRFLOW__OPENLINEAGE__TRANSPORT"] == http


def test_requested_as_of() -> None:
    assert orchestrate.requested_as_of(date(2024, 2, 29)) == "2024-02-29"
    assert orchestrate.requested_as_of(None) == "latest"


def test_run_pipeline_runs_the_dag_in_a_child_with_the_run_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    seen = {}

    def fake_run(command: list[str], env: dict[str, str], check: bool,
                 pass_fds: tuple[int, ...]) -> subprocess.CompletedProcess:
        seen.update(command=command, env=env, pass_fds=pass_fds)
        return subprocess.CompletedProcess(command, returncode=3)

    monkeypatch.setattr(orchestrate.subprocess, "run", fake_run)
    settings = Settings(landing_dir=tmp_path / "landing", warehouse_dir=tmp_path / "wh")

    code = orchestrate.run_pipeline(settings, lock_fd=7)

    assert code == 3
    assert seen["command"] == [sys.executable, "-m", "ecom.orchestrate", "latest"]
    assert seen["env"]["ECOM_LANDING_DIR"] == str(tmp_path / "landing")
    assert seen["env"]["ECOM_AS_OF"] == ""
    assert seen["env"]["AIRFLOW_HOME"] == str(tmp_path / "wh" / "airflow")
    assert seen["pass_fds"] == (7,)  # the warehouse lock lives on in the child
    assert (tmp_path / "wh" / "airflow").is_dir()


def test_exit_code_is_zero_only_when_every_task_succeeded() -> None:
    published = [TaskOutcome("ingest", "success"), TaskOutcome("publish", "success"),
                 TaskOutcome("reports", "success")]
    assert orchestrate.run_exit_code(published) == 0
    assert orchestrate.run_exit_code([*published[:2], TaskOutcome("reports", "failed", "disk full")]) == 1
    assert orchestrate.run_exit_code([TaskOutcome("ingest", "success"),
                                      TaskOutcome("publish", "upstream_failed")]) == 1
    assert orchestrate.run_exit_code([]) == 1
    nothing_new = [TaskOutcome("ingest", "success"), TaskOutcome("anything_new", "success"),
                   TaskOutcome("publish", "skipped"), TaskOutcome("reports", "skipped")]
    assert orchestrate.run_exit_code(nothing_new) == 0


def test_unchanged_summary_names_the_run_bi_still_reads(settings: Settings, tmp_path: Path) -> None:
    from ecom.run_inputs import PublishedInputs, RunInputs

    report = tmp_path / "run_report.html"
    assert orchestrate.unchanged_summary(settings, report) == (
        f"nothing new since the last run: nothing rebuilt, {settings.serving_db} unchanged\nreport: {report}")
    recorded = PublishedInputs("run-1", RunInputs("2024-05-31", "Europe/Paris", "", "a", "c"), 10, 20)
    settings.warehouse_dir.mkdir(parents=True)
    settings.published_inputs.write_text(json.dumps(dataclasses.asdict(recorded)))

    assert orchestrate.unchanged_summary(settings, report).splitlines() == [
        f"nothing new since run run-1 (as of 2024-05-31): nothing rebuilt, {settings.serving_db} unchanged",
        f"report: {report}",
    ]


def test_failure_summary_names_the_task_the_gate_text_and_the_report(tmp_path: Path) -> None:
    report = tmp_path / "run_report.html"
    report.write_text("<html></html>")
    outcomes = [
        TaskOutcome("ingest", "success"),
        TaskOutcome("raw_quality_gate", "failed",
                    "raw quality gate failed:\norders: amount >= 0 failed for 3 rows [error]"),
        TaskOutcome("dbt.stg_shop__orders_model_build", "upstream_failed"),
        TaskOutcome("dbt.user_portrait_model_build", "upstream_failed"),
        TaskOutcome("publish", "upstream_failed"),
        TaskOutcome("reports", "success"),
    ]

    assert orchestrate.failure_summary(outcomes, report) == (
        "task raw_quality_gate failed:\n"
        "    raw quality gate failed:\n"
        "    orders: amount >= 0 failed for 3 rows [error]\n"
        "not run (upstream failed): dbt (2 model tasks), publish\n"
        f"report: {report}"
    )


def test_failure_summary_says_when_the_report_is_missing(tmp_path: Path) -> None:
    summary = orchestrate.failure_summary([TaskOutcome("reports", "failed", None)], tmp_path / "r.html")

    missing = tmp_path / "r.html"
    assert summary == f"task reports failed:\n    no error message\nreport: not written ({missing} missing)"


def test_published_summary_names_the_serving_db_each_mart_and_why_one_is_empty(
    settings: Settings, tmp_path: Path
) -> None:
    settings.serving_db.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(settings.serving_db)) as con:
        con.execute("CREATE SCHEMA meta")
        con.execute("CREATE TABLE meta.publish_log (run_id VARCHAR, as_of DATE, published_at TIMESTAMP, "
                    "mart VARCHAR, row_count BIGINT, note VARCHAR)")
        con.execute("INSERT INTO meta.publish_log VALUES "
                    "('old', '2026-06-29', now(), 'user_portrait', 7, NULL), "
                    "('run-2', '2026-06-30', now(), 'user_portrait', 1457, NULL), "
                    "('run-2', '2026-06-30', now(), 'attribution_channel', 0, "
                    "'empty: needs raw table touchpoints, which has not landed')")

    summary = orchestrate.published_summary(settings, "run-2", tmp_path / "report.html")

    assert summary.splitlines() == [
        f"run run-2 published to {settings.serving_db} (schema marts):",
        "  marts.attribution_channel                    0 rows"
        "  (empty: needs raw table touchpoints, which has not landed)",
        "  marts.user_portrait                       1457 rows",
        f"report: {tmp_path / 'report.html'}",
    ]
    with_postgres = dataclasses.replace(settings, serving_url="postgresql://bi:pa55@db.example:5433/serving")
    summary = orchestrate.published_summary(with_postgres, "run-2", tmp_path / "report.html")
    assert summary.splitlines()[0] == (
        f"run run-2 published to {settings.serving_db} and postgresql://db.example:5433/serving "
        "(schema marts):"
    )
    assert "pa55" not in summary


def test_console_to_sends_output_to_the_log_and_progress_to_the_console(
    capfd: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    log = tmp_path / "logs" / "run.log"

    with orchestrate._console_to(log) as console:
        os.write(1, b"airflow says a lot\n")
        os.write(2, b"dbt says more\n")
        console.write("  ingest ok\n")
    print("after", flush=True)

    assert capfd.readouterr().out == "  ingest ok\nafter\n"
    assert log.read_text() == "airflow says a lot\ndbt says more\n"


def test_progress_listener_prints_one_line_per_task_and_keeps_errors(tmp_path: Path) -> None:
    out_path = tmp_path / "out.txt"
    with out_path.open("w") as out:
        progress = orchestrate._ProgressListener(out)
        progress.running("ingest")
        progress.finished("ingest", "ok")
        progress.running("raw_quality_gate")
        progress.finished("raw_quality_gate", "FAILED", RuntimeError("raw quality gate failed:\nbad rows"))

    lines = out_path.read_text().splitlines()
    assert [line.split()[:2] for line in lines] == [["ingest", "ok"], ["raw_quality_gate", "FAILED"]]
    assert progress.errors == {"raw_quality_gate": "raw quality gate failed:\nbad rows"}


# ---- dbt manifest freshness ----


def write_project(root: Path) -> Path:
    (root / "models" / "marts").mkdir(parents=True)
    (root / "macros").mkdir()
    (root / "dbt_project.yml").write_text("name: shop\n")
    (root / "models" / "marts" / "orders.sql").write_text("select 1 as id\n")
    (root / "macros" / "m.sql").write_text("{% macro m() %}1{% endmacro %}\n")
    return root


def write_manifest(project: Path, mtime: float) -> Path:
    manifest = dbt_manifest.manifest_path(project)
    manifest.parent.mkdir(parents=True, exist_ok=True)
    manifest.write_text("{}")
    os.utime(manifest, (mtime, mtime))
    return manifest


def set_mtime(path: Path, mtime: float) -> None:
    os.utime(path, (mtime, mtime))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = write_project(tmp_path / "dbt")
    for path in dbt_manifest.project_source_files(root):
        set_mtime(path, 1_000)
    return root


def test_manifest_missing_is_stale(project: Path) -> None:
    assert dbt_manifest.manifest_is_stale(project)


def test_manifest_newer_than_every_source_is_fresh(project: Path) -> None:
    write_manifest(project, 2_000)
    assert not dbt_manifest.manifest_is_stale(project)


@pytest.mark.parametrize("changed", ["models/marts/orders.sql", "macros/m.sql", "dbt_project.yml",
                                     "seeds/channels.csv", "models/marts/portrait/_portrait__models.yml"])
def test_a_source_changed_after_the_manifest_makes_it_stale(project: Path, changed: str) -> None:
    write_manifest(project, 2_000)
    path = project / changed
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("changed\n")
    set_mtime(path, 3_000)

    assert dbt_manifest.manifest_is_stale(project)


@pytest.mark.parametrize("generated", ["target/run_results.json", "logs/dbt.log", "dbt_packages/x/a.sql",
                                       ".user.yml"])
def test_dbt_outputs_do_not_make_the_manifest_stale(project: Path, generated: str) -> None:
    write_manifest(project, 2_000)
    path = project / generated
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("output\n")
    set_mtime(path, 3_000)

    assert not dbt_manifest.manifest_is_stale(project)


def test_ensure_manifest_parses_only_when_stale(monkeypatch: pytest.MonkeyPatch, project: Path,
                                                settings: Settings) -> None:
    parses = []

    def fake_parse(got_settings: Settings, project_dir: Path) -> None:
        parses.append(project_dir)
        write_manifest(project_dir, 2_000)

    monkeypatch.setattr(dbt_manifest, "parse_project", fake_parse)

    assert dbt_manifest.ensure_manifest(settings, project) == project / "target" / "manifest.json"
    assert dbt_manifest.ensure_manifest(settings, project) == project / "target" / "manifest.json"
    assert parses == [project]


def test_mart_names_are_the_models_built_in_schema_marts(tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.json"
    nodes = [
        ("model", "user_portrait", "marts"),
        ("model", "cohort_retention", "marts"),
        ("model", "int_orders_filtered", "intermediate"),
        ("test", "not_null_x", "marts"),
        ("seed", "rules", "marts"),
    ]
    manifest.write_text(json.dumps({"nodes": {
        f"{kind}.shop.{name}": {"name": name, "resource_type": kind, "schema": schema}
        for kind, name, schema in nodes
    }}))

    assert dbt_manifest.mart_names(manifest) == ["cohort_retention", "user_portrait"]


def test_dbt_project_dir_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(dbt_manifest.PROJECT_DIR_ENV, raising=False)
    assert dbt_manifest.dbt_project_dir() == DBT_PROJECT_DIR
    monkeypatch.setenv(dbt_manifest.PROJECT_DIR_ENV, str(tmp_path))
    assert dbt_manifest.dbt_project_dir() == tmp_path


def test_failure_summary_masks_personal_values_and_secrets_in_an_error(tmp_path: Path) -> None:
    outcomes = [TaskOutcome("ingest", "failed", "landing file orders/a.csv cannot be read: Original Line: "
                                                "o1,13977770003,https://user:pw@example.com/x")]

    assert orchestrate.failure_summary(outcomes, tmp_path / "missing.html").splitlines()[1] == (
        "    landing file orders/a.csv cannot be read: Original Line: o1,••••,https://example.com/••••")
