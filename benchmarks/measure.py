"""Run a command and measure it: wall seconds and peak resident memory (the process and its children)."""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Measured:
    command: list[str]
    seconds: float
    peak_rss_mb: float
    returncode: int
    output: str
    load_average: float  # the machine's 5-minute load average when the command ended


def measure(command: list[str], env: dict[str, str] | None = None, log: Path | None = None) -> Measured:
    """Run `command` to completion; its output goes to `log` (and is returned). Raises when it fails."""
    started = time.perf_counter()
    pipe = subprocess.PIPE
    with subprocess.Popen(command, env=env, stdout=pipe, stderr=subprocess.STDOUT, text=True) as proc:
        output = proc.stdout.read()  # until the command closes it; not communicate(), which would reap it
        # wait4 gives this child's resource usage, the children it waited for included: ru_maxrss
        # (KiB on Linux) is the peak of the largest process in that tree, not the sum.
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    if log is not None:
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(f"$ {' '.join(command)}\n{output}", encoding="utf-8")
    measured = Measured(command, seconds, usage.ru_maxrss / 1024, proc.returncode, output, os.getloadavg()[1])
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {proc.returncode}:\n{output[-4000:]}")
    return measured
