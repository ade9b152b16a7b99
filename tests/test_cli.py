"""The `ecom` command's user errors: checked before anything starts, one line naming the flag or
environment variable, exit code 2, never a traceback; and ECOM_LANDING_DIR / ECOM_WAREHOUSE_DIR stand in
for the flags, as documented."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from ecom import cli, orchestrate
from ecom.config import Settings

ECOM = str(Path(sys.executable).with_name("ecom"))
ECOM_ENV = ("ECOM_LANDING_DIR", "ECOM_WAREHOUSE_DIR", "ECOM_BUSINESS_TZ", "ECOM_AS_OF",
            "ECOM_DUCKDB_MEMORY_LIMIT", "ECOM_DUCKDB_TEMP_DIR", "ECOM_GATE_CHUNK_ROWS")


@pytest.fixture
def folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """tmp_path as the working directory, with a landing folder, a file, and no ECOM_* variable set."""
    for name in ECOM_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "landing" / "orders").mkdir(parents=True)
    (tmp_path / "a_file").write_text("not a folder\n")
    return tmp_path


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Settings, bool]]:
    """The runs `ecom run` starts (settings, full refresh) instead of starting them."""
    started: list[tuple[Settings, bool]] = []

    def run_pipeline(settings: Settings, full_refresh: bool = False, lock_fd: int | None = None) -> int:
        started.append((settings, full_refresh))
        return 0

    monkeypatch.setattr(orchestrate, "run_pipeline", run_pipeline)
    return started


def usage_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """Run `ecom argv`, check that it is a user error (exit 2, one line on stderr), return that line."""
    try:
        code = cli.main(argv)
    except SystemExit as exit_:  # argparse's own errors
        code = exit_.code
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.count("\n") == 1 and err.endswith("\n"), err
    return err.strip()


@pytest.mark.parametrize(("argv", "expected"), [
    (["run", "--landing", "landing", "--warehouse", "wh", "--from", "2024-03-02", "--to", "2024-03-01"],
     "ecom run: --from 2024-03-02 is after --to 2024-03-01"),
    (["run", "--landing", "landing", "--warehouse", "a_file"],
     "ecom run: --warehouse a_file is a file; it must be the warehouse folder"),
    (["run", "--landing", "landing", "--warehouse", "a_file/wh"],
     "ecom run: --warehouse a_file/wh: cannot create the warehouse folder, {tmp}/a_file is a file"),
    (["run", "--landing", "missing", "--warehouse", "wh"],
     "ecom run: --landing missing: no such folder (the landing folder holding <table>/ subfolders)"),
    (["run", "--landing", "a_file", "--warehouse", "wh"],
     "ecom run: --landing a_file is a file; it must be the landing folder holding <table>/ subfolders"),
    (["run", "--landing", "landing", "--warehouse", "landing/wh"],
     "ecom run: --warehouse landing/wh is inside the landing folder (--landing landing): "
     "its files would be taken for landed files"),
    (["run", "--landing", "landing", "--warehouse", "wh", "--from", "2024-03-01"],
     "ecom run: --from and --to go together"),
    (["run", "--landing", "landing", "--warehouse", "wh", "--from", "2024-03-01", "--to", "2024-03-02",
      "--as-of", "2024-03-01"],
     "ecom run: --as-of or --from/--to, not both (each replayed day is its as-of)"),
    (["run", "--landing", "landing", "--warehouse", "wh", "--from", "2024-03-01", "--to", "2024-03-02",
      "--full-refresh"],
     "ecom run: --full-refresh runs one day; replays are incremental"),
    (["run", "--landing", "landing", "--warehouse", "wh", "--as-of", "2024-02-30"],
     "ecom run: argument --as-of: not a date YYYY-MM-DD: '2024-02-30' (see ecom run --help)"),
    (["run"],
     "ecom run: the default data/landing (neither --landing nor ECOM_LANDING_DIR is set): no such folder "
     "(the landing folder holding <table>/ subfolders)"),
    (["generate", "--out", "a_file", "--customers", "10", "--days", "3"],
     "ecom generate: --out a_file is a file; it must be the landing folder to write into"),
    (["generate", "--out", "landing2", "--customers", "0"],
     "ecom generate: argument --customers: not a whole number of at least 1: '0' (see ecom generate --help)"),
    (["generate", "--out", "landing2", "--days", "-3"],
     "ecom generate: argument --days: not a whole number of at least 1: '-3' (see ecom generate --help)"),
    (["generate", "--out", "landing2", "--seed", "x"],
     "ecom generate: argument --seed: not a whole number of at least 0: 'x' (see ecom generate --help)"),
    (["generate", "--out", "landing2", "--end-date", "30/06/2026"],
     "ecom generate: argument --end-date: not a date YYYY-MM-DD: '30/06/2026' (see ecom generate --help)"),
    (["generate", "--out", "landing2", "--format", "parquet", "--defects"],
     "ecom generate: --defects needs --format csv (the defects are edits of CSV files)"),
    (["generate", "--out", "landing2", "--days", "30", "--defects"],
     "ecom generate: --defects needs at least 31 days of history (--days 30 given): the oldest defect edits "
     "a month-old file"),
    (["docs", "--out", "a_file"],
     "ecom docs: --out a_file is a file; it must be the folder to write the pages into"),
    (["nonsense"],
     "ecom: argument command: invalid choice: 'nonsense' (choose from 'generate', 'run', 'docs') "
     "(see ecom --help)"),
])
def test_user_errors_are_one_line_and_exit_2_before_anything_starts(
    folders: Path, runs: list, capsys: pytest.CaptureFixture[str], argv: list[str], expected: str
) -> None:
    before = sorted(folders.rglob("*"))

    assert usage_error(argv, capsys) == expected.format(tmp=folders)

    assert runs == []
    assert sorted(folders.rglob("*")) == before  # no warehouse, no landing, no report was created


def test_generate_refuses_a_landing_that_holds_a_shop(
    folders: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (folders / "landing" / "orders" / "orders.csv").write_text("order_id\n1\n")

    assert usage_error(["generate", "--out", "landing", "--customers", "5", "--days", "3"], capsys) == (
        f"ecom generate: --out landing: {folders}/landing/orders already holds files: "
        "generate into an empty landing folder"
    )


@pytest.mark.parametrize(("variable", "value", "expected"), [
    ("ECOM_BUSINESS_TZ", "Mars/Olympus", "ECOM_BUSINESS_TZ must be an IANA time zone such as Asia/Shanghai, "
                                         "not 'Mars/Olympus'"),
    ("ECOM_GATE_CHUNK_ROWS", "lots", "ECOM_GATE_CHUNK_ROWS must be a positive number of rows, e.g. 500000, "
                                     "not 'lots'"),
    ("ECOM_AS_OF", "2024-13-01", "ECOM_AS_OF must be a date YYYY-MM-DD (or empty), not '2024-13-01'"),
    ("ECOM_DUCKDB_MEMORY_LIMIT", "plenty", "ECOM_DUCKDB_MEMORY_LIMIT must be a DuckDB memory limit such as "
                                           "4GB or 60%, not 'plenty'"),
    ("ECOM_DUCKDB_TEMP_DIR", "a_file", "ECOM_DUCKDB_TEMP_DIR={tmp}/a_file is a file; it must be the folder "
                                       "DuckDB spills into"),
    ("ECOM_LANDING_DIR", "a_file", "ECOM_LANDING_DIR=a_file is a file; it must be the landing folder holding "
                                   "<table>/ subfolders"),
])
def test_unusable_environment_variables_are_user_errors_naming_the_variable(
    folders: Path, runs: list, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    variable: str, value: str, expected: str,
) -> None:
    monkeypatch.setenv(variable, value)
    argv = ["run", "--warehouse", "wh"] + ([] if variable == "ECOM_LANDING_DIR" else ["--landing", "landing"])

    assert usage_error(argv, capsys).startswith(f"ecom run: {expected.format(tmp=folders)}")
    assert runs == []


def test_the_environment_names_the_folders_when_the_flags_do_not(
    folders: Path, runs: list[tuple[Settings, bool]], monkeypatch: pytest.MonkeyPatch
) -> None:
    (folders / "elsewhere").mkdir()
    monkeypatch.setenv("ECOM_LANDING_DIR", str(folders / "landing"))
    monkeypatch.setenv("ECOM_WAREHOUSE_DIR", str(folders / "env_wh"))

    assert cli.main(["run", "--as-of", "2024-03-01"]) == 0
    assert cli.main(["run", "--landing", "elsewhere", "--warehouse", "flag_wh", "--full-refresh"]) == 0

    (env_run, env_refresh), (flag_run, flag_refresh) = runs
    assert (env_run.landing_dir, env_run.warehouse_dir, env_run.as_of, env_refresh) == (
        folders / "landing", folders / "env_wh", date(2024, 3, 1), False)
    assert (flag_run.landing_dir, flag_run.warehouse_dir, flag_run.as_of, flag_refresh) == (
        folders / "elsewhere", folders / "flag_wh", None, True)  # the flags override the environment


def test_a_replay_runs_each_day_with_the_checked_settings(folders: Path, runs: list) -> None:
    assert cli.main(["run", "--landing", "landing", "--warehouse", "wh", "--from", "2024-02-28",
                     "--to", "2024-03-01"]) == 0

    assert [(s.warehouse_dir, s.as_of) for s, _ in runs] == [
        (folders / "wh", date(2024, 2, 28)), (folders / "wh", date(2024, 2, 29)),
        (folders / "wh", date(2024, 3, 1))]


@pytest.mark.parametrize("argv", [
    ["run", "--landing", "landing", "--warehouse", "wh", "--from", "2024-03-02", "--to", "2024-03-01"],
    ["run", "--landing", "landing", "--warehouse", "a_file"],
])
def test_the_installed_command_prints_no_traceback(folders: Path, argv: list[str]) -> None:
    done = subprocess.run([ECOM, *argv], capture_output=True, text=True, check=False)

    assert done.returncode == 2
    assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1, done.stderr
    assert done.stdout == ""
