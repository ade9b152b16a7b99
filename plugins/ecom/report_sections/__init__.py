"""Sections of the run report that show what the published marts say, one module per subject.

Each module has `build(db: ServingReader) -> Section | None`; `SECTION_BUILDERS` lists them in page
order. A section reads the serving database only, so it shows what BI sees, and returns None when its
marts are not being served (the page then says so).
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from matplotlib.figure import Figure

Row = dict[str, Any]

SERVING = "serving"


class ServingReader(Protocol):
    """What a section may ask of the report's databases."""

    def has(self, database: str, relation: str) -> bool: ...

    def rows(self, sql: str, params: list[Any] | dict[str, Any] | None = None) -> list[Row]: ...


@dataclass
class Chart:
    alt: str
    png_base64: str
    caption: str = ""


@dataclass
class Section:
    title: str
    description: str
    charts: list[Chart] = field(default_factory=list)
    empty_note: str = ""


def figure_png(figure: Figure) -> str:
    """A matplotlib figure as base64 PNG (no timestamps or software tag: same data, same bytes)."""
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _builders() -> list[Callable[[ServingReader], Section | None]]:
    from ecom.report_sections import attribution, cohorts, portrait

    return [portrait.build, cohorts.build, attribution.build]


def build_sections(db: ServingReader) -> list[Section]:
    return [section for build in _builders() if (section := build(db)) is not None]
