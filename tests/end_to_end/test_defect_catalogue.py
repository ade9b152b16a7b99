"""The whole defect catalogue through `ecom run`: every outcome as the manifest says, nothing lost.

One run on a small generated shop with every catalogue defect injected (`ecom generate --defects`):
the run must stop at the raw gate (so nothing is published), quarantine exactly the rows the
manifest lists with their reasons, fail exactly the error checks the stop defects and the
quarantine-share limit call for, load the tolerated defects as intended, and reconcile every file.
The steward report of that run is then rendered in headless Chromium. Then the steward releases
the rows by re-landing: every defective file is replaced in place by its correct version (the same
shop generated without defects) and the added files are removed; the second run must publish, with
every row of the correct shop loaded and no reject left, and its report shows both runs.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import defaultdict
from datetime import date
from pathlib import Path

import duckdb
import pytest

from chromium_page import render
from ecom.generate import generate_shop
from ecom.generate.defects import reland_corrected
from ecom.quality.config import load_quality_config

pytestmark = [pytest.mark.e2e, pytest.mark.slow(160)]

ECOM = str(Path(sys.executable).with_name("ecom"))
AS_OF = "2026-06-30"


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> Path:
    landing = tmp_path_factory.mktemp("defect_landing")
    subprocess.run(
        [
            ECOM,
            "generate",
            "--out",
            str(landing),
            "--customers",
            "200",
            "--days",
            "60",
            "--seed",
            "11",
            "--end-date",
            AS_OF,
            "--defects",
        ],
        check=True,
        capture_output=True,
    )
    return landing


@pytest.fixture(scope="module")
def manifest(landing: Path) -> dict:
    return json.loads((landing / "_defects" / "manifest.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def warehouse(landing: Path, tmp_path_factory) -> Path:
    warehouse = tmp_path_factory.mktemp("defect_warehouse")
    done = ecom_run(landing, warehouse)
    assert done.returncode != 0, "a landing with stop defects must not publish:\n" + done.stdout + done.stderr
    return warehouse


def ecom_run(landing: Path, warehouse: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [ECOM, "run", "--landing", str(landing), "--warehouse", str(warehouse), "--as-of", AS_OF],
        capture_output=True,
        text=True,
        timeout=900,
    )


def query(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse / "warehouse.duckdb"), read_only=True) as con:
        return con.sql(sql).fetchall()


def rows_per_file(warehouse: Path, schema: str, table: str) -> dict[str, int]:
    """Rows of <schema>.<table> per file id (none when the relation does not exist)."""
    exists = query(warehouse, "select count(*) from information_schema.tables "
                              f"where table_schema = '{schema}' and table_name = '{table}'")
    if exists == [(0,)]:
        return {}
    return dict(query(warehouse, f"select _file_id, count(*) from {schema}.{table} group by all"))


def by_kind(manifest: dict, outcome: str) -> list[dict]:
    return [d for d in manifest["defects"] if d["outcome"] == outcome]


def data_records(path: Path) -> int:
    """Records in a landed CSV file, counted independently of ingestion: non-blank physical lines but the
    header (the generator writes no field with a line break)."""
    lines = [line for line in path.read_bytes().split(b"\n") if line.strip()]
    return max(len(lines) - 1, 0)


def test_the_catalogue_has_at_least_twenty_kinds(manifest: dict) -> None:
    kinds = {d["kind"] for d in manifest["defects"]}
    assert len(kinds) == len(manifest["defects"]) >= 20
    assert {d["outcome"] for d in manifest["defects"]} == {"quarantine", "stop", "load"}


def test_exactly_the_listed_rows_are_quarantined_with_their_reason(manifest: dict, warehouse: Path) -> None:
    rejects = defaultdict(list)
    for path, line, reason in query(warehouse, "select path, line, reason from audit.rejects"):
        rejects[(path, line)].append(reason)
    expected = {(d["path"], line): d for d in by_kind(manifest, "quarantine") for line in d["lines"]}
    assert set(rejects) == set(expected)
    for key, defect in expected.items():
        assert any(defect["reason"] in reason for reason in rejects[key]), (defect["kind"], rejects[key])


def test_the_run_stops_on_exactly_the_expected_error_checks(
    manifest: dict, landing: Path, warehouse: Path
) -> None:
    failed = query(
        warehouse,
        "select suite, table_name, file_path, message from audit.validation_results "
        "where not success and severity = 'error'",
    )
    stop_defects = by_kind(manifest, "stop")
    for defect in stop_defects:
        for check in defect["checks"]:
            matching = [
                f
                for f in failed
                if f[0] == check and f[1] == defect["table"] and (f[2] == defect["path"] or f[2] is None)
            ]
            assert matching, (check, defect)
    volume = next(d for d in stop_defects if d["kind"] == "low_volume_day")
    assert next(f[3] for f in failed if f[0] == "raw_gate.daily_volume").startswith(
        f"events: {data_records(landing / volume['path'])} rows on {volume['expect']['day']}"
    )

    # The quarantine-share limit, judged independently: quarantined lines of the manifest per table.
    read = dict(query(warehouse, "select table_name, sum(rows_read) from audit.load_manifest group by all"))
    quarantined = defaultdict(int)
    for defect in by_kind(manifest, "quarantine"):
        quarantined[defect["table"]] += len(defect["lines"])
    limit = load_quality_config().max_quarantine_share
    over_limit = {table for table, rows in quarantined.items() if rows / read[table] > limit}
    assert over_limit  # the catalogue exercises the limit
    expected_suites = {(check, d["table"]) for d in stop_defects for check in d["checks"]} | {
        ("raw_gate.quarantine_share", table) for table in over_limit
    }
    assert {(f[0], f[1]) for f in failed} == expected_suites


def test_nothing_is_lost_every_file_reconciles(landing: Path, warehouse: Path) -> None:
    files = query(
        warehouse,
        "select path, rows_read, rows_loaded, rows_rejected, rows_waiting, file_id, table_name "
        "from audit.load_manifest",
    )
    landed = {p.relative_to(landing).as_posix() for p in landing.rglob("*.csv") if "_defects" not in p.parts}
    assert {f[0] for f in files} == landed
    rejects = dict(query(warehouse, "select file_id, count(distinct line) from audit.rejects group by all"))
    pending: dict[str, int] = {}
    waiting: dict[str, int] = {}
    for table in {f[6] for f in files}:
        pending |= rows_per_file(warehouse, "raw_pending", table)
        waiting |= rows_per_file(warehouse, "raw_waiting", table)
    for path, read, loaded, rejected, waits, file_id, _ in files:
        assert read == loaded + rejected + waits == data_records(landing / path), path
        assert (rejects.get(file_id, 0), pending.get(file_id, 0), waiting.get(file_id, 0)) == (
            rejected, loaded, waits), path


def test_tolerated_defects_load_as_intended(manifest: dict, warehouse: Path) -> None:
    loads = {d["kind"]: d for d in by_kind(manifest, "load")}
    times = loads["mixed_timezone_offsets"]["expect"]["utc_occurred_at"]
    got = dict(
        query(
            warehouse,
            "select event_id, strftime(occurred_at, '%Y-%m-%d %H:%M:%S') "
            "from raw_pending.events where event_id in "
            f"({', '.join(repr(e) for e in times)})",
        )
    )
    assert got == times
    bom = loads["utf8_byte_order_mark"]["expect"]
    ids = query(
        warehouse,
        f"select customer_id from raw_pending.customers where customer_id in "
        f"({', '.join(repr(c) for c in bom['customer_ids'])})",
    )
    assert len(ids) == bom["rows_loaded"]
    late = loads["late_arriving_rows"]
    assert (
        len(
            query(
                warehouse,
                "select 1 from raw_pending.events where event_id in "
                f"({', '.join(repr(e) for e in late['expect']['event_ids'])})",
            )
        )
        == 3
    )
    [(severity, file_path)] = query(
        warehouse,
        "select severity, file_path from audit.validation_results "
        "where suite = 'raw_gate.late_rows' and not success",
    )
    assert (severity, file_path) == ("warning", late["path"])
    channel = loads["unknown_channel"]["expect"]
    assert query(
        warehouse,
        f"select channel from raw_pending.touchpoints where touchpoint_id = '{channel['touchpoint_id']}'",
    ) == [(channel["channel"],)]
    [(severity, table, column, message)] = query(
        warehouse,
        "select severity, table_name, column_name, message from audit.validation_results "
        f"where suite = '{channel['warning_check']}' and not success",
    )
    assert (severity, table, column) == ("warning", "touchpoints", "channel")
    assert f"1 new row(s) hold '{channel['channel']}'" in message


def test_nothing_was_published(warehouse: Path) -> None:
    assert not (warehouse / "serving.duckdb").exists()


def test_the_steward_report_renders_offline_in_chromium(
    warehouse: Path, manifest: dict, tmp_path: Path
) -> None:
    report = warehouse / "reports" / "run_report.html"
    page = render(report, tmp_path / "steward_report.png")
    assert page.console == []
    assert "Not published" in page.text
    [(read, quarantined)] = query(
        warehouse, "select sum(rows_read), sum(rows_rejected) from audit.load_manifest"
    )
    assert f"{read} rows read · {quarantined} rows quarantined" in page.text
    for defect in by_kind(manifest, "stop"):
        assert defect["path"] in page.text or defect["checks"][0] in page.text
    with open(report, encoding="utf-8") as f:
        html = f.read()
    assert "http://" not in html and "https://" not in html
    assert page.screenshot.stat().st_size > 10_000


@pytest.fixture(scope="module")
def released(
    landing: Path, warehouse: Path, tmp_path_factory
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """The steward re-lands every defective file corrected (the first run's tests have run by then)."""
    correct = tmp_path_factory.mktemp("correct_landing")
    generate_shop(out=correct, customers=200, days=60, seed=11, end_date=date.fromisoformat(AS_OF))
    reland_corrected(landing, correct)
    return correct, ecom_run(landing, warehouse)


def test_relanding_the_corrected_files_releases_every_row_and_publishes(released, warehouse: Path) -> None:
    correct, run = released
    assert run.returncode == 0, run.stdout + run.stderr
    # No reject is left on a landed file; a withdrawn file (the GBK re-send) keeps its rejects, which its
    # manifest row counts (rows read = loaded + rejected holds for it too).
    assert query(warehouse, "select count(*) from audit.rejects join audit.load_manifest using (file_id) "
                            "where status <> 'withdrawn'") == [(0,)]
    for table_folder in correct.iterdir():
        records = sum(data_records(p) for p in table_folder.rglob("*.csv"))
        assert query(warehouse, f"select count(*) from raw.{table_folder.name}") == [(records,)], table_folder
    statuses = dict(query(warehouse, "select status, count(*) from audit.load_manifest group by all"))
    assert statuses["withdrawn"] == 3  # the empty, the header-only and the GBK re-sent file
    assert query(warehouse, "select count(*) from audit.load_manifest where status = 'pending'") == [(0,)]


def test_the_released_run_report_shows_both_runs(released, warehouse: Path, tmp_path: Path) -> None:
    page = render(warehouse / "reports" / "run_report.html", tmp_path / "released_report.png")
    assert page.console == []
    assert "Not published" not in page.text and "marts published to" in page.text
    runs = [run_id for (run_id,) in query(warehouse, "select distinct run_id from audit.validation_results")]
    assert len(runs) == 2
    assert all(run_id in page.text for run_id in runs)
