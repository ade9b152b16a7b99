"""`make bench SCALE=small|medium|large`: measure the pipeline at one preset, then rewrite BENCHMARKS.md.

In BENCH_DIR/<scale> (default /tmp/ecom-bench/<scale>; generated once, reused afterwards):
  1. landing/  the shop of `ecom generate --scale <scale>` (a year, ending on its last day D);
     history/  the same files up to D-1, hard links (then day D lands into it).
  2. full run: `ecom run` on history as of D-1, on an empty warehouse (rows/s = landed rows / time);
  3. the pandas way and the floor, on the same history, timed in their own processes; pandas' marts
     are checked against the ones the full run published;
  4. the same full run with the steps called directly (`direct_steps.py`): orchestration overhead
     (--skip-direct-full leaves it out: at large scales it doubles the benchmark's time);
  5. day D lands; the daily run `ecom run --as-of D` on the full run's warehouse (and directly on the
     direct warehouse): its share of the full run.
Results go to benchmarks/results/<scale>.json; BENCHMARKS.md is rendered from every results file.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import sys
from datetime import UTC, date, datetime, timedelta
from importlib.metadata import version
from pathlib import Path

import duckdb
from measure import Measured, measure
from report import render

from ecom.config import DEFAULT_DUCKDB_MEMORY_LIMIT

BENCH_DIR = Path(os.environ.get("BENCH_DIR", "/tmp/ecom-bench"))
HERE = Path(__file__).resolve().parent
RESULTS_DIR = HERE / "results"
BENCHMARKS_MD = HERE.parent / "BENCHMARKS.md"
# Hand-written reading of the figures, appended to the generated tables.
ANALYSIS_MD = HERE / "analysis.md"
PYTHON = sys.executable
ECOM = str(Path(sys.executable).with_name("ecom"))
TASK_LINE = re.compile(r"^\s+(\S+)\s+(?:ok|FAILED) \((\d+(?:\.\d+)?)s\)\s*$", re.MULTILINE)
MIGRATED_LINE = re.compile(r"airflow metadata db migrated \((\d+(?:\.\d+)?)s\)")


def day_of(path: Path) -> date:
    return date.fromisoformat(path.parent.name.removeprefix("dt="))


def link_days(landing: Path, target: Path, up_to: date, excluded: frozenset[str]) -> int:
    """Hard-link the landed files of every day up to `up_to` into `target` (missing ones only),
    leaving out the tables in `excluded`."""
    linked = 0
    for path in sorted(landing.rglob("dt=*/*")):
        destination = target / path.relative_to(landing)
        if path.relative_to(landing).parts[0] in excluded:
            continue
        if day_of(path) <= up_to and not destination.exists():
            destination.parent.mkdir(parents=True, exist_ok=True)
            os.link(path, destination)
            linked += 1
    return linked


def landed_rows(warehouse: Path) -> dict[str, int]:
    with duckdb.connect(str(warehouse / "warehouse.duckdb"), read_only=True) as con:
        rows = con.sql("select table_name, sum(rows_read) from audit.load_manifest "
                       "where status = 'accepted' group by 1 order by 1").fetchall()
    return {table: int(count) for table, count in rows}


def ecom_run_result(run: Measured) -> dict:
    """Time, memory and the per-task seconds `ecom run` printed (dbt's model tasks summed as `dbt`)."""
    tasks: dict[str, float] = {}
    dbt_tasks: dict[str, float] = {}
    for task_id, seconds in TASK_LINE.findall(run.output):
        (dbt_tasks if task_id.startswith("dbt.") else tasks)[task_id] = float(seconds)
    migrated = MIGRATED_LINE.search(run.output)
    return {
        "seconds": run.seconds,
        "peak_mb": run.peak_rss_mb,
        "load_average": run.load_average,
        "tasks": {**tasks, "dbt": sum(dbt_tasks.values())},
        "slowest_dbt_tasks": dict(sorted(dbt_tasks.items(), key=lambda item: -item[1])[:6]),
        "airflow_db_migrate": float(migrated.group(1)) if migrated else 0.0,
    }


def json_result(run: Measured) -> dict:
    printed = json.loads(run.output.strip().splitlines()[-1])
    return {"seconds": run.seconds, "peak_mb": run.peak_rss_mb, "load_average": run.load_average, **printed}


def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    memory_kb = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                         if line.startswith("MemTotal")))
    return {
        "cpu": cpu, "cores": os.cpu_count(), "memory_gb": round(memory_kb / 2**20, 1),
        "os": platform.platform(), "python": platform.python_version(),
        **{package: version(package) for package in ("duckdb", "dbt-core", "apache-airflow", "pandas")},
        "load_average_at_start": os.getloadavg(),
    }


def bench(scale: str, direct_full: bool, excluded: frozenset[str]) -> dict:
    root = BENCH_DIR / scale
    landing, history = root / "landing", root / "history"
    logs = root / "logs"
    result: dict = {"scale": scale, "started": datetime.now(UTC).isoformat(timespec="seconds"),
                    "machine": machine(), "bench_dir": str(root), "excluded_tables": sorted(excluded),
                    "duckdb_memory_limit": (os.environ.get("ECOM_DUCKDB_MEMORY_LIMIT", "")
                                            or f"{DEFAULT_DUCKDB_MEMORY_LIMIT} (default)")}
    if not (landing / "orders").is_dir():
        shutil.rmtree(landing, ignore_errors=True)
        command = [ECOM, "generate", "--scale", scale, "--out", str(landing)]
        generated = measure(command, log=logs / "generate.log")
        result["generate"] = {"seconds": generated.seconds, "peak_mb": generated.peak_rss_mb}
    last_day = max(day_of(p) for p in landing.glob("orders/dt=*/*"))
    day_before = last_day - timedelta(days=1)
    for folder in (history, root / "wh_ecom", root / "wh_direct"):
        shutil.rmtree(folder, ignore_errors=True)
    link_days(landing, history, day_before, excluded)
    result["days"] = {"history_to": day_before.isoformat(), "daily": last_day.isoformat()}

    print(f"[{scale}] full run (ecom run) as of {day_before}", flush=True)
    full = measure([ECOM, "run", "--landing", str(history), "--warehouse", str(root / "wh_ecom"),
                    "--as-of", day_before.isoformat()], log=logs / "full_ecom.log")
    result["full_ecom"] = ecom_run_result(full)
    result["landed_rows"] = landed_rows(root / "wh_ecom")
    result["landed_bytes"] = sum(p.stat().st_size for p in history.rglob("*") if p.is_file())

    print(f"[{scale}] pandas marts and the floor", flush=True)
    result["pandas"] = json_result(measure(
        [PYTHON, str(HERE / "pandas_marts.py"), "--landing", str(history), "--as-of", day_before.isoformat(),
         "--serving", str(root / "wh_ecom" / "serving.duckdb")], log=logs / "pandas.log"))
    result["floor"] = json_result(measure([PYTHON, str(HERE / "floor.py"), "--landing", str(history)],
                                          log=logs / "floor.log"))

    direct = [PYTHON, str(HERE / "direct_steps.py"), "--landing", str(history),
              "--warehouse", str(root / "wh_direct")]
    if direct_full:
        print(f"[{scale}] full run, steps called directly", flush=True)
        result["full_direct"] = json_result(measure([*direct, "--as-of", day_before.isoformat()],
                                                    log=logs / "full_direct.log"))
    else:  # the direct daily run needs a warehouse with the history: a copy of the full run's
        shutil.copytree(root / "wh_ecom", root / "wh_direct", ignore=shutil.ignore_patterns("airflow"))

    print(f"[{scale}] day {last_day} lands: daily runs", flush=True)
    result["daily_files"] = link_days(landing, history, last_day, excluded)
    daily = measure([ECOM, "run", "--landing", str(history), "--warehouse", str(root / "wh_ecom"),
                     "--as-of", last_day.isoformat()], log=logs / "daily_ecom.log")
    result["daily_ecom"] = ecom_run_result(daily)
    result["daily_direct"] = json_result(measure([*direct, "--as-of", last_day.isoformat()],
                                                 log=logs / "daily_direct.log"))
    result["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", choices=["small", "medium", "large"], default="small")
    parser.add_argument("--render-only", action="store_true", help="only rewrite BENCHMARKS.md from results/")
    parser.add_argument("--exclude-tables", default="",
                        help="comma-separated tables not to land (e.g. events: used by no mart, and the raw "
                             "gate holds a table's pending rows in memory)")
    parser.add_argument("--skip-direct-full", action="store_true",
                        help="do not repeat the full run with the steps called directly")
    args = parser.parse_args(argv)
    if not args.render_only:
        excluded = frozenset(t for t in args.exclude_tables.split(",") if t)
        result = bench(args.scale, direct_full=not args.skip_direct_full, excluded=excluded)
        RESULTS_DIR.mkdir(exist_ok=True)
        (RESULTS_DIR / f"{args.scale}.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    results = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(RESULTS_DIR.glob("*.json"))]
    analysis = ANALYSIS_MD.read_text(encoding="utf-8") if ANALYSIS_MD.is_file() else ""
    BENCHMARKS_MD.write_text(render(results, analysis), encoding="utf-8")
    print(f"wrote {BENCHMARKS_MD}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
