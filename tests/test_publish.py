"""publish: write-audit-publish of the warehouse marts onto serving.duckdb, by one atomic rename."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

import client_envs
import fake_marts
from ecom import publish as publish_module
from ecom.config import Settings
from ecom.dbt_manifest import manifest_path, mart_source_requirements
from ecom.publish import (
    NothingToPublishError,
    PersonalDataError,
    empty_mart_note,
    publish,
)
from fake_marts import DESCRIPTIONS, in_warehouse, leftovers, sha256

AS_OF = date(2024, 3, 31)
TOUCHPOINTS_MISSING = "empty: needs raw table touchpoints, which has not landed"


@pytest.fixture
def settings(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    return fake_marts.seed(settings, tmp_path, monkeypatch)


def test_publish_copies_rows_types_and_constraints(settings: Settings) -> None:
    result = publish(settings, "run-1", AS_OF)

    assert result.path == settings.serving_db
    assert result.row_counts == {"channel_attribution": 0, "cohort_retention": 3, "customer_portrait": 3}
    assert leftovers(settings) == []
    with duckdb.connect(str(settings.serving_db), read_only=True) as con:
        assert con.execute("SELECT * FROM marts.customer_portrait ORDER BY customer_id").fetchall() == [
            ("00017", 2, Decimal("120.50"), date(2024, 1, 5), ["search", "social"]),
            ("c2", 1, Decimal("0.00"), date(2024, 2, 11), ["direct"]),
            ("c3", 3, None, None, []),
        ]
        assert con.execute(
            "SELECT column_name, data_type, is_nullable FROM duckdb_columns() "
            "WHERE schema_name = 'marts' AND table_name = 'customer_portrait' ORDER BY column_index"
        ).fetchall() == [
            ("customer_id", "VARCHAR", False),
            ("order_count", "BIGINT", False),
            ("revenue", "DECIMAL(18,2)", True),
            ("first_order_date", "DATE", True),
            ("channels", "VARCHAR[]", True),
        ]
        assert con.execute(
            "SELECT constraint_text FROM duckdb_constraints() "
            "WHERE table_name = 'customer_portrait' AND constraint_type = 'PRIMARY KEY'"
        ).fetchall() == [("PRIMARY KEY(customer_id)",)]
        assert con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables ORDER BY ALL"
        ).fetchall() == [
            ("marts", "channel_attribution"),
            ("marts", "cohort_retention"),
            ("marts", "customer_portrait"),
            ("meta", "publish_log"),
        ]
        assert con.execute(
            "SELECT run_id, as_of, mart, row_count, note FROM meta.publish_log ORDER BY mart"
        ).fetchall() == [
            ("run-1", AS_OF, "channel_attribution", 0, TOUCHPOINTS_MISSING),
            ("run-1", AS_OF, "cohort_retention", 3, None),
            ("run-1", AS_OF, "customer_portrait", 3, None),
        ]
        (published_at,) = con.execute("SELECT DISTINCT published_at FROM meta.publish_log").fetchone()
    assert published_at == result.published_at
    assert "customer_portrait: 3 rows" in result.describe()
    assert "channel_attribution: 0 rows (empty: needs raw table touchpoints" in result.describe()


READ_EVERY_MART = """
import duckdb, json, sys
with duckdb.connect(sys.argv[1], read_only=True) as con:
    tables = con.execute("SELECT table_schema, table_name FROM information_schema.tables ORDER BY ALL")
    rows = {f"{s}.{t}": con.execute(f'SELECT * FROM "{s}"."{t}" ORDER BY ALL').fetchall()
            for s, t in tables.fetchall()}
print(json.dumps({"version": duckdb.__version__, "rows": rows}, default=str))
"""


def test_the_oldest_duckdb_client_reads_every_published_table(settings: Settings) -> None:
    publish(settings, "run-1", AS_OF)

    read = client_envs.run("duckdb_oldest", READ_EVERY_MART, str(settings.serving_db))

    assert read["version"] == client_envs.pins("duckdb_oldest")["duckdb"] < "2"
    with duckdb.connect(str(settings.serving_db), read_only=True) as con:
        tables = con.execute("SELECT table_schema, table_name FROM information_schema.tables ORDER BY ALL")
        ours = {f"{s}.{t}": con.execute(f'SELECT * FROM "{s}"."{t}" ORDER BY ALL').fetchall()
                for s, t in tables.fetchall()}
    assert json.loads(json.dumps(ours, default=str)) == read["rows"]
    assert len(read["rows"]["marts.customer_portrait"]) == 3


def test_every_table_and_column_carries_its_dbt_description(settings: Settings) -> None:
    publish(settings, "run-1", AS_OF)

    with duckdb.connect(str(settings.serving_db), read_only=True) as con:
        tables = dict(con.execute(
            "SELECT table_name, comment FROM duckdb_tables() WHERE schema_name = 'marts'").fetchall())
        columns = con.execute(
            "SELECT table_name, column_name, comment FROM duckdb_columns() WHERE schema_name = 'marts'"
        ).fetchall()
        log = con.execute(
            "SELECT column_name, comment FROM duckdb_columns() WHERE schema_name = 'meta'").fetchall()
        (log_description,) = con.execute(
            "SELECT comment FROM duckdb_tables() WHERE schema_name = 'meta'").fetchall()
    assert tables == {"channel_attribution": "Credit per channel.", "cohort_retention": "Cohorts by month.",
                      "customer_portrait": "One row per customer."}
    assert len(columns) == 13
    for table, column, comment in columns:
        assert comment == " ".join(DESCRIPTIONS[table][1][column].split()), (table, column)
    assert dict(columns_of("customer_portrait", columns))["revenue"] == "What they spent, in CNY."
    assert [name for name, _ in log] == ["run_id", "as_of", "published_at", "mart", "row_count", "note"]
    assert all(comment for _, comment in log) and log_description[0].startswith("One row per mart")


def columns_of(table: str, columns: list[tuple[str, str, str]]) -> list[tuple[str, str]]:
    return [(column, comment) for name, column, comment in columns if name == table]


def test_empty_mart_note_says_landed_when_raw_tables_are_there(settings: Settings) -> None:
    in_warehouse(settings, "CREATE TABLE raw.touchpoints (touchpoint_id VARCHAR)")

    result = publish(settings, "run-1", AS_OF)

    assert result.empty_notes == {
        "channel_attribution": "empty: its raw tables (orders, touchpoints) have landed, but no rows qualify"
    }


def test_empty_mart_notes_in_words() -> None:
    requirements = {"a": ["orders", "touchpoints", "marketing_spend"], "b": []}
    assert (
        empty_mart_note("a", requirements, {"orders"})
        == "empty: needs raw tables touchpoints, marketing_spend, which have not landed"
    )
    assert empty_mart_note("b", requirements, set()) == "empty: no rows qualify"
    assert empty_mart_note("c", requirements, set()) == (
        "empty: the dbt manifest does not say which raw tables this mart needs"
    )


def test_requirements_come_from_the_manifest_of_the_project_the_pipeline_runs(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert mart_source_requirements(manifest_path(tmp_path / "dbt_project")) == {
        "customer_portrait": ["customers", "orders"],
        "cohort_retention": ["customers", "orders"],
        "channel_attribution": ["orders", "touchpoints"],
    }

    monkeypatch.setenv("ECOM_DBT_PROJECT_DIR", str(tmp_path / "elsewhere"))
    assert mart_source_requirements(manifest_path(tmp_path / "elsewhere")) == {}
    result = publish(settings, "run-1", AS_OF)
    assert result.empty_notes == {
        "channel_attribution": "empty: the dbt manifest does not say which raw tables this mart needs"
    }


def test_publish_log_keeps_history_across_publishes(settings: Settings) -> None:
    first = publish(settings, "run-1", AS_OF)
    in_warehouse(settings, "INSERT INTO marts.channel_attribution VALUES ('search', 'last_touch', 1, 10.00)")

    second = publish(settings, "run-2", date(2024, 4, 1))

    with duckdb.connect(str(settings.serving_db), read_only=True) as con:
        log = con.execute(
            "SELECT run_id, as_of, published_at, mart, row_count, note FROM meta.publish_log "
            "ORDER BY published_at, mart"
        ).fetchall()
    assert log == [
        ("run-1", AS_OF, first.published_at, "channel_attribution", 0, TOUCHPOINTS_MISSING),
        ("run-1", AS_OF, first.published_at, "cohort_retention", 3, None),
        ("run-1", AS_OF, first.published_at, "customer_portrait", 3, None),
        ("run-2", date(2024, 4, 1), second.published_at, "channel_attribution", 1, None),
        ("run-2", date(2024, 4, 1), second.published_at, "cohort_retention", 3, None),
        ("run-2", date(2024, 4, 1), second.published_at, "customer_portrait", 3, None),
    ]
    assert isinstance(second.published_at, datetime) and second.published_at > first.published_at


READ_SERVING = """
import duckdb, sys
with duckdb.connect(sys.argv[1], read_only=True) as con:
    print(con.execute("SELECT count(*) FROM marts.cohort_retention").fetchone()[0],
          con.execute("SELECT string_agg(DISTINCT run_id, ',' ORDER BY run_id) "
                      "FROM meta.publish_log").fetchone()[0])
"""


def test_reader_keeps_the_old_version_and_new_readers_get_the_new_one(settings: Settings) -> None:
    publish(settings, "run-1", AS_OF)
    old_reader = duckdb.connect(str(settings.serving_db), read_only=True)
    try:
        assert old_reader.execute("SELECT count(*) FROM marts.cohort_retention").fetchone() == (3,)
        in_warehouse(settings, "DELETE FROM marts.cohort_retention WHERE period_index = 1")

        publish(settings, "run-2", AS_OF)

        # The reader that opened before the rename still sees run-1 only, in every table.
        assert old_reader.execute("SELECT count(*) FROM marts.cohort_retention").fetchone() == (3,)
        assert old_reader.execute("SELECT DISTINCT run_id FROM meta.publish_log").fetchall() == [("run-1",)]
        # A reader opening the path now (another process, like BI) sees run-2 whole.
        fresh = subprocess.run(
            [sys.executable, "-c", READ_SERVING, str(settings.serving_db)],
            capture_output=True, text=True, check=True,
        )
        assert fresh.stdout.split() == ["2", "run-1,run-2"]
    finally:
        old_reader.close()
    with duckdb.connect(str(settings.serving_db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM marts.cohort_retention").fetchone() == (2,)


def fail_before_rename(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> type[BaseException]:
    def broken_fsync(path: Path) -> None:
        raise OSError(f"disk full while syncing {path}")

    monkeypatch.setattr(publish_module, "_fsync_file", broken_fsync)
    return OSError


def mart_fails_while_copying(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> type[BaseException]:
    in_warehouse(settings, "CREATE VIEW marts.zz_broken AS SELECT CAST('not a number' AS INTEGER) AS n")
    return duckdb.ConversionException


@pytest.mark.parametrize("failure", [fail_before_rename, mart_fails_while_copying])
def test_failure_before_rename_leaves_serving_db_untouched(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, failure
) -> None:
    publish(settings, "run-1", AS_OF)
    before = sha256(settings.serving_db)
    in_warehouse(settings, "DELETE FROM marts.customer_portrait")
    expected_error = failure(settings, monkeypatch)

    with pytest.raises(expected_error):
        publish(settings, "run-2", AS_OF)

    assert sha256(settings.serving_db) == before
    assert leftovers(settings) == []


def test_personal_column_is_refused(settings: Settings) -> None:
    in_warehouse(settings, "ALTER TABLE marts.customer_portrait ADD COLUMN Email VARCHAR")

    with pytest.raises(PersonalDataError, match=r"marts\.customer_portrait\.Email .*customers\.email"):
        publish(settings, "run-1", AS_OF)

    assert not settings.serving_db.exists()
    assert leftovers(settings) == []


def test_nothing_to_publish_is_an_error(settings: Settings) -> None:
    in_warehouse(settings, "DROP SCHEMA marts CASCADE")

    with pytest.raises(NothingToPublishError, match="no relation in schema marts"):
        publish(settings, "run-1", AS_OF)


def test_run_id_must_be_a_plain_file_name_component(settings: Settings) -> None:
    with pytest.raises(ValueError, match="cannot be used in a file name"):
        publish(settings, "../escape", AS_OF)
