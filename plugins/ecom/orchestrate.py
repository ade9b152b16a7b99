"""`ecom run`: run the ecommerce_marts DAG once through Airflow, in-process, as `airflow dags test` does.

`run_pipeline` starts `python -m ecom.orchestrate` with the run's environment (Airflow reads its
configuration once, at import, so it must see AIRFLOW_HOME under the warehouse from the start). That
process keeps Airflow, dbt and Great Expectations output in a log file and prints one line per task.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from ecom.config import DAGS_DIR, Settings
from ecom.pipeline_tasks import DAG_ID, LATEST, WAREHOUSE_POOL
from ecom.redaction import safe_text

if TYPE_CHECKING:
    from airflow.sdk import DAG
    from airflow.sdk.types import RuntimeTaskInstanceProtocol as TaskInstance

SUCCESS = "success"
SKIPPED = "skipped"
MIGRATED_STAMP = "ecom-db-migrated-by-airflow"
# Airflow's OpenLineage settings (apache-airflow-providers-openlineage): where events go, their namespace.
OPENLINEAGE_TRANSPORT = "AIRFLOW__OPENLINEAGE__TRANSPORT"
OPENLINEAGE_NAMESPACE = "AIRFLOW__OPENLINEAGE__NAMESPACE"
OPENLINEAGE_IN_THREAD = "AIRFLOW__OPENLINEAGE__EXECUTE_IN_THREAD"


@dataclass(frozen=True)
class TaskOutcome:
    """How one task of the run ended; `error` is the failure message the task raised, if any."""

    task_id: str
    state: str
    error: str | None = None


def run_pipeline(settings: Settings, full_refresh: bool = False, lock_fd: int | None = None) -> int:
    """Run the DAG once on these settings' folders, as of `settings.as_of` (None: the last order date);
    0 when every task succeeded (the marts were published).

    `full_refresh` rebuilds dbt's incremental models from every raw row instead of the new ones.
    `lock_fd`, the warehouse lock (ecom.warehouse_lock), is inherited by the child, so the warehouse stays
    locked while either process lives.
    """
    settings.airflow_home.mkdir(parents=True, exist_ok=True)
    settings.lineage_events.parent.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "ecom.orchestrate", requested_as_of(settings.as_of),
               *(["--full-refresh"] if full_refresh else [])]
    return subprocess.run(command, env=airflow_environment(settings, os.environ), check=False,
                          pass_fds=() if lock_fd is None else (lock_fd,)).returncode


def replay_days(first: date, last: date, run: Callable[[date], int]) -> int:
    """`ecom run --from --to`: `run(day)` for each day, in order; stops at the first failure.

    Every run is a normal `ecom run --as-of DAY`, so replaying a day that already ran publishes the same
    marts again, and a replay interrupted on day D is resumed by replaying from D.
    """
    day = first
    while day <= last:
        print(f"ecom run: replaying {day} ({(day - first).days + 1}/{(last - first).days + 1})", flush=True)
        code = run(day)
        if code != 0:
            print(f"ecom run: {day} failed, later days not run (resume with --from {day})", flush=True)
            return code
        day += timedelta(days=1)
    return 0


def requested_as_of(as_of: date | None) -> str:
    """The DAG param `as_of` for `ecom run`: the given date, else the last order date landed."""
    return as_of.isoformat() if as_of else LATEST


def airflow_environment(settings: Settings, base: Mapping[str, str]) -> dict[str, str]:
    """`base` plus the run's ECOM_* settings and a private Airflow installation under the warehouse.

    OpenLineage events go to the transport `base` configures, else to a file under the warehouse.
    """
    home = settings.airflow_home
    file_transport = {"type": "file", "log_file_path": str(settings.lineage_events), "append": True}
    return {
        OPENLINEAGE_TRANSPORT: json.dumps(file_transport),
        OPENLINEAGE_NAMESPACE: "ecom",
        # Task events from a thread: dag.test runs every task in this one multi-threaded process,
        # which forking for each event (the default) copies, locks and all.
        OPENLINEAGE_IN_THREAD: "True",
        **base,
        **settings.as_env(),
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_DIR),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__COSMOS__CACHE_DIR": str(home / "cosmos_cache"),
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
        # No retries here: the dbt build's results need no copy in a Variable after every XCom.
        "AIRFLOW__COSMOS__ENABLE_WATCHER_RELIABLE_RETRY": "False",
    }


def run_exit_code(outcomes: Iterable[TaskOutcome]) -> int:
    """0 only when every task of the run succeeded or was skipped (a run with nothing new skips the rest)."""
    outcomes = list(outcomes)
    return 0 if outcomes and all(o.state in (SUCCESS, SKIPPED) for o in outcomes) else 1


def failure_summary(outcomes: Iterable[TaskOutcome], report: Path) -> str:
    """Which tasks failed and why (a gate's message is its full description), which never ran, the report."""
    outcomes = list(outcomes)
    lines = []
    for outcome in outcomes:
        if outcome.state == "failed":
            lines.append(f"task {outcome.task_id} failed:")
            message = safe_text(outcome.error) if outcome.error else "no error message"
            lines.extend(f"    {line}" for line in message.splitlines())
    not_run = [o.task_id for o in outcomes if o.state not in (SUCCESS, "failed")]
    if not_run:
        lines.append(f"not run (upstream failed): {', '.join(_group_dbt_tasks(not_run))}")
    lines.append(f"report: {report}" if report.is_file() else f"report: not written ({report} missing)")
    return "\n".join(lines)


def published_summary(settings: Settings, run_id: str, report: Path) -> str:
    """Where BI finds the marts this run published, their rows, why any is empty, and the report."""
    from ecom.publish import published_marts
    from ecom.publish_postgres import target_description

    also = f" and {target_description(settings.serving_url)}" if settings.serving_url else ""
    lines = [f"run {run_id} published to {settings.serving_db}{also} (schema marts):"]
    for mart, rows, note in published_marts(settings, run_id):
        lines.append(f"  marts.{mart:<30} {rows:>9} rows" + (f"  ({note})" if note else ""))
    lines.append(f"report: {report}")
    return "\n".join(lines)


def unchanged_summary(settings: Settings, report: Path) -> str:
    """A run that found nothing new: which run's marts BI still reads, and that run's report."""
    from ecom.run_inputs import read_published

    published = read_published(settings)
    run = f"run {published.run_id} (as of {published.inputs.as_of})" if published else "the last run"
    return (f"nothing new since {run}: nothing rebuilt, {settings.serving_db} unchanged\n"
            f"report: {report}")


def ingest_warnings_summary(settings: Settings, run_id: str) -> str:
    """The ingest warnings of the run (files and folders of the landing that were not read), one a line."""
    from ecom.ingest import batch_warnings

    warnings = batch_warnings(settings, run_id)
    return "".join(f"warning: {warning}\n" for warning in warnings)


def _group_dbt_tasks(task_ids: list[str]) -> list[str]:
    """Task ids with the dbt group's many per-model tasks folded into one entry."""
    dbt_tasks = [t for t in task_ids if t.startswith("dbt.")]
    others = [t for t in task_ids if not t.startswith("dbt.")]
    return ([f"dbt ({len(dbt_tasks)} model tasks)"] if dbt_tasks else []) + others


def run_log_path(settings: Settings, started: datetime, pid: int) -> Path:
    """The run's log file: its start to the microsecond and its process id, so no two runs share one."""
    return settings.airflow_home / "logs" / "ecom_run" / f"{started:%Y%m%dT%H%M%S%f}_{pid}.log"


# ---- below: the `python -m ecom.orchestrate` process, with the environment from airflow_environment ----


class _ProgressListener:
    """Prints one line per task and keeps each failure's message (registered as an Airflow listener)."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.errors: dict[str, str] = {}
        self._started: dict[str, float] = {}

    def running(self, task_id: str) -> None:
        self._started[task_id] = time.monotonic()
        self.out.write(f"  {task_id:<50} ")

    def finished(self, task_id: str, verdict: str, error: BaseException | str | None = None) -> None:
        release_dbt_duckdb()
        if verdict == "FAILED":
            self.errors[task_id] = str(error) if error else ""
        elapsed = time.monotonic() - self._started.pop(task_id, time.monotonic())
        self.out.write(f"{verdict} ({elapsed:.1f}s)\n")


def release_dbt_duckdb() -> None:
    """Close the DuckDB database dbt-duckdb keeps open in this process after a dbt task.

    dag.test runs every task in this one process; dbt-duckdb holds its connection at class level after
    `dbt build` returns, and DuckDB then refuses a read-only open of warehouse.duckdb by a later task
    ("different configuration than existing connections"). Under an executor each task is its own process.
    """
    connections = sys.modules.get("dbt.adapters.duckdb.connections")
    if connections is not None:
        connections.DuckDBConnectionManager.close_all_connections()


def _register(progress: _ProgressListener) -> None:
    """Hook `progress` into Airflow's task listener calls (dag.test runs tasks in this process)."""
    from airflow.listeners import hookimpl
    from airflow.sdk.listener import get_listener_manager

    class TaskListener:
        @hookimpl
        def on_task_instance_running(self, previous_state: object, task_instance: TaskInstance) -> None:
            progress.running(task_instance.task_id)

        @hookimpl
        def on_task_instance_success(self, previous_state: object, task_instance: TaskInstance) -> None:
            progress.finished(task_instance.task_id, "ok")

        @hookimpl
        def on_task_instance_failed(self, previous_state: object, task_instance: TaskInstance,
                                    error: BaseException | str | None) -> None:
            progress.finished(task_instance.task_id, "FAILED", error)

    get_listener_manager().add_listener(TaskListener())


@contextmanager
def _console_to(log_path: Path) -> Iterator[TextIO]:
    """Send everything written to stdout/stderr (Airflow, dbt, GX) to `log_path`; yield the real console."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    console = os.fdopen(os.dup(saved[0]), "w", buffering=1, encoding="utf-8")
    with log_path.open("ab") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield console
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
            console.close()


def _prepare_metadata_db(settings: Settings, console: TextIO) -> None:
    """`airflow db migrate` when the schema is missing or behind, and the warehouse_writer pool.

    A stamp naming the Airflow version that last migrated this database skips even the (1-2 s) check.
    """
    from airflow import __version__ as airflow_version
    from airflow.models.pool import Pool
    from airflow.utils import db

    stamp = settings.airflow_home / MIGRATED_STAMP
    database = settings.airflow_home / "airflow.db"
    if not (database.is_file() and stamp.is_file() and stamp.read_text() == airflow_version):
        try:
            db.check_migrations(timeout=0)
        except TimeoutError:
            started = time.monotonic()
            db.upgradedb()
            console.write(f"  airflow metadata db migrated ({time.monotonic() - started:.1f}s)\n")
        stamp.write_text(airflow_version)
    Pool.create_or_update_pool(WAREHOUSE_POOL, slots=1, include_deferred=False,
                               description="one writer of warehouse.duckdb at a time")


class EcomRun:
    """This process, as the component Airflow's listeners are told is stopping."""


def _stop_listeners() -> None:
    """Call the listeners' `before_stopping`, as Airflow's own components do when they stop.

    The OpenLineage listener emits the DAG run's events from a process pool; shut down here, its
    workers would otherwise outlive the os._exit below, holding this process's stdout and stderr
    (a caller reading them to the end, like `ecom run`'s, would wait forever).
    """
    from airflow.sdk.listener import get_listener_manager

    get_listener_manager().hook.before_stopping(component=EcomRun())


def _load_dag() -> DAG:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS_DIR / f"{DAG_ID}.py"))
    if bag.import_errors:
        raise RuntimeError("\n".join(f"{path}: {error}" for path, error in bag.import_errors.items()))
    return bag.dags[DAG_ID]


def _run_dag(settings: Settings, as_of_param: str, full_refresh: bool, console: TextIO) -> int:
    from ecom.dbt_manifest import dbt_project_dir, ensure_manifest
    from ecom.in_process_run import prepare_for_dag_test

    ensure_manifest(settings, dbt_project_dir())
    _prepare_metadata_db(settings, console)
    dag = _load_dag()
    prepare_for_dag_test(dag)
    listener = _ProgressListener(console)
    _register(listener)
    try:
        dag_run = dag.test(logical_date=datetime.now(UTC),
                           run_conf={"as_of": as_of_param, "full_refresh": full_refresh})
    finally:
        _stop_listeners()
    order = {task_id: index for index, task_id in enumerate(t.task_id for t in dag.topological_sort())}
    outcomes = [
        TaskOutcome(ti.task_id, str(ti.state), listener.errors.get(ti.task_id))
        for ti in sorted(dag_run.get_task_instances(), key=lambda ti: order[ti.task_id])
    ]
    code = run_exit_code(outcomes)
    report = settings.latest_report
    console.write(ingest_warnings_summary(settings, dag_run.run_id))
    published = any(o.task_id == "publish" and o.state == SUCCESS for o in outcomes)
    if code == 0 and not published:
        console.write(unchanged_summary(settings, report) + "\n")
    elif code == 0:
        console.write(published_summary(settings, dag_run.run_id, report) + "\n")
    else:
        console.write(f"run {dag_run.run_id} FAILED\n{failure_summary(outcomes, report)}\n")
    return code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ecom.orchestrate", description=__doc__)
    parser.add_argument("as_of", help="the DAG param as_of: YYYY-MM-DD or 'latest'")
    parser.add_argument("--full-refresh", action="store_true", help="the DAG param full_refresh")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    started = datetime.now(UTC)
    log_path = run_log_path(settings, started, os.getpid())
    with _console_to(log_path) as console:
        refresh = ", full refresh" if args.full_refresh else ""
        console.write(f"ecom run: as-of {args.as_of}{refresh}, warehouse {settings.warehouse_dir}\n"
                      f"  logs: {log_path}\n")
        try:
            return _run_dag(settings, args.as_of, args.full_refresh, console)
        except Exception as error:
            traceback.print_exc()
            console.write(f"ecom run failed: {error}\n  (traceback in {log_path})\n")
            return 1


if __name__ == "__main__":
    exit_code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # Every result is committed and every file closed by now; skip the interpreter's teardown, where the
    # threads of Airflow's in-process execution API take seconds to wind down.
    os._exit(exit_code)
