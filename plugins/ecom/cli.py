"""The `ecom` command. Heavy modules are imported inside each subcommand so `ecom --help` is instant."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

DEFAULT_CUSTOMERS = 2000
DEFAULT_DAYS = 365
# ecom.generate.scale.SCALES, spelled out so `ecom --help` imports nothing heavy (a test keeps them equal).
SCALE_NAMES = ("small", "medium", "large")


def _cmd_generate(args: argparse.Namespace) -> int:
    from ecom.generate import generate_shop, scale_named

    if args.defects and args.format != "csv":
        print("ecom generate: --defects needs --format csv (the defects are edits of CSV files)",
              file=sys.stderr)
        return 2
    preset = scale_named(args.scale) if args.scale else None
    summary = generate_shop(
        out=Path(args.out),
        customers=args.customers or (preset.customers if preset else DEFAULT_CUSTOMERS),
        days=args.days or (preset.days if preset else DEFAULT_DAYS),
        seed=args.seed,
        fmt=args.format,
        end_date=args.end_date,
    )
    print(summary.describe())
    if args.defects:
        from ecom.generate.defects import inject_defects

        print(inject_defects(Path(args.out), as_of=summary.last_day, seed=args.seed).describe())
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from ecom.orchestrate import replay_days, run_pipeline

    if (args.from_date is None) != (args.to_date is None):
        raise SystemExit("ecom run: --from and --to go together")
    if args.from_date is not None:
        if args.as_of is not None:
            raise SystemExit("ecom run: --as-of or --from/--to, not both (each replayed day is its as-of)")
        if args.full_refresh:
            raise SystemExit("ecom run: --full-refresh runs one day; replays are incremental")
        return replay_days(Path(args.landing), Path(args.warehouse), args.from_date, args.to_date)
    return run_pipeline(
        landing=Path(args.landing),
        warehouse=Path(args.warehouse),
        as_of=args.as_of,
        full_refresh=args.full_refresh,
    )


def _cmd_docs(args: argparse.Namespace) -> int:
    from ecom.docs_pages import write_docs_pages, write_project_files

    for path in [*write_docs_pages(Path(args.out)), *write_project_files()]:
        print(f"wrote {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ecom", description="E-commerce analytics marts: generate, run.")
    sub = parser.add_subparsers(dest="command", required=True)

    gen = sub.add_parser("generate", help="write a realistic, reproducible demo shop into a landing folder")
    gen.add_argument("--out", required=True, help="landing folder to write <table>/ partitions into")
    gen.add_argument("--scale", choices=SCALE_NAMES, default=None,
                     help="a named size, a year of history: small 10k, medium 200k, large 1M customers "
                          "(--customers / --days override it)")
    gen.add_argument("--customers", type=int, default=None, help=f"customers (default {DEFAULT_CUSTOMERS})")
    gen.add_argument("--days", type=int, default=None,
                     help=f"days of history, ending at --end-date (default {DEFAULT_DAYS})")
    gen.add_argument("--seed", type=int, default=42)
    gen.add_argument("--format", choices=["csv", "parquet"], default="csv")
    gen.add_argument("--end-date", type=date.fromisoformat, default=None,
                     help="last day of history, YYYY-MM-DD (default: fixed, so output is reproducible)")
    gen.add_argument("--defects", action="store_true",
                     help="inject the defect catalogue (docs/data_quality.md); see _defects/manifest.json")
    gen.set_defaults(func=_cmd_generate)

    run = sub.add_parser("run", help="run the ecommerce_marts DAG once through Airflow on these folders")
    run.add_argument("--landing", required=True, help="landing folder with <table>/ subfolders")
    run.add_argument("--warehouse", required=True, help="folder for the warehouse, serving db and reports")
    run.add_argument("--as-of", default=None, type=date.fromisoformat,
                     help="as-of date YYYY-MM-DD (default: the last order date found)")
    run.add_argument("--from", dest="from_date", default=None, type=date.fromisoformat,
                     help="replay days: first as-of date YYYY-MM-DD (with --to; one run per day, in order)")
    run.add_argument("--to", dest="to_date", default=None, type=date.fromisoformat,
                     help="replay days: last as-of date YYYY-MM-DD, inclusive")
    run.add_argument("--full-refresh", action="store_true",
                     help="rebuild the incremental dbt models from every raw row (after a model's columns "
                          "changed, or to re-derive rows older than the late-arrival window)")
    run.set_defaults(func=_cmd_run)

    docs = sub.add_parser("docs", help="regenerate the docs pages and the dbt sources from their YAML")
    docs.add_argument("--out", default="docs", help="folder to write the pages into (default: docs)")
    docs.set_defaults(func=_cmd_docs)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
