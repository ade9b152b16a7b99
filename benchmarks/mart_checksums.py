"""A checksum per published mart, independent of row order: do two builds publish the same marts?

    python benchmarks/mart_checksums.py --work DIR [--ecom BIN] [--compare BEFORE.json] > checksums.json

Runs two shops with `BIN run` (default: the `ecom` beside this Python), each in DIR/<shop>/ (the
landings are generated once and reused; each run gets a fresh warehouse):
- `demo`: the shop `make demo` generates (2,000 customers, 365 days, seed 42);
- `defects`: the defect catalogue's shop (`ecom generate --defects`, 200 customers, 60 days, seed 11,
  as of 2026-06-30) run once (it stops at the raw gate), then released as its end-to-end test does
  (every defective file re-landed corrected) and run again, which publishes.
Then reads each serving.duckdb read-only and checksums every mart (`ecom.serving_checksums`: columns
with their types, rows, an md5 independent of row order, doubles to 12 significant digits). With
`--compare`, prints the marts whose checksum differs from BEFORE's and exits 1 when any does.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

from ecom.generate import generate_shop
from ecom.generate.defects import reland_corrected
from ecom.serving_checksums import mart_checksums

DEFECTS_AS_OF = "2026-06-30"


def run_shop(ecom: Path, work: Path, shop: str) -> Path:
    """Generate the shop's landing under work/shop (once), run it on a fresh warehouse, return that."""
    landing, warehouse = work / shop / "landing", work / shop / "warehouse"
    generate = [str(ecom), "generate", "--out", str(landing)]
    if shop == "demo":
        generate += ["--customers", "2000", "--days", "365", "--seed", "42"]
        run = [str(ecom), "run", "--landing", str(landing), "--warehouse", str(warehouse)]
    else:
        generate += ["--customers", "200", "--days", "60", "--seed", "11", "--end-date", DEFECTS_AS_OF,
                     "--defects"]
        run = [str(ecom), "run", "--landing", str(landing), "--warehouse", str(warehouse),
               "--as-of", DEFECTS_AS_OF]
    if not landing.exists():
        subprocess.run(generate, check=True, capture_output=True)
    shutil.rmtree(warehouse, ignore_errors=True)
    if shop == "defects":
        released = work / shop / "landing_released"
        shutil.rmtree(released, ignore_errors=True)
        shutil.copytree(landing, released)
        subprocess.run(run, capture_output=True)  # stops at the raw gate, by design
        correct = work / shop / "correct"
        if not correct.exists():
            generate_shop(out=correct, customers=200, days=60, seed=11,
                          end_date=date.fromisoformat(DEFECTS_AS_OF))
        reland_corrected(released, correct)
        run[run.index(str(landing))] = str(released)
    subprocess.run(run, check=True, capture_output=True)
    return warehouse


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True, help="folder for the shops and their warehouses")
    parser.add_argument("--ecom", type=Path, default=Path(sys.executable).with_name("ecom"),
                        help="the ecom command of the checkout to measure")
    parser.add_argument("--compare", type=Path, help="a JSON file this script wrote earlier")
    args = parser.parse_args()
    if not args.ecom.is_file():
        parser.error(f"{args.ecom} does not exist")
    servings = {shop: run_shop(args.ecom, args.work, shop) / "serving.duckdb" for shop in ("demo", "defects")}
    checksums = {f"{shop}.{mart}": checksum
                 for shop, serving in servings.items() for mart, checksum in mart_checksums(serving).items()}
    if args.compare is None:
        json.dump(checksums, sys.stdout, indent=2)
        print()
        return 0
    before = json.loads(args.compare.read_text(encoding="utf-8"))
    differing = sorted(m for m in before.keys() | checksums.keys() if before.get(m) != checksums.get(m))
    for mart in differing:
        print(f"{mart}: {before.get(mart)} -> {checksums.get(mart)}")
    print(f"{len(checksums)} marts, {len(differing)} differ")
    return 1 if differing else 0


if __name__ == "__main__":
    sys.exit(main())
