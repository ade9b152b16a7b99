"""Run the pipeline's steps directly (`ecom.direct_run.run_steps`: no Airflow, no report) and print
each step's seconds as JSON: the baseline `ecom run` is measured against.

    python benchmarks/direct_steps.py --landing DIR --warehouse DIR --as-of YYYY-MM-DD
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

from ecom.config import Settings
from ecom.direct_run import run_steps


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--landing", required=True, type=Path)
    parser.add_argument("--warehouse", required=True, type=Path)
    parser.add_argument("--as-of", required=True)
    args = parser.parse_args(argv)
    settings = dataclasses.replace(Settings.from_env(), landing_dir=args.landing.resolve(),
                                   warehouse_dir=args.warehouse.resolve())
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    print(json.dumps(run_steps(settings, args.as_of)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
