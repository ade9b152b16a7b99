"""The documentation pages generated from the project's YAML, so what a user reads is what runs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ecom.contract.docs import render_contract_markdown
from ecom.mart_docs import render_marts_markdown

GENERATED_PAGES: dict[str, Callable[[], str]] = {
    "raw_data_contract.md": render_contract_markdown,
    "marts.md": render_marts_markdown,
}


def write_docs_pages(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, render in GENERATED_PAGES.items():
        path = folder / name
        path.write_text(render(), encoding="utf-8")
        written.append(path)
    return written
