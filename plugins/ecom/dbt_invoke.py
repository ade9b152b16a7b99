"""One dbt command run in this process on the pipeline's warehouse, as of a day.

Every direct dbt invocation (`dbt build` in `ecom.direct_run`, `dbt source freshness` in
`ecom.quality.source_freshness`) goes through `invoke_dbt`: the same project, profiles, target folder
under the warehouse, log folder and `as_of_date` var, and dbt-duckdb's connection released afterwards
so the next step can open the warehouse.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from ecom.config import Settings
from ecom.dbt_manifest import dbt_project_dir, environment
from ecom.orchestrate import release_dbt_duckdb


def dbt_target_dir(settings: Settings) -> Path:
    """Where direct invocations write run_results.json, manifest.json and sources.json."""
    return settings.warehouse_dir / "dbt" / "target"


def invoke_dbt(settings: Settings, as_of: date, command: list[str]) -> Any:
    """Run `dbt <command>` (e.g. ["build"], ["source", "freshness"]) and return dbt's runner result."""
    from dbt.cli.main import dbtRunner

    project_dir = dbt_project_dir()  # the DAG's too: ECOM_DBT_PROJECT_DIR or dbt_project/
    args = [
        *command,
        "--project-dir", str(project_dir),
        "--profiles-dir", str(project_dir),
        "--target-path", str(dbt_target_dir(settings)),
        "--log-path", str(settings.dbt_log_dir),
        "--vars", f"{{as_of_date: '{as_of.isoformat()}'}}",
        "--quiet",
    ]
    with environment(settings.as_env()):
        result = dbtRunner().invoke(args)
    release_dbt_duckdb()
    return result
