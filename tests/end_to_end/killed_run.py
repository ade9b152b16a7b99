"""Run the pipeline's steps (ecom.direct_run.run_steps) and SIGKILL this process at a chosen point.

python killed_run.py LANDING WAREHOUSE AS_OF KILL_AT [RUN_ID]

KILL_AT is `none` (run to the end), `ingest` (after the third table chunk is committed),
`dbt:<model>` (at that model's first insert, or in the CLV fit for int_clv_parameters, the Python
model), or `publish` (while the third mart is copied into the new serving file). SIGKILL: no cleanup
handler runs, as when a machine loses power or the OOM killer strikes.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Any


def die() -> None:
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def kill_after_calls(module: Any, name: str, calls: int) -> None:
    """Replace module.name by a wrapper that dies once it has returned `calls` times."""
    original = getattr(module, name)
    count = [0]

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        count[0] += 1
        if count[0] == calls:
            die()
        return result

    setattr(module, name, wrapper)


def kill_at_first_insert_of(model: str) -> None:
    """Every dbtRunner gets a callback that dies when `model` first inserts rows (after its delete of an
    incremental delete+insert, inside dbt's transaction)."""
    import dbt.cli.main

    base = dbt.cli.main.dbtRunner

    def on_event(event: Any) -> None:
        if event.info.name == "SQLQuery" and event.data.node_info.node_name == model \
                and "insert into" in event.data.sql.lower():
            die()

    class KillingRunner(base):
        def __init__(self, *args: Any, callbacks: list | None = None, **kwargs: Any) -> None:
            super().__init__(*args, callbacks=[*(callbacks or []), on_event], **kwargs)

    dbt.cli.main.dbtRunner = KillingRunner


def install(kill_at: str) -> None:
    if kill_at == "none":
        return
    if kill_at == "ingest":
        from ecom.ingest import runner

        kill_after_calls(runner, "_load_chunk", 3)
    elif kill_at == "dbt:int_clv_parameters":
        from ecom.clv import warehouse

        kill_after_calls(warehouse, "fit_parameters", 1)
    elif kill_at.startswith("dbt:"):
        kill_at_first_insert_of(kill_at.removeprefix("dbt:"))
    elif kill_at == "publish":
        from ecom import publish

        kill_after_calls(publish, "_copy_mart", 3)
    else:
        raise SystemExit(f"unknown kill point {kill_at!r}")


def main() -> None:
    from ecom.config import Settings
    from ecom.direct_run import run_steps

    landing, warehouse, as_of, kill_at, *run_id = sys.argv[1:]
    install(kill_at)
    settings = Settings(landing_dir=Path(landing).resolve(), warehouse_dir=Path(warehouse).resolve())
    run_steps(settings, as_of, *run_id)
    if kill_at != "none":
        raise SystemExit(f"the run ended without reaching the kill point {kill_at}")


if __name__ == "__main__":
    main()
