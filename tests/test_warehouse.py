"""ecom.warehouse: how every connection is opened, and dbt sharing the pipeline's DuckDB configuration."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
from dbt.cli.main import dbtRunner

from ecom.config import DBT_PROJECT_DIR, Settings
from ecom.contract import load_contract
from ecom.dbt_manifest import environment
from ecom.ingest.layers import ensure_layer_table
from ecom.warehouse import AUDIT_DDL, IN_MEMORY, connect, duckdb_config, ensure_audit_tables

ORDERS = 200_000


def test_connections_share_the_configuration_and_the_business_time_zone(settings: Settings) -> None:
    settings = replace(settings, business_tz="Europe/Paris", duckdb_memory_limit="512MB")
    with connect(settings) as con, connect(settings) as again:  # one database, opened twice
        [(zone, limit, spill)] = con.execute(
            "select current_setting('TimeZone'), current_setting('memory_limit'), "
            "current_setting('temp_directory')"
        ).fetchall()
        assert again.execute("select current_setting('TimeZone')").fetchall() == [("Europe/Paris",)]
    assert (zone, limit) == ("Europe/Paris", "488.2 MiB")
    assert spill == duckdb_config(settings, settings.warehouse_db)["temp_directory"]
    with connect(settings, IN_MEMORY) as con:
        [(spill,)] = con.execute("select current_setting('temp_directory')").fetchall()
    assert spill == str(settings.duckdb_temp_directory / "in_memory.tmp")


def test_an_unknown_business_time_zone_is_named(settings: Settings) -> None:
    unknown = replace(settings, business_tz="Mars/Olympus")
    with pytest.raises(ValueError, match="ECOM_BUSINESS_TZ='Mars/Olympus' is not a known"), connect(unknown):
        pass

# What the staging models map their vocabulary columns through: the seed and its staging model.
VOCABULARY = ("shop_vocabulary", "stg_shop__vocabulary")


def test_dbt_keeps_building_after_a_model_spilled_to_disk(settings: Settings, tmp_path: Path) -> None:
    """With a memory limit far under the data, stg_shop__orders spills while dbt builds it; every later
    model of the same process must still build. (dbt-duckdb SETs a profile's `settings` on every cursor,
    and DuckDB refuses to switch temp_directory once it has been used: the models after the spill all
    failed with "Cannot switch temporary directory after the current one has been used".)"""
    settings = replace(settings, duckdb_memory_limit="60MB")
    with connect(settings) as con:  # as ingestion leaves the warehouse: raw tables, a modest orders table
        ensure_audit_tables(con)
        for table in load_contract().tables.values():
            ensure_layer_table(con, "raw", table)
        con.execute(
            "insert into raw.orders (order_id, customer_id, ordered_at, total_amount, _file_id, _line, "
            "_batch_id, _loaded_at) select 'o' || range, 'c' || (range % 1000), "
            "timestamp '2024-01-01' + to_seconds(range % 1000000), 1, 'f', range + 2, 'b', ? "
            f"from range({ORDERS})",
            [datetime(2024, 7, 1)],
        )
    spill_folder = Path(duckdb_config(settings, settings.warehouse_db)["temp_directory"])
    assert not spill_folder.exists()

    with environment(settings.as_env()):
        result = dbtRunner().invoke([
            "build", "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
            "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs"),
            "--vars", "{as_of_date: '2024-06-30'}", "--threads", "1",
            "--exclude-resource-type", "test", "--exclude-resource-type", "unit_test",
            "--select", *VOCABULARY, "stg_shop__customers", "stg_shop__orders", "stg_shop__products",
        ])

    assert result.exception is None, result.exception
    assert spill_folder.is_dir()  # DuckDB creates it when it first spills
    assert {(r.node.name, str(r.status)) for r in result.result} == {
        *((name, "success") for name in VOCABULARY),
        *((name, "success") for name in ("stg_shop__customers", "stg_shop__orders", "stg_shop__products")),
    }
    with connect(settings) as con:  # dbt-duckdb still holds the database: same configuration, shared
        assert con.execute("select count(*) from staging.stg_shop__orders").fetchall() == [(ORDERS,)]


def test_a_manifest_from_before_waiting_rows_is_rebuilt_with_its_rows(settings: Settings) -> None:
    """A warehouse whose manifest CHECKs rows_read = rows_loaded + rows_rejected gets rows_waiting and the
    check that counts it (DuckDB cannot alter a constraint), its rows kept."""
    old = AUDIT_DDL.replace("    rows_waiting BIGINT NOT NULL DEFAULT 0,\n", "").replace(
        "rows_loaded + rows_rejected + rows_waiting", "rows_loaded + rows_rejected")
    with connect(settings) as con:
        con.execute(old)
        con.execute(
            "INSERT INTO audit.load_manifest VALUES ('f1', 'orders', 'orders/o.csv', 10, 'aa', 'csv', "
            "[], [], [], 3, 2, 1, 'b1', 'pending', TIMESTAMP '2026-01-01 00:00:00', NULL)"
        )

    with connect(settings) as con:
        ensure_audit_tables(con)
        con.execute("UPDATE audit.load_manifest SET rows_loaded = 1, rows_waiting = 1")
        assert con.execute(
            "SELECT file_id, rows_read, rows_loaded, rows_rejected, rows_waiting, values_rounded "
            "FROM audit.load_manifest"
        ).fetchall() == [("f1", 3, 1, 1, 1, 0)]
        with pytest.raises(duckdb.ConstraintException):
            con.execute("UPDATE audit.load_manifest SET rows_waiting = 2")
