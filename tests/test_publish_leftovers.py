"""A publish killed before its rename leaves its new file beside serving.duckdb; the next publish removes
such leftovers, and nothing else."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb

from ecom.config import Settings
from ecom.publish import publish

# Publishes as run `killed-run`, killing itself (SIGKILL, no cleanup) while it copies the first mart.
KILLED_PUBLISH = """
import os, signal, sys
from datetime import date
from pathlib import Path
from ecom import publish
from ecom.config import Settings

def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)

publish._copy_mart = die
publish.publish(Settings(landing_dir=Path(sys.argv[1]), warehouse_dir=Path(sys.argv[2])), "killed-run",
                date(2024, 3, 31))
"""


def test_the_next_publish_removes_what_a_killed_publish_left(settings: Settings, tmp_path: Path) -> None:
    with duckdb.connect(str(settings.warehouse_db)) as con:
        con.execute("CREATE SCHEMA marts; CREATE TABLE marts.daily (day DATE, orders BIGINT);"
                    "INSERT INTO marts.daily VALUES ('2024-03-30', 4), ('2024-03-31', 7)")
    killed = subprocess.run([sys.executable, "-c", KILLED_PUBLISH, str(settings.landing_dir),
                             str(settings.warehouse_dir)], capture_output=True, text=True, check=False)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    leftover = settings.warehouse_dir / "serving.duckdb.killed-run.tmp"
    assert leftover.is_file()
    (settings.warehouse_dir / "serving.duckdb.older-run.tmp.wal").write_bytes(b"wal of an older kill")
    outside = tmp_path / "keep.tmp"
    outside.write_text("not ours\n")
    names = ("serving.duckdb.notes.txt", "serving.duckdb.tmp", "warehouse.duckdb.r1.tmp",
             "serving.duckdb.link.tmp")
    decoys = [settings.warehouse_dir / name for name in names]
    for decoy in decoys[:3]:
        decoy.write_text("not a publish's temporary file\n")
    os.symlink(outside, decoys[3])

    publish(settings, "next-run", date(2024, 3, 31))

    assert sorted(p.name for p in settings.warehouse_dir.iterdir()) == sorted(
        ["duckdb_tmp", "serving.duckdb", "warehouse.duckdb", *(d.name for d in decoys)])
    assert outside.read_text() == "not ours\n"
    with duckdb.connect(str(settings.serving_db), read_only=True) as con:
        assert con.execute("SELECT day, orders FROM marts.daily ORDER BY day").fetchall() == [
            (date(2024, 3, 30), 4), (date(2024, 3, 31), 7)]
