"""The raw quality gate alone: its seconds and peak memory, against one DuckDB scan of the same pending rows.

    python benchmarks/raw_gate.py --work DIR --landing LANDING --as-of YYYY-MM-DD [--code SRC]
    python benchmarks/raw_gate.py --work DIR --orders N [--code SRC]

1. DIR/warehouse: the landing ingested (once; reused when it exists). `--landing` takes a landing as
   `ecom generate` writes it; `--orders N` writes DIR/landing first: N valid orders of 2,000
   customers over the 60 days up to 2026-06-30 (one file a day), DuckDB-generated, as-of that day.
2. The gate, in its own process, on a fresh copy of that warehouse (it promotes on pass), timed and
   its peak resident memory measured (wait4: benchmarks/measure.py); `promotion_seconds` is the part
   spent moving the passed rows into raw.<table> (the raw layer's write, ecom.ingest.promote_pending).
3. The floor, in its own process: one query reading every column of every table's pending rows once
   (`bit_xor(hash(column))`, which DuckDB cannot answer from statistics).
`--code SRC` runs steps 2 and 3 with the `ecom` package of another checkout (its plugins/ first on
PYTHONPATH), e.g. an earlier commit exported with `git archive`, to measure before and after on the
same warehouse. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from datetime import date
from pathlib import Path

from measure import measure

HERE = Path(__file__).resolve()
SYNTHETIC_AS_OF = date(2026, 6, 30)
SYNTHETIC_DAYS = 60
SYNTHETIC_CUSTOMERS = 2000


def synthetic_landing(landing: Path, orders: int) -> None:
    """Customers and `orders` orders (every value valid under the contract), one orders file a day."""
    import duckdb

    (landing / "customers").mkdir(parents=True)
    with duckdb.connect() as con:
        con.execute(
            f"COPY (SELECT 'c' || range AS customer_id, 'F' AS gender FROM range({SYNTHETIC_CUSTOMERS})) "
            f"TO '{landing / 'customers' / 'customers.csv'}' (HEADER)"
        )
        per_day = -(-orders // SYNTHETIC_DAYS)
        for back in range(SYNTHETIC_DAYS):
            day = SYNTHETIC_AS_OF.toordinal() - back
            first = back * per_day
            rows = max(0, min(per_day, orders - first))
            folder = landing / "orders" / f"dt={date.fromordinal(day).isoformat()}"
            folder.mkdir(parents=True)
            con.execute(
                f"""COPY (SELECT 'o' || (range + {first}) AS order_id,
                       'c' || (range % {SYNTHETIC_CUSTOMERS}) AS customer_id,
                       DATE '{date.fromordinal(day)}' + to_seconds(range % 86400) AS ordered_at,
                       (range % 500)::DECIMAL(18,2) AS total_amount,
                       ['paid', 'shipped', 'completed'][range % 3 + 1] AS status, 'alipay' AS payment_method,
                       'app' AS platform FROM range({rows}))
                    TO '{folder / 'orders.csv'}' (HEADER)"""
            )


def ingested(work: Path, landing: Path) -> Path:
    from ecom.config import Settings
    from ecom.ingest import ingest

    warehouse = work / "warehouse"
    if not (warehouse / "warehouse.duckdb").exists():
        ingest(Settings(landing_dir=landing, warehouse_dir=warehouse), "bench")
    return warehouse


def run_gate(warehouse: Path, as_of: date) -> dict:
    """The gate's seconds, and of them the promotion's (the raw layer moving the passed rows to raw)."""
    from ecom import ingest
    from ecom.config import Settings
    from ecom.quality import run_raw_gate

    promote = ingest.promote_pending
    promotion = {}

    def timed_promotion(settings: Settings) -> dict[str, int]:
        begun = time.perf_counter()
        try:
            return promote(settings)
        finally:
            promotion["seconds"] = time.perf_counter() - begun

    ingest.promote_pending = timed_promotion
    started = time.perf_counter()
    result = run_raw_gate(Settings(landing_dir=warehouse, warehouse_dir=warehouse), "bench", as_of)
    return {"seconds": time.perf_counter() - started, "promotion_seconds": promotion.get("seconds"),
            "passed": result.passed, "checks": len(result.checks),
            "errors": [check.message for check in result.errors][:5]}


def run_scan(warehouse: Path) -> dict:
    import duckdb

    from ecom.contract import load_contract

    rows, seconds = 0, 0.0
    with duckdb.connect(str(warehouse / "warehouse.duckdb"), read_only=True) as con:
        pending = {name for (name,) in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'raw_pending'").fetchall()}
        for table in load_contract().tables.values():
            if table.name in pending:
                hashes = ", ".join(f'bit_xor(hash("{column}"))' for column in table.column_names)
                started = time.perf_counter()
                [(count, *_)] = con.execute(
                    f'SELECT count(*), {hashes} FROM raw_pending."{table.name}"').fetchall()
                seconds += time.perf_counter() - started
                rows += count
    return {"seconds": seconds, "pending_rows": rows}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", required=True, type=Path)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--landing", type=Path)
    source.add_argument("--orders", type=int)
    parser.add_argument("--as-of", type=date.fromisoformat)
    parser.add_argument("--code", type=Path, help="checkout whose ecom package runs the gate and the scan")
    parser.add_argument("--step", choices=("gate", "scan"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    work = args.work.resolve()
    if args.step == "gate":
        print(json.dumps(run_gate(work / "gate_copy", args.as_of)))
        return 0
    if args.step == "scan":
        print(json.dumps(run_scan(work / "warehouse")))
        return 0
    landing = args.landing.resolve() if args.landing else work / "landing"
    if args.orders and not landing.is_dir():
        synthetic_landing(landing, args.orders)
    as_of = args.as_of or SYNTHETIC_AS_OF
    warehouse = ingested(work, landing)
    shutil.rmtree(work / "gate_copy", ignore_errors=True)
    shutil.copytree(warehouse, work / "gate_copy")
    env = dict(os.environ)
    if args.code:
        env["PYTHONPATH"] = os.pathsep.join([str(args.code.resolve() / "plugins"), env.get("PYTHONPATH", "")])
    step = [sys.executable, str(HERE), "--work", str(work), "--orders", "0", "--as-of", as_of.isoformat()]
    figures = {}
    for name in ("gate", "scan"):
        measured = measure([*step, "--step", name], env=env)
        printed = next(line for line in reversed(measured.output.splitlines()) if line.startswith("{"))
        figures[name] = {**json.loads(printed), "peak_mb": measured.peak_rss_mb}
    figures["gate_over_scan"] = figures["gate"]["seconds"] / figures["scan"]["seconds"]
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
