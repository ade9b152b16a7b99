"""The files generated from the project's YAML, so what a user reads (and dbt parses) is what runs:
the documentation pages under docs/ and the dbt sources of the raw layer."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ecom.contract.dbt_sources import DBT_SOURCES_FILE, render_dbt_sources
from ecom.contract.docs import render_contract_markdown
from ecom.mart_docs import render_marts_markdown

GENERATED_PAGES: dict[str, Callable[[], str]] = {
    "raw_data_contract.md": render_contract_markdown,
    "marts.md": render_marts_markdown,
}
# Generated files of the dbt project, at fixed paths.
GENERATED_PROJECT_FILES: dict[Path, Callable[[], str]] = {DBT_SOURCES_FILE: render_dbt_sources}


def write_project_files() -> list[Path]:
    for path, render in GENERATED_PROJECT_FILES.items():
        path.write_text(render(), encoding="utf-8")
    return list(GENERATED_PROJECT_FILES)


def write_docs_pages(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, render in GENERATED_PAGES.items():
        path = folder / name
        path.write_text(render(), encoding="utf-8")
        written.append(path)
    return written
