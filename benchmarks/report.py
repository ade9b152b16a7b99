"""Renders BENCHMARKS.md from the results of `benchmarks/run.py` (one JSON file per scale)."""

from __future__ import annotations

SCALE_ORDER = {"small": 0, "medium": 1, "large": 2}
STEP_TASKS = ["ingest", "raw_quality_gate", "dbt", "mart_quality_gate", "publish", "reports"]
DIRECT_STEPS = {"ingest": "ingest", "raw_quality_gate": "raw_quality_gate", "dbt": "dbt_build",
                "mart_quality_gate": "mart_quality_gate", "publish": "publish"}


def render(results: list[dict], analysis: str = "") -> str:
    """The page: how it is measured, the machine, one column per scale, then `analysis` (Markdown)."""
    results = sorted(results, key=lambda r: SCALE_ORDER[r["scale"]])
    lines = [
        "# Benchmarks",
        "",
        "Produced by `make bench SCALE=<small|medium|large>` (`benchmarks/run.py`; not part of",
        "`make test`). Each scale's figures come from its own run (see *when* below); rerunning a scale",
        "replaces its column.",
        "",
        "## How it is measured",
        "",
        "- Shop: `ecom generate --scale <scale>` (small 10k, medium 200k, large 1M customers, 365 days,",
        "  CSV).",
        "- **Full run**: `ecom run --landing history --warehouse <empty> --as-of D-1` where `history`",
        "  holds the first 364 days (D = the last day). Wall time and peak resident memory of the",
        "  process tree (`wait4` ru_maxrss: the largest process, not the sum). Rows/s = landed rows /",
        "  full-run seconds.",
        "- **Daily run**: day D's files land, then `ecom run --as-of D` on the same warehouse.",
        "- **Direct**: the same steps (ingest, raw gate, one `dbt build`, mart gate, publish) called in one",
        "  process (`benchmarks/direct_steps.py`); `ecom run` also writes the run report and runs dbt as",
        "  one Airflow task per model.",
        "- **Floor**: one DuckDB query reading, from the landed CSVs, every non-personal column of every raw",
        "  table upstream of a mart (`benchmarks/floor.py`).",
        "- **pandas**: the three core marts written plainly in pandas from the landed CSVs",
        "  (`benchmarks/pandas_marts.py`), compared with the published marts (same numbers, to the cent).",
        "",
    ]
    if not results:
        return "\n".join([*lines, "No results yet: run `make bench SCALE=small`.", ""])
    lines += _machine(results[-1]["machine"]) + _summary(results) + _targets(results) + _profile(results)
    return "\n".join(lines) + "\n" + (f"\n{analysis.strip()}\n" if analysis.strip() else "")


def _machine(machine: dict) -> list[str]:
    load = ", ".join(f"{v:.1f}" for v in machine["load_average_at_start"])
    return [
        "## Machine",
        "",
        f"{machine['cpu']}, {machine['cores']} cores, {machine['memory_gb']} GB RAM; {machine['os']}; "
        f"Python {machine['python']}, DuckDB {machine['duckdb']}, dbt-core {machine['dbt-core']}, "
        f"Airflow {machine['apache-airflow']}, pandas {machine['pandas']}. Load average when the last "
        f"scale started: {load} (the machine was shared: timings are noisy).",
        "",
    ]


def _row(label: str, results: list[dict], value) -> str:
    return f"| {label} | " + " | ".join(value(r) for r in results) + " |"


def _summary(results: list[dict]) -> list[str]:
    header = "| | " + " | ".join(f"{r['scale']}" for r in results) + " |"
    return [
        "## Full run",
        "",
        header,
        "|---|" + "---:|" * len(results),
        _row("when (UTC)", results, lambda r: r["started"].replace("T", " ")[:16]),
        _row("tables left out", results, lambda r: ", ".join(r.get("excluded_tables", [])) or "none"),
        _row("DuckDB memory_limit", results, lambda r: r.get("duckdb_memory_limit", "80% (default)")),
        _row("landed rows (all tables)", results, lambda r: f"{sum(r['landed_rows'].values()):,}"),
        _row("of which events", results, lambda r: f"{r['landed_rows'].get('events', 0):,}"),
        _row("orders", results, lambda r: f"{r['landed_rows'].get('orders', 0):,}"),
        _row("landed CSV", results, lambda r: f"{r['landed_bytes'] / 2**30:.2f} GiB"),
        _row("full run `ecom run`", results, lambda r: _seconds(r["full_ecom"]["seconds"])),
        _row("peak memory", results, lambda r: f"{r['full_ecom']['peak_mb']:,.0f} MB"),
        _row("machine load (5-min average at its end; 2 cores)", results,
             lambda r: f"{r['full_ecom']['load_average']:.1f}" if "load_average" in r["full_ecom"] else "–"),
        _row("rows per second", results,
             lambda r: f"{sum(r['landed_rows'].values()) / r['full_ecom']['seconds']:,.0f}"),
        _row("generate (once)", results,
             lambda r: _seconds(r["generate"]["seconds"]) + f", {r['generate']['peak_mb']:,.0f} MB"
             if "generate" in r else "reused"),
        "",
    ]


def _targets(results: list[dict]) -> list[str]:
    def daily(r: dict) -> str:
        share = r["daily_ecom"]["seconds"] / r["full_ecom"]["seconds"]
        return f"{_seconds(r['daily_ecom']['seconds'])} = {share:.0%} {_verdict(share <= 0.10)}"

    def overhead(r: dict) -> str:
        if "full_direct" not in r:
            return "not measured (--skip-direct-full)"
        ratio = r["full_ecom"]["seconds"] / r["full_direct"]["seconds"]
        return f"{_seconds(r['full_direct']['seconds'])} direct: {ratio:.2f}× {_verdict(ratio <= 1.3)}"

    def daily_overhead(r: dict) -> str:
        direct = sum(v for k, v in r["daily_direct"].items() if k in DIRECT_STEPS.values())
        return f"{_seconds(direct)} direct: {r['daily_ecom']['seconds'] / direct:.2f}×"

    def floor(r: dict) -> str:
        ratio = r["full_ecom"]["seconds"] / r["floor"]["compute_seconds"]
        return f"{_seconds(r['floor']['compute_seconds'])}: full run {ratio:.1f}× {_verdict(ratio <= 10)}"

    def pandas(r: dict) -> str:
        p = r["pandas"]
        speedup = p["compute_seconds"] / r["full_ecom"]["seconds"]
        checked = "same numbers" if p["checked"] and not p["differences"] else "DIFFERENT"
        return (f"{_seconds(p['compute_seconds'])} ({_seconds(p['seconds'])} with start-up), "
                f"{p['peak_mb']:,.0f} MB ({checked}): ours runs at {speedup:.2f}× its speed "
                f"{_verdict(speedup >= 10)}")

    return [
        "## Targets",
        "",
        "| measure (target) | " + " | ".join(r["scale"] for r in results) + " |",
        "|---|" + "---|" * len(results),
        _row("daily run after a year, share of the full run (≤ 10%)", results, daily),
        _row("orchestration overhead: `ecom run` / direct steps, full run (≤ 1.3×)", results, overhead),
        _row("same, daily run", results, daily_overhead),
        _row("floor: one DuckDB pass over the raw columns the marts use (full run ≤ 10× at medium)",
             results, floor),
        _row("pandas way: time, peak memory; our speed-up over it (≥ 10× at medium)", results, pandas),
        "",
    ]


def _profile(results: list[dict]) -> list[str]:
    lines = [
        "## Where the time goes",
        "",
        "Seconds per task of `ecom run` (dbt = the sum of its per-model tasks) and per directly-called step.",
        "",
        "| step | " + " | ".join(f"{r['scale']} full | {r['scale']} direct | {r['scale']} daily"
                                 for r in results) + " |",
        "|---|" + "---:|" * (3 * len(results)),
    ]
    for task in STEP_TASKS:
        cells = []
        for r in results:
            direct = r.get("full_direct", {}).get(DIRECT_STEPS.get(task, ""), None)
            cells += [f"{r['full_ecom']['tasks'].get(task, 0):.1f}",
                      "–" if direct is None else f"{direct:.1f}",
                      f"{r['daily_ecom']['tasks'].get(task, 0):.1f}"]
        lines.append(f"| {task} | " + " | ".join(cells) + " |")
    lines.append("| Airflow metadata db migrate (first run) | " + " | ".join(
        f"{r['full_ecom']['airflow_db_migrate']:.1f} | – | {r['daily_ecom']['airflow_db_migrate']:.1f}"
        for r in results) + " |")
    lines += ["", "Slowest dbt model tasks of the full run:", ""]
    for r in results:
        tasks = r["full_ecom"]["slowest_dbt_tasks"].items()
        slowest = ", ".join(f"`{k.removeprefix('dbt.')}` {v:.1f}s" for k, v in tasks)
        lines.append(f"- {r['scale']}: {slowest}")
    lines.append("")
    return lines


def _seconds(value: float) -> str:
    return f"{value:,.0f} s" if value >= 100 else f"{value:.1f} s"


def _verdict(met: bool) -> str:
    return "(met)" if met else "(**missed**)"
