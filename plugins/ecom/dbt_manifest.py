"""Keep `<dbt project>/target/manifest.json` fresh: cosmos renders the DAG's dbt tasks from it.

`python -m ecom.dbt_manifest` regenerates it when stale (docker-compose's airflow-init runs this).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from ecom.config import DBT_PROJECT_DIR, Settings

# Points the DAG and `ecom run` at another dbt project (tests use a tiny one); default: dbt_project/.
PROJECT_DIR_ENV = "ECOM_DBT_PROJECT_DIR"

# Folders of the dbt project that hold dbt's outputs or downloads, not its sources.
GENERATED_DIRS = frozenset({"target", "logs", "dbt_packages"})


class ManifestError(RuntimeError):
    """`dbt parse` could not build the manifest (the message carries dbt's error)."""


def dbt_project_dir() -> Path:
    """The dbt project the pipeline runs: $ECOM_DBT_PROJECT_DIR, else the repo's dbt_project/."""
    override = os.environ.get(PROJECT_DIR_ENV, "").strip()
    return Path(override).resolve() if override else DBT_PROJECT_DIR


def manifest_path(project_dir: Path = DBT_PROJECT_DIR) -> Path:
    return project_dir / "target" / "manifest.json"


MARTS_SCHEMA = "marts"


def _mart_nodes(manifest: Path) -> Iterator[tuple[str, dict]]:
    """(relation name, manifest node) of every model the manifest builds in schema `marts`; none when
    there is no manifest."""
    if not manifest.exists():
        return
    for node in json.loads(manifest.read_text(encoding="utf-8")).get("nodes", {}).values():
        if node.get("resource_type") == "model" and node.get("schema") == MARTS_SCHEMA:
            yield node.get("alias") or node["name"], node


def mart_source_requirements(manifest: Path) -> dict[str, list[str]]:
    """Relation name of every model the manifest builds in schema `marts` -> the raw tables it needs
    (its `meta.requires_sources`); empty when there is no manifest."""
    requirements: dict[str, list[str]] = {}
    for name, node in _mart_nodes(manifest):
        meta = (node.get("config") or {}).get("meta") or node.get("meta") or {}
        requirements[name] = list(meta.get("requires_sources") or [])
    return requirements


@dataclass(frozen=True)
class MartDescription:
    """A mart's dbt description, its columns' (name -> description, whitespace collapsed; a column
    without one is absent) and their declared data types (name -> type, as the contract states it)."""

    description: str
    columns: dict[str, str]
    column_types: dict[str, str] = field(default_factory=dict)


def mart_descriptions(manifest: Path) -> dict[str, MartDescription]:
    """Relation name of every mart the manifest builds -> its dbt descriptions (what BI shows)."""
    descriptions = {}
    for name, node in _mart_nodes(manifest):
        columns = (node.get("columns") or {}).items()
        texts = {column: one_line(doc.get("description") or "") for column, doc in columns}
        descriptions[name] = MartDescription(
            one_line(node.get("description") or ""),
            {column: text for column, text in texts.items() if text},
            {column: doc["data_type"] for column, doc in columns if doc.get("data_type")},
        )
    return descriptions


def one_line(text: str) -> str:
    """A description as one line: YAML folded blocks end in a newline and may wrap."""
    return " ".join(str(text).split())


def mart_names(manifest: Path) -> list[str]:
    """Names of the models the manifest builds in schema `marts`, sorted."""
    return sorted(mart_source_requirements(manifest))


def project_source_files(project_dir: Path) -> Iterator[Path]:
    """Every file that shapes the manifest: models, macros, seeds, tests, snapshots, yml."""
    for root, dirs, files in os.walk(project_dir):
        dirs[:] = [d for d in dirs if d not in GENERATED_DIRS and not d.startswith(".")]
        for name in files:
            if not name.startswith("."):
                yield Path(root) / name


def manifest_is_stale(project_dir: Path = DBT_PROJECT_DIR) -> bool:
    """True when the manifest is missing or any project source file was modified after it."""
    manifest = manifest_path(project_dir)
    if not manifest.is_file():
        return True
    built = manifest.stat().st_mtime
    return any(path.stat().st_mtime > built for path in project_source_files(project_dir))


def ensure_manifest(settings: Settings, project_dir: Path = DBT_PROJECT_DIR) -> Path:
    """Return the manifest path, running `dbt parse` (in-process) first when it is stale."""
    if manifest_is_stale(project_dir):
        parse_project(settings, project_dir)
    return manifest_path(project_dir)


def parse_project(settings: Settings, project_dir: Path = DBT_PROJECT_DIR) -> None:
    """`dbt parse` with the project's own profiles.yml; dbt's log goes under the warehouse."""
    from dbt.cli.main import dbtRunner

    args = [
        "parse",
        "--project-dir", str(project_dir),
        "--profiles-dir", str(project_dir),
        "--target-path", str(manifest_path(project_dir).parent),
        "--log-path", str(settings.dbt_log_dir),
        "--quiet",
    ]
    with environment(settings.as_env()):
        result = dbtRunner().invoke(args)
    if not result.success:
        reason = result.exception or f"see {settings.dbt_log_dir / 'dbt.log'}"
        raise ManifestError(f"dbt parse of {project_dir} failed: {reason}")


@contextmanager
def environment(values: Mapping[str, str]) -> Iterator[None]:
    """Set environment variables for the duration (dbt reads env_var() from os.environ)."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def main() -> int:
    path = ensure_manifest(Settings.from_env(), dbt_project_dir())
    print(f"dbt manifest up to date: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
