"""The run report: one self-contained HTML page a data steward opens offline.

It reads whatever the run left behind (load manifest, rejects, gate results, publish log, the served
cohort retention) and works for failed runs too: a missing database or table becomes a note on the
page, never an error. Styles are inline and charts are inline base64 PNGs: no network.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import duckdb
import jinja2

from ecom.config import Settings
from ecom.publish import PUBLISH_LOG, check_run_id
from ecom.quality.dbt_results import DBT_GATE
from ecom.redaction import MASKED, mask_personal_content, masks_value, safe_text
from ecom.report_checks import CheckGroup, check_label, group_failures
from ecom.report_sections import SERVING, Chart, Row, Section, build_sections
from ecom.report_trends import collect_history, trend_charts
from ecom.sql import relation_exists
from ecom.warehouse import IN_MEMORY, attach, connect

TEMPLATES_DIR = Path(__file__).with_name("templates")
REPORT_TEMPLATE = "run_report.html.j2"
REJECT_SAMPLE_SIZE = 20
RAW_VALUE_MAX_CHARS = 80
SEVERITY_ORDER = {"error": 0, "warning": 1}
WAREHOUSE = "warehouse"
ROW_COUNTS = ("rows_read", "rows_loaded", "rows_rejected", "rows_waiting")


@dataclass
class RunReport:
    run_id: str
    generated_at: datetime
    business_tz: str
    warehouse_db: Path
    serving_db: Path
    notes: list[str] = field(default_factory=list)
    as_of: date | None = None
    files: list[Row] = field(default_factory=list)
    reject_counts: list[Row] = field(default_factory=list)
    reject_samples: list[Row] = field(default_factory=list)
    gate_results: list[Row] = field(default_factory=list)
    published: list[Row] = field(default_factory=list)
    served_run: Row | None = None
    sections: list[Section] = field(default_factory=list)
    history: list[Row] = field(default_factory=list)  # past runs, oldest first (this one included)
    trend_charts: list[Chart] = field(default_factory=list)

    @property
    def is_published(self) -> bool:
        return bool(self.published)

    @property
    def unbalanced_files(self) -> list[Row]:
        return [f for f in self.files if not f["balanced"]]

    @property
    def table_totals(self) -> list[Row]:
        """Per table of the report's files: files, rows read / loaded / rejected / waiting, and whether all
        reconcile."""
        totals = []
        for table in sorted({f["table_name"] for f in self.files}):
            files = [f for f in self.files if f["table_name"] == table]
            totals.append({
                "table_name": table,
                "files": len(files),
                **{key: sum(f[key] or 0 for f in files) for key in ROW_COUNTS},
                "balanced": all(f["balanced"] for f in files),
            })
        return totals

    @property
    def rows_read(self) -> int:
        return sum(f["rows_read"] or 0 for f in self.files)

    @property
    def rows_quarantined(self) -> int:
        return sum(f["rows_rejected"] or 0 for f in self.files)

    @property
    def checks_by_table(self) -> list[Row]:
        """Per table (or '(run)' for checks of no table): checks, passed, failed by severity, whether any
        failed; tables with failures first."""
        by_table: dict[str, Row] = {}
        for result in self.gate_results:
            row = by_table.setdefault(result["table_name"] or "(run)", {
                "table_name": result["table_name"] or "(run)", "checks": 0, "passed": 0, "errors": 0,
                "warnings": 0})
            row["checks"] += 1
            if result["success"]:
                row["passed"] += 1
            elif result["severity"] == "error":
                row["errors"] += 1
            else:
                row["warnings"] += 1
        for row in by_table.values():
            row["failed"] = row["errors"] + row["warnings"] > 0
        return sorted(by_table.values(), key=lambda r: (-r["errors"], -r["warnings"], r["table_name"]))

    @property
    def gate_summary(self) -> list[Row]:
        """Per gate: checks, passed, failed errors and warnings, last validation time."""
        summary = []
        for gate in sorted({r["gate"] for r in self.gate_results}):
            checks = [r for r in self.gate_results if r["gate"] == gate]
            failed = [r for r in checks if not r["success"]]
            summary.append({
                "gate": gate,
                "checks": len(checks),
                "passed": len(checks) - len(failed),
                "errors": sum(1 for r in failed if r["severity"] == "error"),
                "warnings": sum(1 for r in failed if r["severity"] != "error"),
                "last_validated_at": max(r["validated_at"] for r in checks),
            })
        return summary

    @property
    def failed_checks(self) -> list[Row]:
        return [r for r in self.gate_results if not r["success"]]

    @property
    def failed_check_groups(self) -> list[CheckGroup]:
        """The failed checks, one row per gate, table, check and severity (errors first)."""
        return group_failures(self.gate_results)

    @property
    def files_needing_attention(self) -> list[Row]:
        """Files a steward should look at: rejects, schema drift, or counts that do not reconcile."""
        return [f for f in self.files if not f["balanced"] or f["rows_rejected"] or f["missing_columns"]
                or f["extra_columns"]]

    @property
    def gate_errors(self) -> list[Row]:
        return [r for r in self.gate_results if not r["success"] and r["severity"] == "error"]

    @property
    def verdict_reasons(self) -> list[str]:
        """Why the run did (not) publish, most decisive first."""
        reasons: list[str] = []
        if self.is_published:
            reasons.append(f"{len(self.published)} marts published to {self.serving_db}")
        failed_gates = sorted({r["gate"] for r in self.gate_errors})
        for gate in failed_gates:
            count = sum(1 for r in self.gate_errors if r["gate"] == gate)
            what = "the dbt tests" if gate == DBT_GATE else f"the {gate} quality gate"
            reasons.append(f"{what} failed: {count} error-severity check(s) did not pass")
        if self.unbalanced_files:
            reasons.append(
                f"{len(self.unbalanced_files)} file(s) break rows read = rows loaded + rows rejected + "
                "rows waiting"
            )
        if not self.is_published and not failed_gates:
            if not self.gate_results:
                reasons.append("no quality gate result was recorded: the run stopped before the gates")
            else:
                reasons.append("the quality gates passed, but the publish step did not complete")
        return reasons


def build_report(settings: Settings, run_id: str) -> Path:
    """Write reports/runs/<run_id>.html and the same report as reports/run_report.html; return the first."""
    check_run_id(run_id)
    report = collect_report(settings, run_id)
    run_page = settings.run_report(run_id)
    latest_page = settings.latest_report
    run_page.parent.mkdir(parents=True, exist_ok=True)
    run_page.write_text(render_report(report, run_page, settings.data_docs_dir), encoding="utf-8")
    temporary = latest_page.with_name(latest_page.name + ".tmp")
    temporary.write_text(render_report(report, latest_page, settings.data_docs_dir), encoding="utf-8")
    os.replace(temporary, latest_page)
    return run_page


def render_report(report: RunReport, page: Path, data_docs_dir: Path) -> str:
    """The page's HTML; the Data Docs link is relative to where the page is written."""
    docs_index = data_docs_dir / "index.html"
    data_docs_href = None
    if docs_index.exists():
        data_docs_href = quote(Path(os.path.relpath(docs_index, start=page.parent)).as_posix())
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    return environment.get_template(REPORT_TEMPLATE).render(
        report=report, data_docs_href=data_docs_href, local_time=_local_time(report.business_tz)
    )


def collect_report(settings: Settings, run_id: str) -> RunReport:
    report = RunReport(
        run_id=run_id,
        generated_at=datetime.now(UTC).replace(tzinfo=None),
        business_tz=settings.business_tz,
        warehouse_db=settings.warehouse_db,
        serving_db=settings.serving_db,
    )
    paths = {WAREHOUSE: settings.warehouse_db, SERVING: settings.serving_db}
    with connect(settings, IN_MEMORY) as con:
        db = _attach_read_only(con, report, paths)
        _collect_ingestion(db, report)
        _collect_rejects(db, report)
        _collect_gates(db, report)
        _collect_publish(db, report)
        report.sections = build_sections(db)
        report.history = collect_history(db, WAREHOUSE, SERVING, PUBLISH_LOG)
    report.trend_charts = trend_charts(report.history)
    return report


class _Databases:
    """One in-memory connection with the run's databases attached read-only, tolerant of absences."""

    def __init__(self, con: duckdb.DuckDBPyConnection, report: RunReport) -> None:
        self.con = con
        self.report = report
        self.attached: set[str] = set()

    def has(self, database: str, relation: str) -> bool:
        """Whether `schema.table` exists in an attached database (noting its absence on the page)."""
        schema, table = relation.split(".")
        found = database in self.attached and relation_exists(self.con, schema, table, database)
        note = f"{relation} does not exist in the {database} database"
        if not found and database in self.attached and note not in self.report.notes:
            self.report.notes.append(note)
        return found

    def rows(self, sql: str, params: list[Any] | dict[str, Any] | None = None) -> list[Row]:
        cursor = self.con.execute(sql, params or [])
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]


def _attach_read_only(
    con: duckdb.DuckDBPyConnection, report: RunReport, paths: dict[str, Path]
) -> _Databases:
    """The databases that exist and open, attached read-only; a note on the report for each other."""
    databases = _Databases(con, report)
    for alias, path in paths.items():
        if not path.exists():
            report.notes.append(f"the {alias} database {path} does not exist")
            continue
        try:
            attach(con, path, alias)
        except duckdb.Error as error:
            report.notes.append(f"the {alias} database {path} could not be opened: {error}")
            continue
        databases.attached.add(alias)
    return databases


def _collect_ingestion(db: _Databases, report: RunReport) -> None:
    if not db.has(WAREHOUSE, "audit.load_manifest"):
        return
    report.files = db.rows(
        f"""
        SELECT table_name, path, file_format, status, rows_read, rows_loaded, rows_rejected, rows_waiting,
               missing_columns, extra_columns, loaded_at,
               coalesce(rows_read = rows_loaded + rows_rejected + rows_waiting, false) AS balanced
        FROM {WAREHOUSE}.audit.load_manifest
        WHERE batch_id = ? OR (rows_waiting > 0 AND status <> 'withdrawn')
        ORDER BY table_name, path
        """,
        [report.run_id],
    )


def _collect_rejects(db: _Databases, report: RunReport) -> None:
    if not db.has(WAREHOUSE, "audit.rejects"):
        return
    report.reject_counts = db.rows(
        f"""
        SELECT table_name, column_name, reason, count(*) AS rejects
        FROM {WAREHOUSE}.audit.rejects
        WHERE batch_id = ?
        GROUP BY ALL
        ORDER BY rejects DESC, table_name, column_name, reason
        """,
        [report.run_id],
    )
    samples = db.rows(
        f"""
        SELECT table_name, path, line, column_name, reason, raw_value
        FROM {WAREHOUSE}.audit.rejects
        WHERE batch_id = ?
        ORDER BY table_name, path, line, column_name
        LIMIT {REJECT_SAMPLE_SIZE}
        """,
        [report.run_id],
    )
    report.reject_samples = [
        {
            "path": s["path"],
            "line": s["line"],
            "column_name": s["column_name"],
            "reason": mask_personal_content(s["reason"]),
            "raw_value": shown_raw_value(s["table_name"], s["column_name"], s["raw_value"]),
        }
        for s in samples
    ]


def shown_raw_value(table: str, column: str | None, raw_value: str | None) -> str | None:
    """The raw value as the report may show it: masked when it is (or may hold) personal data
    (`ecom.redaction.masks_value`: by its column or by its content), else cut to RAW_VALUE_MAX_CHARS."""
    if raw_value is None:
        return None
    if masks_value(table, column, raw_value):
        return MASKED
    return raw_value if len(raw_value) <= RAW_VALUE_MAX_CHARS else raw_value[:RAW_VALUE_MAX_CHARS] + "…"


def _collect_gates(db: _Databases, report: RunReport) -> None:
    if not db.has(WAREHOUSE, "audit.validation_results"):
        return
    results = db.rows(
        f"""
        SELECT gate, suite, table_name, file_path, expectation, column_name, severity, success,
               observed, message, as_of, validated_at
        FROM {WAREHOUSE}.audit.validation_results
        WHERE run_id = ?
        """,
        [report.run_id],
    )
    results.sort(
        key=lambda r: (
            bool(r["success"]),
            SEVERITY_ORDER.get(r["severity"], len(SEVERITY_ORDER)),
            r["gate"] or "",
            r["table_name"] or "",
            r["file_path"] or "",
            r["expectation"] or "",
        )
    )
    for result in results:
        result["label"] = check_label(result["suite"], result["expectation"], result["column_name"])
        # a check's message or observation may quote a landed value
        result["message"] = safe_text(result["message"]) if result["message"] else result["message"]
        result["observed"] = safe_text(str(result["observed"])) if result["observed"] is not None else None
    report.gate_results = results
    report.as_of = max((r["as_of"] for r in results if r["as_of"] is not None), default=report.as_of)


def _collect_publish(db: _Databases, report: RunReport) -> None:
    if not db.has(SERVING, PUBLISH_LOG):
        return
    report.published = db.rows(
        f"""
        SELECT mart, row_count, note, as_of, published_at
        FROM {SERVING}.{PUBLISH_LOG}
        WHERE run_id = ?
        ORDER BY mart
        """,
        [report.run_id],
    )
    if report.published:
        report.as_of = report.as_of or report.published[0]["as_of"]
    served = db.rows(
        f"""
        SELECT run_id, as_of, published_at FROM {SERVING}.{PUBLISH_LOG}
        ORDER BY published_at DESC LIMIT 1
        """
    )
    report.served_run = served[0] if served else None


def _local_time(business_tz: str) -> Callable[[datetime | None], str]:
    zone = ZoneInfo(business_tz)

    def local_time(moment: datetime | None) -> str:
        """A timestamp (naive = UTC) as 'UTC time (business time zone time)'."""
        if moment is None:
            return ""
        utc = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
        return f"{utc:%Y-%m-%d %H:%M:%S} UTC ({utc.astimezone(zone):%Y-%m-%d %H:%M} {business_tz})"

    return local_time
