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
from typing import Any

import yaml

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


@dataclass(frozen=True)
class MartContract:
    """What the manifest says a mart is: its contract's columns and the raw tables it needs."""

    columns: dict[str, str]  # column name -> declared data type, in contract order
    requires_sources: list[str]  # meta.requires_sources


def mart_contracts(manifest: Path) -> dict[str, MartContract]:
    """Relation name of every model the manifest builds in schema `marts` -> its contract; empty when
    there is no manifest."""
    return {
        mart: MartContract(
            columns={name: column.get("data_type") or "" for name, column in node.get("columns", {}).items()},
            requires_sources=list(_meta(node).get("requires_sources") or []),
        )
        for mart, node in _mart_nodes(manifest).items()
    }


@dataclass(frozen=True)
class EmptyReason:
    """A mart's `meta.empty_reason`: why it can be empty although its raw tables have landed."""

    query: str  # SQL on the working warehouse: one row when the reason applies, no row otherwise
    note: str  # the reason in words, a str.format template over that row's columns


def _mart_nodes(manifest: Path) -> dict[str, dict]:
    """Relation name of every model the manifest builds in schema `marts` -> its node; {} without one."""
    if not manifest.exists():
        return {}
    nodes = json.loads(manifest.read_text(encoding="utf-8")).get("nodes", {}).values()
    return {
        node.get("alias") or node["name"]: node
        for node in nodes
        if node.get("resource_type") == "model" and node.get("schema") == MARTS_SCHEMA
    }


def _meta(node: dict) -> dict:
    return (node.get("config") or {}).get("meta") or node.get("meta") or {}


def mart_source_requirements(manifest: Path) -> dict[str, list[str]]:
    """Relation name of every model the manifest builds in schema `marts` -> the raw tables it needs
    (its `meta.requires_sources`); empty when there is no manifest."""
    return {mart: contract.requires_sources for mart, contract in mart_contracts(manifest).items()}


def mart_empty_reasons(manifest: Path) -> dict[str, EmptyReason]:
    """The marts that declare a `meta.empty_reason` -> that reason."""
    reasons = {mart: _meta(node).get("empty_reason") for mart, node in _mart_nodes(manifest).items()}
    return {mart: EmptyReason(query=reason["query"], note=reason["note"])
            for mart, reason in reasons.items() if reason}


def project_var(name: str, project_dir: Path | None = None) -> Any:
    """The value `vars: {name: ...}` of the project's dbt_project.yml (a run's --vars may override it)."""
    text = ((project_dir or dbt_project_dir()) / "dbt_project.yml").read_text(encoding="utf-8")
    return yaml.safe_load(text)["vars"][name]


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
    for name, node in _mart_nodes(manifest).items():
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
    return sorted(mart_contracts(manifest))


def attribution_models(project_dir: Path | None = None) -> list[str]:
    """The attribution models the marts compute, in their order: var `attribution_models` of the dbt
    project's dbt_project.yml (default: the project the pipeline runs), the one list of them."""
    return [str(model) for model in project_var("attribution_models", project_dir)]


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
