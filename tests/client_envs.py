"""Run a script in one of the BI client environments `make clients` builds (tests/clients/<name>.txt).

Each is its own venv under build/clients/, so a test can read the published marts with the DuckDB,
SQLAlchemy and drivers a BI tool bundles rather than ours. A script prints JSON; `run` returns it.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from ecom.config import PROJECT_ROOT

CLIENTS_DIR = PROJECT_ROOT / "build" / "clients"
PINS_DIR = PROJECT_ROOT / "tests" / "clients"


def pins(name: str) -> dict[str, str]:
    """package -> version of a client environment, as tests/clients/<name>.txt pins them."""
    lines = (PINS_DIR / f"{name}.txt").read_text(encoding="utf-8").splitlines()
    pairs = (line.split("==") for line in lines if line.strip() and not line.startswith("#"))
    return {package.strip(): version.strip() for package, version in pairs}


def python(name: str) -> Path:
    found = CLIENTS_DIR / name / "bin" / "python"
    if not (CLIENTS_DIR / name / ".installed").is_file():
        pytest.fail(f"client environment {name} is missing: `make clients` builds it in {CLIENTS_DIR / name}")
    return found


def run(name: str, script: str | Path, *args: str) -> Any:
    """Run `script` (Python source, or a script file) in client environment `name`; its stdout, parsed
    as JSON."""
    source = [str(script)] if isinstance(script, Path) else ["-c", script]
    done = subprocess.run([str(python(name)), *source, *args], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)
