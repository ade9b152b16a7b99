"""What a published run was built from, so that a run with nothing new can stop after ingest.

A run's inputs are its as-of date, the business time zone, where it publishes (ECOM_SERVING_URL, kept
as a digest: it may hold a password), the accepted landed files (their file ids: one per path and
checksum) and the code that turns them into marts (the dbt project, the expectation suites and the
`ecom` package). Publish records them next to the serving database it wrote; the next
run compares its own inputs, right after ingest, and has nothing to do when they are equal, no file
is waiting for the raw gate and serving.duckdb is still the file that publish wrote.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

from ecom.config import EXPECTATIONS_DIR, PROJECT_ROOT, Settings
from ecom.dbt_manifest import dbt_project_dir, project_source_files

ECOM_PACKAGE_DIR = PROJECT_ROOT / "plugins" / "ecom"


@dataclass(frozen=True)
class RunInputs:
    as_of: str
    business_tz: str
    serving_target: str  # digest of ECOM_SERVING_URL ('' when publish writes serving.duckdb only)
    accepted_files: str  # digest of the accepted file ids
    code: str  # digest of every file that shapes the marts


@dataclass(frozen=True)
class PublishedInputs:
    """What `record_published` wrote: the run, its inputs and the serving file it left behind."""

    run_id: str
    inputs: RunInputs
    serving_size: int
    serving_mtime_ns: int


def code_files() -> Iterable[Path]:
    """The dbt project's sources, the expectation suites and the ecom package (no caches)."""
    yield from project_source_files(dbt_project_dir())
    for root in (EXPECTATIONS_DIR, ECOM_PACKAGE_DIR):
        for path in root.rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                yield path


def code_digest(files: Iterable[Path]) -> str:
    """sha256 over the files' names and contents, in name order."""
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(str(path).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def current_inputs(settings: Settings, as_of: date) -> RunInputs | None:
    """This run's inputs once ingest has run; None while some landed file waits for the raw gate."""
    from ecom.warehouse import connect

    with connect(settings) as con:
        pending, accepted = con.execute(
            "SELECT count(*) FILTER (WHERE status = 'pending'), coalesce(sha256("
            "string_agg(file_id, ',' ORDER BY file_id) FILTER (WHERE status = 'accepted')), '') "
            "FROM audit.load_manifest"
        ).fetchall()[0]
    if pending:
        return None
    target = hashlib.sha256(settings.serving_url.encode()).hexdigest() if settings.serving_url else ""
    return RunInputs(as_of.isoformat(), settings.business_tz, target, accepted, code_digest(code_files()))


def record_published(settings: Settings, run_id: str, as_of: date) -> None:
    """After publish: remember what this run was built from (written atomically)."""
    inputs = current_inputs(settings, as_of)
    path = settings.published_inputs
    if inputs is None:  # cannot happen after a passed raw gate; never claim inputs we do not know
        path.unlink(missing_ok=True)
        return
    serving = settings.serving_db.stat()
    record = PublishedInputs(run_id, inputs, serving.st_size, serving.st_mtime_ns)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(asdict(record), indent=2), encoding="utf-8")
    os.replace(temporary, path)


def read_published(settings: Settings) -> PublishedInputs | None:
    path = settings.published_inputs
    if not path.is_file():
        return None
    record = json.loads(path.read_text(encoding="utf-8"))
    return PublishedInputs(record["run_id"], RunInputs(**record["inputs"]), record["serving_size"],
                           record["serving_mtime_ns"])


def unchanged_since_publish(settings: Settings, as_of: date) -> str | None:
    """Why this run has nothing to do (a sentence), or None when it must build and publish."""
    published = read_published(settings)
    if published is None or not settings.serving_db.is_file():
        return None
    serving = settings.serving_db.stat()
    if (serving.st_size, serving.st_mtime_ns) != (published.serving_size, published.serving_mtime_ns):
        return None
    if current_inputs(settings, as_of) != published.inputs:
        return None
    return (f"nothing new since run {published.run_id} (as of {as_of}): no file landed, the as-of date and "
            f"the code are unchanged, so {settings.serving_db} keeps the marts it published")
