"""One `ecom run` at a time per warehouse folder: an exclusive flock on `<warehouse>/ecom_run.lock`.

The kernel drops a flock when the last descriptor of its open file closes, so a run that is killed
(even with SIGKILL) never leaves the warehouse locked: there is no stale lock to clean up. The
descriptor is handed to the `python -m ecom.orchestrate` child (`fd`), so the lock lasts as long as
either process lives. The file's text (pid and start time of the holder) only informs the waiting run.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path


@contextmanager
def warehouse_lock(path: Path, on_wait: Callable[[str], None]) -> Iterator[int]:
    """Hold the exclusive lock `path` (creating it); yields its file descriptor.

    When another process holds it, `on_wait` is called once with who holds it, then this blocks until
    that process releases it (finishes or dies).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            on_wait(_holder(fd) or "another process")
            fcntl.flock(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}, since {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC\n".encode(), 0)
        yield fd
    finally:
        os.close(fd)


def _holder(fd: int) -> str:
    return os.pread(fd, 200, 0).decode("utf-8", errors="replace").strip()
