"""Quality over past runs for the steward report: one history row per run, and its inline charts.

A run is what left rows in the warehouse's audit schema under its id: files it loaded
(`audit.load_manifest.batch_id`, rows read / loaded / quarantined, `audit.rejects` by file) and the
checks its gates stored (`audit.validation_results.run_id`). Whether it published comes from the
serving database's publish log.
"""

from __future__ import annotations

from typing import Any, Protocol

from ecom.report_sections import Chart, Row, figure_png

RUNS_SHOWN = 30


class HistoryReader(Protocol):
    def has(self, database: str, relation: str) -> bool: ...

    def rows(self, sql: str, params: list[Any] | None = None) -> list[Row]: ...


def collect_history(db: HistoryReader, warehouse: str, serving: str, publish_log: str) -> list[Row]:
    """The last RUNS_SHOWN runs, oldest first: when, checks (failed errors / warnings), rows read,
    loaded and quarantined, quarantined share, and whether the run published."""
    checks = (
        "SELECT NULL::VARCHAR AS run_id, NULL::TIMESTAMP AS at, 0 AS checks, 0 AS errors, 0 AS warnings "
        "WHERE false"
    )
    if db.has(warehouse, "audit.validation_results"):
        checks = (
            f"SELECT run_id, min(validated_at) AS at, count(*) AS checks, "
            f"count(*) FILTER (WHERE NOT success AND severity = 'error') AS errors, "
            f"count(*) FILTER (WHERE NOT success AND severity <> 'error') AS warnings "
            f"FROM {warehouse}.audit.validation_results GROUP BY ALL"
        )
    files = (
        "SELECT NULL::VARCHAR AS run_id, NULL::TIMESTAMP AS at, 0 AS rows_read, 0 AS rows_loaded, "
        "0 AS rows_quarantined WHERE false"
    )
    if db.has(warehouse, "audit.load_manifest"):
        files = (
            f"SELECT batch_id AS run_id, min(loaded_at) AS at, sum(rows_read) AS rows_read, "
            f"sum(rows_loaded) AS rows_loaded, sum(rows_rejected) AS rows_quarantined "
            f"FROM {warehouse}.audit.load_manifest GROUP BY ALL"
        )
    published = "SELECT NULL::VARCHAR AS run_id WHERE false"
    if db.has(serving, publish_log):
        published = f"SELECT DISTINCT run_id FROM {serving}.{publish_log}"
    history = db.rows(
        f"""
        WITH checks AS ({checks}), files AS ({files}), published AS ({published})
        SELECT run_id, least(c.at, f.at) AS started_at,
               coalesce(c.checks, 0) AS checks, coalesce(c.errors, 0) AS errors,
               coalesce(c.warnings, 0) AS warnings,
               coalesce(f.rows_read, 0) AS rows_read, coalesce(f.rows_loaded, 0) AS rows_loaded,
               coalesce(f.rows_quarantined, 0) AS rows_quarantined,
               run_id IN (SELECT run_id FROM published) AS published
        FROM checks c FULL JOIN files f USING (run_id)
        ORDER BY started_at DESC NULLS LAST, run_id
        LIMIT {RUNS_SHOWN}
        """
    )
    for run in history:
        run["quarantined_share"] = run["rows_quarantined"] / run["rows_read"] if run["rows_read"] else 0.0
    return list(reversed(history))


def trend_charts(history: list[Row]) -> list[Chart]:
    """Failed checks by severity, and rows quarantined with their share, per run (oldest left)."""
    if not history:
        return []
    from matplotlib.figure import Figure

    labels = [_run_label(run) for run in history]
    positions = range(len(history))
    width = max(6.0, 0.45 * len(history) + 2)

    checks = Figure(figsize=(width, 3.2), dpi=100)
    axes = checks.subplots()
    errors = [run["errors"] for run in history]
    warnings = [run["warnings"] for run in history]
    axes.bar(positions, errors, color="#cf1124", label="failed, error")
    axes.bar(positions, warnings, bottom=errors, color="#f0b429", label="failed, warning")
    axes.set_xticks(positions, labels, rotation=45, ha="right", fontsize=7)
    axes.set_ylabel("failed checks")
    axes.legend(fontsize=8)

    quarantine = Figure(figsize=(width, 3.2), dpi=100)
    axes = quarantine.subplots()
    axes.bar(positions, [run["rows_quarantined"] for run in history], color="#627d98")
    axes.set_ylabel("rows quarantined")
    axes.set_xticks(positions, labels, rotation=45, ha="right", fontsize=7)
    share = axes.twinx()
    share.plot(positions, [run["quarantined_share"] for run in history], color="#cf1124", marker="o")
    share.set_ylabel("share of rows read")
    share.yaxis.set_major_formatter("{x:.2%}")
    return [
        Chart(
            alt="failed checks per run by severity",
            png_base64=figure_png(checks),
            caption="Failed checks per run (red: error, stops the run; amber: warning).",
        ),
        Chart(
            alt="rows quarantined per run",
            png_base64=figure_png(quarantine),
            caption="Rows quarantined per run (bars) and their share of the rows read (line).",
        ),
    ]


def _run_label(run: Row) -> str:
    started = run["started_at"]
    return f"{started:%m-%d %H:%M}" if started is not None else str(run["run_id"])[:16]
