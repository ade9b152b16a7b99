"""One `ecom run` per warehouse folder: the second waits for the first; a killed holder frees it at once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ecom import cli, orchestrate
from ecom.config import Settings
from ecom.orchestrate import run_log_path
from ecom.warehouse_lock import warehouse_lock

# Takes the lock, says so, and keeps it until its stdin closes (or it is killed).
HOLDER = """
import sys
from pathlib import Path
from ecom.warehouse_lock import warehouse_lock
with warehouse_lock(Path(sys.argv[1]), on_wait=lambda holder: print("waiting", flush=True)):
    print("held", flush=True)
    sys.stdin.read()
"""


def holder(lock: Path) -> subprocess.Popen[str]:
    process = subprocess.Popen([sys.executable, "-c", HOLDER, str(lock)], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline() == "held\n"
    return process


def release(process: subprocess.Popen[str]) -> None:
    process.stdin.close()
    assert process.wait(timeout=30) == 0


def test_a_second_process_waits_until_the_first_releases_the_lock(tmp_path: Path) -> None:
    lock = tmp_path / "wh" / "ecom_run.lock"
    first = holder(lock)
    second = subprocess.Popen([sys.executable, "-c", HOLDER, str(lock)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    assert second.stdout.readline() == "waiting\n"
    time.sleep(0.5)
    assert second.poll() is None  # still waiting, not holding

    release(first)

    assert second.stdout.readline() == "held\n"
    release(second)


def test_a_killed_holder_leaves_no_lock_behind(tmp_path: Path) -> None:
    lock = tmp_path / "ecom_run.lock"
    killed = holder(lock)
    killed.send_signal(signal.SIGKILL)
    killed.wait(timeout=30)
    waits: list[str] = []

    with warehouse_lock(lock, on_wait=waits.append):
        assert waits == []
    assert f"pid {killed.pid}" not in lock.read_text()


def test_the_child_run_keeps_the_lock_while_it_lives(tmp_path: Path) -> None:
    """run_pipeline hands the lock to its child: it stays held when the parent closes its descriptor."""
    lock = tmp_path / "ecom_run.lock"
    with warehouse_lock(lock, on_wait=lambda _: None) as fd:
        child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"],
                                 stdin=subprocess.PIPE, pass_fds=(fd,))
    waits: list[str] = []
    taken = threading.Event()

    def take() -> None:
        with warehouse_lock(lock, on_wait=waits.append):
            taken.set()

    thread = threading.Thread(target=take)
    thread.start()
    time.sleep(0.5)
    assert not taken.is_set()
    assert len(waits) == 1 and waits[0].startswith(f"pid {os.getpid()}, since ")  # the lock's first taker

    child.stdin.close()
    child.wait(timeout=30)
    thread.join(timeout=30)
    assert taken.is_set()


def test_ecom_run_waits_for_the_run_holding_the_warehouse(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "landing").mkdir()
    warehouse = tmp_path / "wh"
    first = holder(warehouse / "ecom_run.lock")
    holding = (warehouse / "ecom_run.lock").read_text().strip()
    started: list[float] = []

    def run_pipeline(settings: Settings, full_refresh: bool = False, lock_fd: int | None = None) -> int:
        started.append(time.monotonic())
        return 0

    monkeypatch.setattr(orchestrate, "run_pipeline", run_pipeline)
    released_at: list[float] = []

    def release_soon() -> None:
        time.sleep(1)
        released_at.append(time.monotonic())
        release(first)

    threading.Thread(target=release_soon).start()
    assert cli.main(["run", "--landing", str(tmp_path / "landing"), "--warehouse", str(warehouse)]) == 0

    assert len(started) == 1 and started[0] >= released_at[0]  # it started only once the first had finished
    assert holding.startswith(f"pid {first.pid}, since ")
    assert capsys.readouterr().out == (
        f"ecom run: another run holds the warehouse {warehouse} ({holding}); waiting for it to finish\n")


def test_two_runs_started_in_the_same_second_write_different_logs(tmp_path: Path) -> None:
    settings = Settings(landing_dir=tmp_path, warehouse_dir=tmp_path)
    started = datetime(2026, 6, 30, 8, 0, 0, 123456, tzinfo=UTC)

    assert run_log_path(settings, started, 41) != run_log_path(settings, started, 42)
    assert run_log_path(settings, started, 41) != run_log_path(settings, started.replace(microsecond=7), 41)
    assert run_log_path(settings, started, 41).name == "20260630T080000123456_41.log"
