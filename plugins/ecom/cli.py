"""The `ecom` command. Heavy modules are imported inside each subcommand so `ecom --help` is instant."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from ecom.cli_checks import (
    Folder,
    UsageError,
    existing_folder,
    folder_from,
    iso_date,
    non_negative_int,
    positive_int,
    writable_folder,
)
from ecom.config import DEFAULT_FOLDERS, LANDING_ENV, WAREHOUSE_ENV

if TYPE_CHECKING:
    from ecom.config import Settings

DEFAULT_CUSTOMERS = 2000
DEFAULT_DAYS = 365
# ecom.generate.scale.SCALES and ecom.generate.writer.FORMATS, spelled out so `ecom --help` imports
# nothing heavy (a test keeps them equal).
SCALE_NAMES = ("small", "medium", "large")
FORMAT_NAMES = ("csv", "parquet", "jsonl")


def _cmd_generate(args: argparse.Namespace) -> int:
    from ecom.contract import load_contract
    from ecom.generate import generate_shop, scale_named
    from ecom.generate.defects import DAYS_NEEDED, DefectError, inject_defects
    from ecom.generate.writer import ensure_empty_landing

    out = writable_folder(Folder(Path(args.out), f"--out {args.out}"), "landing folder to write into")
    preset = scale_named(args.scale) if args.scale else None
    days = args.days or (preset.days if preset else DEFAULT_DAYS)
    if args.defects and args.format != "csv":
        raise UsageError("--defects needs --format csv (the defects are edits of CSV files)")
    if args.defects and days < DAYS_NEEDED:
        raise UsageError(f"--defects needs at least {DAYS_NEEDED} days of history (--days {days} given): "
                         "the oldest defect edits a month-old file")
    try:
        ensure_empty_landing(out, load_contract())
    except FileExistsError as error:
        raise UsageError(f"--out {args.out}: {error}") from None
    summary = generate_shop(
        out=out,
        customers=args.customers or (preset.customers if preset else DEFAULT_CUSTOMERS),
        days=days,
        seed=args.seed,
        fmt=args.format,
        end_date=args.end_date,
    )
    print(summary.describe())
    if args.defects:
        try:
            print(inject_defects(out, as_of=summary.last_day, seed=args.seed).describe())
        except DefectError as error:
            raise UsageError(f"--defects: {error}") from None
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    settings = _run_settings(args)
    from ecom.orchestrate import replay_days, run_pipeline
    from ecom.warehouse_lock import warehouse_lock

    def waiting(holder: str) -> None:
        print(f"ecom run: another run holds the warehouse {settings.warehouse_dir} ({holder}); "
              "waiting for it to finish", flush=True)

    with warehouse_lock(settings.run_lock, on_wait=waiting) as lock_fd:
        if args.from_date is not None:
            def run_day(day: date) -> int:
                return run_pipeline(dataclasses.replace(settings, as_of=day), lock_fd=lock_fd)

            return replay_days(args.from_date, args.to_date, run_day)
        return run_pipeline(settings, full_refresh=args.full_refresh, lock_fd=lock_fd)


def _run_settings(args: argparse.Namespace) -> Settings:
    """The run's settings from its flags and environment, every one checked; UsageError otherwise."""
    from ecom.config import ConfigError, Settings

    if (args.from_date is None) != (args.to_date is None):
        raise UsageError("--from and --to go together")
    if args.from_date is not None:
        if args.as_of is not None:
            raise UsageError("--as-of or --from/--to, not both (each replayed day is its as-of)")
        if args.full_refresh:
            raise UsageError("--full-refresh runs one day; replays are incremental")
        if args.to_date < args.from_date:
            raise UsageError(f"--from {args.from_date} is after --to {args.to_date}")
    landing_folder = folder_from(args.landing, "--landing", LANDING_ENV)
    warehouse_folder = folder_from(args.warehouse, "--warehouse", WAREHOUSE_ENV)
    landing = existing_folder(landing_folder, "landing folder holding <table>/ subfolders")
    warehouse = writable_folder(warehouse_folder, "warehouse folder")
    if warehouse == landing or landing in warehouse.parents:
        raise UsageError(f"{warehouse_folder.source} is inside the landing folder ({landing_folder.source}): "
                         "its files would be taken for landed files")
    try:
        settings = Settings.from_env()
    except ConfigError as error:
        raise UsageError(str(error)) from None
    if settings.duckdb_temp_dir is not None:
        writable_folder(Folder(settings.duckdb_temp_dir, f"ECOM_DUCKDB_TEMP_DIR={settings.duckdb_temp_dir}"),
                        "folder DuckDB spills into")
    return dataclasses.replace(settings, landing_dir=landing, warehouse_dir=warehouse, as_of=args.as_of)


def _cmd_docs(args: argparse.Namespace) -> int:
    out = writable_folder(Folder(Path(args.out), f"--out {args.out}"), "folder to write the pages into")
    from ecom.docs_pages import write_docs_pages

    for path in write_docs_pages(out):
        print(f"wrote {path}")
    return 0


class _Parser(argparse.ArgumentParser):
    """A usage error is one line (the flag and what is wrong with it), exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="ecom", description="E-commerce analytics marts: generate, run.")
    sub = parser.add_subparsers(dest="command", required=True)

    gen = sub.add_parser("generate", help="write a realistic, reproducible demo shop into a landing folder")
    gen.add_argument("--out", required=True, help="landing folder to write <table>/ partitions into")
    gen.add_argument("--scale", choices=SCALE_NAMES, default=None,
                     help="a named size, a year of history: small 10k, medium 200k, large 1M customers "
                          "(--customers / --days override it)")
    gen.add_argument("--customers", type=positive_int, default=None,
                     help=f"customers (default {DEFAULT_CUSTOMERS})")
    gen.add_argument("--days", type=positive_int, default=None,
                     help=f"days of history, ending at --end-date (default {DEFAULT_DAYS})")
    gen.add_argument("--seed", type=non_negative_int, default=42)
    gen.add_argument("--format", choices=FORMAT_NAMES, default="csv")
    gen.add_argument("--end-date", type=iso_date, default=None,
                     help="last day of history, YYYY-MM-DD (default: fixed, so output is reproducible)")
    gen.add_argument("--defects", action="store_true",
                     help="inject the defect catalogue (docs/data_quality.md; needs --format csv and a month "
                          "of history or more); see _defects/manifest.json")
    gen.set_defaults(func=_cmd_generate)

    run = sub.add_parser("run", help="run the ecommerce_marts DAG once through Airflow on these folders")
    run.add_argument("--landing", default=None,
                     help="landing folder with <table>/ subfolders "
                          f"(default: ${LANDING_ENV}, else {DEFAULT_FOLDERS[LANDING_ENV]})")
    run.add_argument("--warehouse", default=None,
                     help="folder for the warehouse, serving db and reports "
                          f"(default: ${WAREHOUSE_ENV}, else {DEFAULT_FOLDERS[WAREHOUSE_ENV]})")
    run.add_argument("--as-of", default=None, type=iso_date,
                     help="as-of date YYYY-MM-DD (default: the last order date found)")
    run.add_argument("--from", dest="from_date", default=None, type=iso_date,
                     help="replay days: first as-of date YYYY-MM-DD (with --to; one run per day, in order)")
    run.add_argument("--to", dest="to_date", default=None, type=iso_date,
                     help="replay days: last as-of date YYYY-MM-DD, inclusive")
    run.add_argument("--full-refresh", action="store_true",
                     help="rebuild the incremental dbt models from every raw row (after a model's columns "
                          "changed, or to re-derive rows older than the late-arrival window)")
    run.set_defaults(func=_cmd_run)

    docs = sub.add_parser("docs", help="regenerate the raw contract and marts pages from their YAML")
    docs.add_argument("--out", default="docs", help="folder to write the pages into (default: docs)")
    docs.set_defaults(func=_cmd_docs)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one subcommand; a user error is one line on stderr and exit code 2, never a traceback."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except UsageError as error:
        print(f"{parser.prog} {args.command}: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{parser.prog} {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
