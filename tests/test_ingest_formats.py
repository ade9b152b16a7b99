"""The demo shop in every landing format: `ecom generate --format csv|parquet|jsonl` loads every row,
and a landing of Parquet and JSON-lines files runs through every step to the same marts as CSV.

The generator writes daily `dt=YYYY-MM-DD` folders: layout, never a column (no hive partitioning).
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest

from ecom import cli
from ecom.config import Settings
from ecom.contract import load_contract
from ecom.direct_run import run_steps
from ecom.generate import generate_shop
from ecom.generate.writer import FORMATS
from ecom.ingest import ingest
from ecom.ingest.layers import LINEAGE_COLUMNS
from published_marts import published_checksums

pytestmark = pytest.mark.slow(80)

LAST_DAY = date(2026, 6, 30)
CONTRACT = load_contract()
LINEAGE = ", ".join(name for name, _ in LINEAGE_COLUMNS)


@pytest.fixture(scope="module")
def shops(tmp_path_factory) -> dict[str, tuple[Path, dict[str, int]]]:
    """The same tiny shop (seed, size) written in each format, with the rows generated per table."""
    root = tmp_path_factory.mktemp("formats")
    shops = {}
    for fmt in FORMATS:
        summary = generate_shop(out=root / fmt, customers=40, days=7, seed=5, fmt=fmt, end_date=LAST_DAY)
        shops[fmt] = (root / fmt, dict(summary.rows))
    return shops


def raw_rows(settings: Settings, table: str) -> list[tuple]:
    with duckdb.connect(str(settings.warehouse_db), read_only=True) as con:
        return con.execute(f"SELECT * EXCLUDE ({LINEAGE}) FROM raw_pending.{table} ORDER BY ALL").fetchall()


def test_the_cli_offers_every_format_the_generator_writes() -> None:
    assert cli.FORMAT_NAMES == FORMATS


@pytest.mark.parametrize("fmt", ["parquet", "jsonl"])
def test_every_generated_row_of_every_format_loads_and_its_folders_add_no_column(
        shops, tmp_path: Path, fmt: str) -> None:
    landing, generated = shops[fmt]
    settings = Settings(landing_dir=landing, warehouse_dir=tmp_path / fmt)
    csv_settings = Settings(landing_dir=shops["csv"][0], warehouse_dir=tmp_path / "csv")

    result = ingest(settings, "b1")
    ingest(csv_settings, "b1")

    assert {name: t.rows_read for name, t in result.tables.items()} == {
        name: rows for name, rows in generated.items() if rows}
    assert (result.rows_loaded, result.rows_rejected) == (sum(generated.values()), 0)
    with duckdb.connect(str(settings.warehouse_db), read_only=True) as con:
        columns = con.execute("SELECT DISTINCT table_name, columns_present, extra_columns "
                              "FROM audit.load_manifest ORDER BY 1").fetchall()
    assert columns == [(t, CONTRACT.table(t).column_names, []) for t in sorted(result.tables)]
    for table in result.tables:
        assert raw_rows(settings, table) == raw_rows(csv_settings, table), table


def test_a_landing_of_parquet_and_json_lines_files_publishes_the_marts_of_its_csv_twin(
        shops, tmp_path: Path) -> None:
    mixed = tmp_path / "mixed"
    for position, table in enumerate(CONTRACT.tables):  # every other table in each format
        source = shops["parquet" if position % 2 else "jsonl"][0] / table
        if source.is_dir():
            shutil.copytree(source, mixed / table)
    runs = {}
    for name, landing in (("mixed", mixed), ("csv", shops["csv"][0])):
        settings = Settings(landing_dir=landing, warehouse_dir=tmp_path / f"warehouse_{name}")
        steps = run_steps(settings, LAST_DAY.isoformat(), run_id=f"formats_{name}")
        assert list(steps) == [
            "ingest", "raw_quality_gate", "source_freshness", "dbt_build", "mart_quality_gate", "publish"]
        runs[name] = published_checksums(settings.serving_db)

    assert len(runs["mixed"]) == 14
    assert runs["mixed"] == runs["csv"]
