"""The DAG's steps called one after the other in this process, without Airflow or the report.

ingest → raw quality gate → `dbt build` (the whole project in one invocation; its test results go
to audit.validation_results) → mart quality gate → publish. `ecom run` stays the way to run the
pipeline; this is the baseline the benchmarks measure orchestration against, and it lets tests
replay days quickly.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, date, datetime

from ecom import pipeline_tasks
from ecom.config import Settings
from ecom.dbt_manifest import dbt_project_dir, environment
from ecom.orchestrate import release_dbt_duckdb
from ecom.quality.dbt_results import RUN_RESULTS, record_dbt_target


class DbtBuildError(Exception):
    """`dbt build` did not succeed (a model or a test failed)."""


def dbt_build(settings: Settings, as_of: date, run_id: str, full_refresh: bool = False) -> None:
    """`dbt build` of the whole project as of `as_of`, its test results recorded under `run_id`;
    raises DbtBuildError when it does not succeed."""
    from dbt.cli.main import dbtRunner

    project_dir = dbt_project_dir()  # the DAG's too: ECOM_DBT_PROJECT_DIR or dbt_project/
    target = settings.warehouse_dir / "dbt" / "target"
    # An invocation that fails before running anything writes none: never record an earlier build's.
    (target / RUN_RESULTS).unlink(missing_ok=True)
    args = [
        "build",
        "--project-dir", str(project_dir),
        "--profiles-dir", str(project_dir),
        "--target-path", str(target),
        "--log-path", str(settings.dbt_log_dir),
        "--vars", f"{{as_of_date: '{as_of.isoformat()}'}}",
        "--quiet",
    ]
    if full_refresh:
        args.append("--full-refresh")
    with environment(settings.as_env()):
        result = dbtRunner().invoke(args)
    release_dbt_duckdb()
    record_dbt_target(settings, run_id, as_of, target)
    if not result.success:
        reason = result.exception or f"see {settings.dbt_log_dir / 'dbt.log'}"
        raise DbtBuildError(f"dbt build as of {as_of} failed: {reason}")


def run_steps(settings: Settings, as_of: str, run_id: str | None = None) -> dict[str, float]:
    """Run every step once (`as_of`: YYYY-MM-DD or 'latest'); returns each step's seconds, in order.

    Raises the step's own error when one fails; publish then has not run, so serving is untouched.
    """
    run_id = run_id or f"direct__{datetime.now(UTC):%Y%m%dT%H%M%S%f}"
    seconds: dict[str, float] = {}

    def timed(step: str, action: Callable[[], object]) -> object:
        started = time.perf_counter()
        outcome = action()
        seconds[step] = time.perf_counter() - started
        return outcome

    resolved, _ = timed("ingest", lambda: pipeline_tasks.ingest_and_resolve_as_of(
        settings, run_id, as_of, datetime.now(UTC).date()))
    timed("raw_quality_gate", lambda: pipeline_tasks.raw_quality_gate(settings, run_id, resolved))
    timed("dbt_build", lambda: dbt_build(settings, resolved, run_id))
    timed("mart_quality_gate", lambda: pipeline_tasks.mart_quality_gate(settings, run_id, resolved))
    timed("publish", lambda: pipeline_tasks.publish_marts(settings, run_id, resolved))
    return seconds
