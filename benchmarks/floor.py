"""The floor: one DuckDB pass reading every raw column the marts use, straight from the landed CSV files.

No pipeline can produce the marts faster than it can read their inputs once; the full run is compared
with this. The tables are the raw sources upstream of the marts in the dbt manifest (events, used by
no mart today, is not read); their columns are the contract's non-personal columns (staging selects
no personal column). Every column is parsed to its contract type and aggregated, so none is skipped.

    python benchmarks/floor.py --landing DIR     prints the query's seconds and rows per table as JSON
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import duckdb

from ecom.config import DBT_PROJECT_DIR
from ecom.contract import load_contract
from ecom.dbt_manifest import manifest_path
from ecom.sql import identifier, literal

MARTS_SCHEMA = "marts"


def mart_source_tables(manifest: Path) -> list[str]:
    """Raw tables (source `shop`) that some mart depends on, directly or through other models."""
    document = json.loads(manifest.read_text(encoding="utf-8"))
    nodes = {**document["nodes"], **document["sources"]}
    pending = [key for key, node in document["nodes"].items()
               if node["resource_type"] == "model" and node["schema"] == MARTS_SCHEMA]
    seen: set[str] = set()
    tables = set()
    while pending:
        key = pending.pop()
        if key in seen or key not in nodes:
            continue
        seen.add(key)
        node = nodes[key]
        if node["resource_type"] == "source":
            tables.add(node["name"])
        pending.extend(node.get("depends_on", {}).get("nodes", []))
    return sorted(tables)


def floor_sql(landing: Path, tables: list[str]) -> str:
    """One statement: per table, over all its files, counts of rows and of every used column's values."""
    contract = load_contract()
    parts = []
    for table_name in tables:
        if not any((landing / table_name).rglob("*.csv")):
            continue  # not landed (yet): nothing to read, as the pipeline reads nothing of it
        table = contract.table(table_name)
        columns = [c for c in table.columns if not c.personal]
        types = ", ".join(f"{literal(c.name)}: {literal(c.storage_type)}" for c in columns)
        counts = " + ".join(f"count({identifier(c.name)})" for c in columns)
        glob = literal(str(landing / table_name / "**" / "*.csv"))
        parts.append(
            f"select {literal(table_name)} as table_name, count(*) as row_count, {counts} as value_count "
            f"from read_csv({glob}, header = true, types = {{{types}}})"
        )
    return "\nunion all\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--landing", required=True, type=Path)
    args = parser.parse_args(argv)
    tables = mart_source_tables(manifest_path(DBT_PROJECT_DIR))
    started = time.perf_counter()
    rows = duckdb.connect().sql(floor_sql(args.landing, tables)).fetchall()
    seconds = time.perf_counter() - started
    print(json.dumps({"compute_seconds": seconds, "rows": sum(r[1] for r in rows),
                      "tables": {r[0]: r[1] for r in rows}}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
