"""A checksum per published mart, independent of row order: did two runs publish the same marts?

Per table of schema `marts` of a serving file: its columns with their types, its row count, and the md5
of the sorted md5s of its rows (each row as text, columns in order, so a changed type, value or column
order changes the checksum). Floating-point columns are printed to 12 significant digits first: DuckDB
sums doubles in parallel, in no fixed order, so two runs of the same code can differ in the last bits
(about 1e-15); every other type is compared exactly. `benchmarks/mart_checksums.py` compares two
builds with it, `tests/end_to_end/test_kill_and_rerun.py` a killed and rerun warehouse with a clean one.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

FLOAT_TYPES = {"DOUBLE", "FLOAT"}


def mart_checksums(serving_db: Path) -> dict[str, dict[str, object]]:
    """{mart: {"columns": [name type, ...], "rows": n, "md5": hex}} for every table of schema marts of
    `serving_db`, opened read-only."""
    with duckdb.connect(str(serving_db), read_only=True) as con:
        marts = [name for (name,) in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts' ORDER BY 1"
        ).fetchall()]
        result: dict[str, dict[str, object]] = {}
        for mart in marts:
            described = con.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = 'marts' AND table_name = ? ORDER BY ordinal_position", [mart]
            ).fetchall()
            cells = ", ".join(
                f"printf('%.12g', \"{name}\")" if kind in FLOAT_TYPES else f'CAST("{name}" AS VARCHAR)'
                for name, kind in described
            )
            [(rows, digest)] = con.execute(
                f"SELECT count(*), md5(coalesce(string_agg(row_md5, '' ORDER BY row_md5), '')) "
                f'FROM (SELECT md5(CAST(row({cells}) AS VARCHAR)) AS row_md5 FROM marts."{mart}")'
            ).fetchall()
            columns = [f"{name} {kind}" for name, kind in described]
            result[mart] = {"columns": columns, "rows": rows, "md5": digest}
    return result
