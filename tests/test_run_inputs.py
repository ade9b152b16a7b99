"""A run has nothing to do when its inputs equal those of the last publish (`ecom.run_inputs`)."""

from __future__ import annotations

import dataclasses
import os
from datetime import date
from pathlib import Path

import duckdb
import pytest

from ecom import run_inputs
from ecom.config import Settings
from ecom.warehouse import connect, ensure_audit_tables

AS_OF = date(2026, 6, 30)


def land(settings: Settings, file_id: str, status: str) -> None:
    """A row of audit.load_manifest for one landed file version."""
    with connect(settings) as con:
        ensure_audit_tables(con)
        con.execute(
            "INSERT INTO audit.load_manifest (file_id, table_name, path, size_bytes, sha256, file_format, "
            "columns_present, missing_columns, extra_columns, rows_read, rows_loaded, rows_rejected, "
            "batch_id, status, loaded_at) VALUES (?, 'orders', ?, 1, 'x', 'csv', [], [], [], 1, 1, 0, "
            "'b', ?, now())", [file_id, f"orders/{file_id}.csv", status])


def set_status(settings: Settings, file_id: str, status: str) -> None:
    with connect(settings) as con:
        con.execute("UPDATE audit.load_manifest SET status = ? WHERE file_id = ?", [status, file_id])


def publish(settings: Settings, run_id: str, as_of: date = AS_OF) -> None:
    """What publish leaves behind: a new serving database, then the record of its inputs."""
    settings.serving_db.unlink(missing_ok=True)
    duckdb.connect(str(settings.serving_db)).close()
    run_inputs.record_published(settings, run_id, as_of)


@pytest.fixture
def code(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The code files are two files of this test (the real ones are the repo's)."""
    folder = tmp_path / "code"
    folder.mkdir()
    (folder / "model.sql").write_text("select 1\n")
    (folder / "suite.json").write_text("{}\n")
    monkeypatch.setattr(run_inputs, "code_files", lambda: sorted(folder.iterdir()))
    return folder


@pytest.fixture
def published(settings: Settings, code: Path) -> Settings:
    land(settings, "f1", "accepted")
    land(settings, "f2", "accepted")
    publish(settings, "run-1")
    return settings


def test_same_inputs_nothing_new(published: Settings) -> None:
    assert run_inputs.unchanged_since_publish(published, AS_OF) == (
        f"nothing new since run run-1 (as of {AS_OF}): no file landed, the as-of date and the code are "
        f"unchanged, so {published.serving_db} keeps the marts it published"
    )


def test_a_file_withdrawn_before_it_was_accepted_changes_nothing(published: Settings) -> None:
    land(published, "f3", "pending")
    set_status(published, "f3", "withdrawn")
    assert run_inputs.unchanged_since_publish(published, AS_OF) is not None


def test_a_file_waiting_for_the_raw_gate_is_new(published: Settings) -> None:
    land(published, "f3", "pending")
    assert run_inputs.unchanged_since_publish(published, AS_OF) is None


def test_a_newly_accepted_file_is_new(published: Settings) -> None:
    land(published, "f3", "accepted")
    assert run_inputs.unchanged_since_publish(published, AS_OF) is None


def test_another_as_of_date_is_new(published: Settings) -> None:
    assert run_inputs.unchanged_since_publish(published, date(2026, 7, 1)) is None


def test_another_business_time_zone_is_new(published: Settings) -> None:
    elsewhere = Settings(landing_dir=published.landing_dir, warehouse_dir=published.warehouse_dir,
                         business_tz="Europe/Paris")
    assert run_inputs.unchanged_since_publish(elsewhere, AS_OF) is None


def test_another_publish_target_is_new(published: Settings) -> None:
    elsewhere = dataclasses.replace(published, serving_url="postgresql://bi:secret@db:5432/marts")
    assert run_inputs.unchanged_since_publish(elsewhere, AS_OF) is None
    publish(elsewhere, "run-2")
    assert run_inputs.unchanged_since_publish(elsewhere, AS_OF).startswith("nothing new since run run-2 ")
    assert "secret" not in published.published_inputs.read_text()  # a digest: the URL may hold a password


def test_changed_code_is_new(published: Settings, code: Path) -> None:
    (code / "model.sql").write_text("select 2\n")
    assert run_inputs.unchanged_since_publish(published, AS_OF) is None


def test_a_serving_database_publish_did_not_write_is_new(published: Settings) -> None:
    stat = published.serving_db.stat()
    os.utime(published.serving_db, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert run_inputs.unchanged_since_publish(published, AS_OF) is None
    published.serving_db.unlink()
    assert run_inputs.unchanged_since_publish(published, AS_OF) is None


def test_nothing_published_yet_is_new(settings: Settings, code: Path) -> None:
    land(settings, "f1", "accepted")
    assert run_inputs.unchanged_since_publish(settings, AS_OF) is None


def test_the_record_is_of_the_last_publish(published: Settings) -> None:
    land(published, "f3", "accepted")
    publish(published, "run-2")
    recorded = run_inputs.read_published(published)
    assert (recorded.run_id, recorded.inputs.as_of) == ("run-2", AS_OF.isoformat())
    assert run_inputs.unchanged_since_publish(published, AS_OF).startswith("nothing new since run run-2 ")


def test_code_digest_follows_names_and_contents_not_order(tmp_path: Path) -> None:
    a, b = tmp_path / "a.sql", tmp_path / "b.sql"
    a.write_text("select 1")
    b.write_text("select 2")
    digest = run_inputs.code_digest([a, b])

    assert run_inputs.code_digest([b, a]) == digest
    b.write_text("select 3")
    assert run_inputs.code_digest([a, b]) != digest
    b.write_text("select 2")
    assert run_inputs.code_digest([a, b]) == digest
    assert run_inputs.code_digest([a, b.rename(tmp_path / "c.sql")]) != digest


def test_code_files_cover_the_dbt_project_suites_and_package() -> None:
    from ecom.config import DBT_PROJECT_DIR, EXPECTATIONS_DIR

    files = set(run_inputs.code_files())
    assert DBT_PROJECT_DIR / "dbt_project.yml" in files
    assert any(path.is_relative_to(EXPECTATIONS_DIR) for path in files)
    assert Path(run_inputs.__file__) in files
    assert not any("__pycache__" in path.parts for path in files)
    assert not any(path.is_relative_to(DBT_PROJECT_DIR / "target") for path in files)
