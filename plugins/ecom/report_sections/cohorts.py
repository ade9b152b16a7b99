"""The report's cohort section: the monthly retention heatmap of `marts.cohort_retention`."""

from __future__ import annotations

from datetime import date
from typing import Any

from ecom.report_sections import SERVING, Chart, Row, Section, ServingReader, figure_png


def build(db: ServingReader) -> Section | None:
    if not db.has(SERVING, "marts.cohort_retention"):
        return None
    cells = db.rows(
        f"""
        SELECT cohort_start, period_index, retention_rate
        FROM {SERVING}.marts.cohort_retention
        ORDER BY cohort_start, period_index
        """
    )
    section = Section(
        title="Cohort retention",
        description="Share of each monthly cohort (month of first order) ordering again N months later, "
        "from marts.cohort_retention in the serving database.",
        empty_note="No cohort retention rows are being served.",
    )
    if cells:
        section.charts.append(Chart(alt="cohort retention heatmap", png_base64=cohort_heatmap_png(cells)))
    return section


def cohort_heatmap_png(cells: list[Row]) -> str:
    """Base64 PNG of retention rate by cohort (rows) and months since first order (columns)."""
    import numpy as np
    from matplotlib.figure import Figure

    cohorts = sorted({c["cohort_start"] for c in cells})
    periods = sorted({int(c["period_index"]) for c in cells})
    grid = np.full((len(cohorts), len(periods)), np.nan)
    for cell in cells:
        if cell["retention_rate"] is not None:
            row, column = cohorts.index(cell["cohort_start"]), periods.index(int(cell["period_index"]))
            grid[row, column] = cell["retention_rate"]

    figure = Figure(figsize=(1.2 + 0.55 * len(periods), 1.2 + 0.35 * len(cohorts)), dpi=100)
    axes = figure.subplots()
    image = axes.imshow(np.ma.masked_invalid(grid), cmap="YlGnBu", vmin=0, vmax=1, aspect="auto")
    axes.set_xticks(range(len(periods)), [str(p) for p in periods])
    axes.set_yticks(range(len(cohorts)), [_cohort_label(c) for c in cohorts])
    axes.set_xlabel("months since first order")
    axes.set_ylabel("cohort (first order month)")
    if grid.size <= 400:
        for (row, column), rate in np.ndenumerate(grid):
            if not np.isnan(rate):
                axes.text(column, row, f"{rate:.0%}", ha="center", va="center", fontsize=7,
                          color="white" if rate > 0.6 else "black")
    figure.colorbar(image, ax=axes, label="retention rate", format="{x:.0%}")
    return figure_png(figure)


def _cohort_label(cohort_start: Any) -> str:
    return cohort_start.strftime("%Y-%m") if isinstance(cohort_start, date) else str(cohort_start)
