"""A run killed (SIGKILL) at any step, then run again, publishes a clean run's marts.

One small shop. A clean warehouse gets one uninterrupted run. Another warehouse is killed in turn:
during ingest (some tables committed), in the CLV fit of the Python model int_clv_parameters, during
publish, and in the incremental models stg_shop__orders and user_portrait_history at their insert, after
their delete (they exist by then: the run killed in publish built them). Each kill hits a run that
itself resumes the one killed before it; the last run is left to finish. Every published mart must
then equal the clean run's, row for row.

Floating-point columns are compared to 1e-9 (relative): DuckDB adds doubles in parallel in no fixed
order, so two uninterrupted runs already differ in their last bits (with threads=1 they are identical).
When marts differ, the message also counts the differing rows of the raw, staging and intermediate
relations, to tell lost or doubled data from a model that amplifies such noise.
"""

from __future__ import annotations

import hashlib
import math
import signal
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest

from ecom.generate import generate_shop

pytestmark = pytest.mark.e2e

AS_OF = "2026-06-30"
KILLED_RUN = Path(__file__).with_name("killed_run.py")
KILL_POINTS = ["ingest", "dbt:int_clv_parameters", "publish", "dbt:stg_shop__orders",
               "dbt:user_portrait_history"]


def run_steps(landing: Path, warehouse: Path, kill_at: str, run_id: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(KILLED_RUN), str(landing), str(warehouse), AS_OF, kill_at, run_id]
    return subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)


def published_marts(serving: Path) -> dict[str, list[tuple]]:
    """Every mart's rows, sorted (doubles rounded for the sort only)."""
    with duckdb.connect(str(serving), read_only=True) as con:
        names = [n for (n,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'marts' ORDER BY 1").fetchall()]
        return {name: sorted(con.execute(f'SELECT * FROM marts."{name}"').fetchall(), key=_sort_key)
                for name in names}


def relations(warehouse: Path) -> dict[str, list[tuple]]:
    """The raw, staging and intermediate relations of a working warehouse, without lineage columns."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        names = con.execute("SELECT schema_name || '.' || table_name FROM duckdb_tables() "
                            "WHERE schema_name IN ('raw', 'staging', 'intermediate') ORDER BY 1").fetchall()
        found = {}
        for (name,) in names:
            schema, table = name.split(".")
            columns = [c for (c,) in con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE schema_name = ? AND table_name = ? "
                "AND column_name NOT IN ('_batch_id', '_loaded_at', '_file_id') ORDER BY column_index",
                [schema, table]).fetchall()]
            select = ", ".join(f'"{c}"' for c in columns)
            rows = con.execute(f'SELECT {select} FROM {schema}."{table}"').fetchall()
            found[name] = sorted(rows, key=_sort_key)
        return found


def _sort_key(row: tuple) -> str:
    return repr(tuple(f"{v:.6g}" if isinstance(v, float) else v for v in row))


def same_value(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12) or (math.isnan(a) and math.isnan(b))
    return a == b


def checksum(rows: list[tuple]) -> str:
    return hashlib.sha256(repr(rows).encode()).hexdigest()[:16]


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    landing = tmp_path_factory.mktemp("kill_landing")
    generate_shop(out=landing, customers=300, days=60, seed=7, end_date=date.fromisoformat(AS_OF))
    return landing


@pytest.fixture(scope="module")
def clean(landing: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    warehouse = tmp_path_factory.mktemp("clean_warehouse")
    done = run_steps(landing, warehouse, "none", "clean")
    assert done.returncode == 0, done.stderr[-3000:]
    return warehouse


@pytest.fixture(scope="module")
def killed_then_rerun(landing: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    warehouse = tmp_path_factory.mktemp("killed_warehouse")
    for attempt, kill_at in enumerate(KILL_POINTS, start=1):
        done = run_steps(landing, warehouse, kill_at, f"killed-{attempt}")
        assert done.returncode == -signal.SIGKILL, f"{kill_at}: {done.returncode}\n{done.stderr[-3000:]}"
    done = run_steps(landing, warehouse, "none", "rerun")
    assert done.returncode == 0, done.stderr[-3000:]
    return warehouse


def differences(ours: dict[str, list[tuple]], theirs: dict[str, list[tuple]]) -> dict[str, list[tuple]]:
    """Per relation, the pairs of rows that differ (beyond float noise); a count mismatch is one pair."""
    found = {}
    for name, rows in theirs.items():
        mine = ours.get(name, [])
        if len(mine) != len(rows):
            found[name] = [(len(mine), len(rows))]
            continue
        pairs = [(a, b) for a, b in zip(mine, rows, strict=True)
                 if not all(same_value(x, y) for x, y in zip(a, b, strict=True))]
        if pairs:
            found[name] = pairs
    return found


def test_the_rerun_publishes_the_clean_runs_marts(killed_then_rerun: Path, clean: Path) -> None:
    rerun = published_marts(killed_then_rerun / "serving.duckdb")
    expected = published_marts(clean / "serving.duckdb")

    assert sorted(rerun) == sorted(expected)
    differing = {mart: pairs[:2] for mart, pairs in differences(rerun, expected).items()}
    upstream = {name: len(pairs) for name, pairs in differences(
        relations(killed_then_rerun / "warehouse.duckdb"), relations(clean / "warehouse.duckdb")).items()}
    assert differing == {}, f"working warehouse relations that differ too (rows): {upstream}"
    print({mart: checksum(rows) for mart, rows in rerun.items()})


def test_the_killed_publish_left_nothing_behind_and_every_file_reconciles(killed_then_rerun: Path) -> None:
    assert not list(killed_then_rerun.glob("serving.duckdb.*.tmp*"))
    with duckdb.connect(str(killed_then_rerun / "warehouse.duckdb"), read_only=True) as con:
        unbalanced = "SELECT count(*) FROM audit.load_manifest WHERE rows_read <> rows_loaded + rows_rejected"
        assert con.execute(unbalanced).fetchall() == [(0,)]
        assert con.execute("SELECT count(DISTINCT path) = count(*) FROM audit.load_manifest "
                           "WHERE status = 'accepted'").fetchall() == [(True,)]
