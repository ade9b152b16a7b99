"""The report's cohort section: what the cohort marts in the serving database say, as pictures.

- a retention heatmap of the monthly cohorts (`marts.cohort_retention`, month, 'all'),
- retention curves per acquisition channel (the channel's monthly cohorts pooled),
- LTV curves: cumulative revenue per cohort customer, one line per recent monthly cohort,
- monthly growth accounting (`marts.growth_accounting`): new, retained, won-back and churned customers.

Every chart function takes plain rows and tolerates missing cells (absent periods, null values).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from ecom.dbt_manifest import project_var
from ecom.report_sections import SERVING, Chart, Row, Section, ServingReader, figure_png

if TYPE_CHECKING:
    from matplotlib.axes import Axes

RETENTION = f"{SERVING}.marts.cohort_retention"
GROWTH = f"{SERVING}.marts.growth_accounting"
LTV_COHORTS = 12  # LTV curves of the most recent monthly cohorts; more lines are unreadable

# Each chart leaves out cohorts (or pooled points) of fewer customers than its parameter, the dbt var
# cohort_min_customers: a small cohort's rate is noise.
HEATMAP_SQL = f"""
    SELECT cohort_start, period_index, retention_rate, is_complete
    FROM {RETENTION}
    WHERE cohort_grain = 'month' AND cohort_dimension = 'all' AND cohort_size >= $min_customers
    ORDER BY cohort_start, period_index
"""
SMALL_COHORTS_SQL = f"""
    SELECT DISTINCT cohort_start, cohort_size
    FROM {RETENTION}
    WHERE cohort_grain = 'month' AND cohort_dimension = 'all' AND cohort_size < $min_customers
    ORDER BY cohort_start
"""
# A channel's curve pools its monthly cohorts: at period N, the customers active N months after their
# first order over the customers of the cohorts whose period N has ended.
CHANNEL_CURVES_SQL = f"""
    SELECT cohort_value AS curve, period_index,
           sum(active_customers) / sum(cohort_size) AS value
    FROM {RETENTION}
    WHERE cohort_grain = 'month' AND cohort_dimension = 'acquisition_channel' AND is_complete
    GROUP BY cohort_value, period_index
    HAVING sum(cohort_size) >= $min_customers
    ORDER BY cohort_value, period_index
"""
LTV_CURVES_SQL = f"""
    SELECT strftime(cohort_start, '%Y-%m') AS curve, period_index,
           cumulative_revenue_per_customer AS value
    FROM {RETENTION}
    WHERE cohort_grain = 'month' AND cohort_dimension = 'all' AND is_complete
      AND cohort_start IN (
          SELECT DISTINCT cohort_start FROM {RETENTION}
          WHERE cohort_grain = 'month' AND cohort_dimension = 'all' AND cohort_size >= $min_customers
          ORDER BY cohort_start DESC LIMIT {LTV_COHORTS})
    ORDER BY cohort_start, period_index
"""
GROWTH_SQL = f"""
    SELECT activity_month, new_customers, retained_customers, won_back_customers, churned_customers
    FROM {GROWTH}
    ORDER BY activity_month
"""


def build(db: ServingReader, min_customers: int | None = None) -> Section | None:
    """The section; `min_customers` defaults to the dbt var cohort_min_customers."""
    if not db.has(SERVING, "marts.cohort_retention"):
        return None
    if min_customers is None:
        min_customers = int(project_var("cohort_min_customers"))
    size = {"min_customers": min_customers}
    section = Section(
        title="Cohorts and retention",
        description="Customers grouped by the month of their first order (cohorts) and what they did "
        "afterwards, from marts.cohort_retention and marts.growth_accounting in the serving database.",
        empty_note="No cohort retention rows are being served.",
    )
    small = f"fewer than {min_customers} customers (dbt var cohort_min_customers)"
    if heatmap_cells := db.rows(HEATMAP_SQL, size):
        left_out = [f"{_month_label(c['cohort_start'])} ({c['cohort_size']})"
                    for c in db.rows(SMALL_COHORTS_SQL, size)]
        section.charts.append(Chart(
            alt="cohort retention heatmap", png_base64=cohort_heatmap_png(heatmap_cells),
            caption="Share of each monthly cohort ordering again N months after its first month; "
            "* marks a month that had not ended by the as-of date."
            + (f" Cohorts of {small} are left out: {', '.join(left_out)}." if left_out else ""),
        ))
    if channel_points := db.rows(CHANNEL_CURVES_SQL, size):
        section.charts.append(Chart(
            alt="retention curves per acquisition channel",
            png_base64=curves_png(channel_points, "months since first order", "retention rate", percent=True),
            caption="Retention per acquisition channel: each channel's monthly cohorts pooled, "
            f"months that have fully elapsed only; a month pooling {small} is left out.",
        ))
    if ltv_points := db.rows(LTV_CURVES_SQL, size):
        section.charts.append(Chart(
            alt="LTV curves per monthly cohort",
            png_base64=curves_png(ltv_points, "months since first order", "cumulative revenue per customer"),
            caption=f"LTV curves: cumulative revenue per cohort customer, the {LTV_COHORTS} most recent "
            f"monthly cohorts of at least {min_customers} customers, months that have fully elapsed only.",
        ))
    if db.has(SERVING, "marts.growth_accounting") and (months := db.rows(GROWTH_SQL)):
        section.charts.append(Chart(
            alt="monthly growth accounting", png_base64=growth_accounting_png(months),
            caption="Active customers per month split into new, retained and won back; churned "
            "customers (active the month before, not this month) below zero.",
        ))
    return section


def cohort_heatmap_png(cells: list[Row]) -> str:
    """Base64 PNG of retention rate by cohort (rows) and months since first order (columns).
    A cell whose `is_complete` is false (period not over) is marked with '*'."""
    import numpy as np
    from matplotlib.figure import Figure

    cohorts = sorted({c["cohort_start"] for c in cells})
    periods = sorted({int(c["period_index"]) for c in cells})
    grid = np.full((len(cohorts), len(periods)), np.nan)
    partial = np.zeros(grid.shape, dtype=bool)
    for cell in cells:
        row, column = cohorts.index(cell["cohort_start"]), periods.index(int(cell["period_index"]))
        if cell["retention_rate"] is not None:
            grid[row, column] = cell["retention_rate"]
        partial[row, column] = cell.get("is_complete") is False

    figure = Figure(figsize=(1.2 + 0.55 * len(periods), 1.2 + 0.35 * len(cohorts)), dpi=100)
    axes = figure.subplots()
    image = axes.imshow(np.ma.masked_invalid(grid), cmap="YlGnBu", vmin=0, vmax=1, aspect="auto")
    axes.set_xticks(range(len(periods)), [str(p) for p in periods])
    axes.set_yticks(range(len(cohorts)), [_month_label(c) for c in cohorts])
    axes.set_xlabel("months since first order")
    axes.set_ylabel("cohort (first order month)")
    if grid.size <= 400:
        for (row, column), rate in np.ndenumerate(grid):
            if not np.isnan(rate):
                axes.text(column, row, f"{rate:.0%}{'*' if partial[row, column] else ''}", ha="center",
                          va="center", fontsize=7, color="white" if rate > 0.6 else "black")
    figure.colorbar(image, ax=axes, label="retention rate", format="{x:.0%}")
    return figure_png(figure)


def curves_png(points: list[Row], x_label: str, y_label: str, *, percent: bool = False) -> str:
    """Base64 PNG of one line per `curve` through its (`period_index`, `value`) points; points without a
    value are left out, so a curve may have gaps or a single point."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import PercentFormatter

    curves: dict[str, list[tuple[int, float]]] = {}
    for point in points:
        if point["value"] is not None:
            curve = curves.setdefault(str(point["curve"]), [])
            curve.append((int(point["period_index"]), float(point["value"])))
    figure = Figure(figsize=(8.5, 4), dpi=100)
    axes = figure.subplots()
    for name, curve in sorted(curves.items()):
        periods, values = zip(*sorted(curve), strict=True)
        axes.plot(periods, values, marker="o", markersize=3, linewidth=1.5, label=name)
    axes.set_xlabel(x_label)
    axes.set_ylabel(y_label)
    axes.xaxis.get_major_locator().set_params(integer=True)
    if percent:
        axes.yaxis.set_major_formatter(PercentFormatter(xmax=1))
        axes.set_ylim(0, 1.02)
    axes.grid(alpha=0.3)
    _legend(axes, len(curves))
    return figure_png(figure)


def growth_accounting_png(months: list[Row]) -> str:
    """Base64 PNG of monthly bars: new, retained and won-back customers stacked up, churned down.
    A missing count is drawn as 0."""
    from matplotlib.figure import Figure

    def counts(column: str) -> list[int]:
        return [int(month.get(column) or 0) for month in months]

    labels = [_month_label(month["activity_month"]) for month in months]
    positions = range(len(months))
    figure = Figure(figsize=(max(5.0, 0.6 * len(months) + 2), 4), dpi=100)
    axes = figure.subplots()
    bottom = [0] * len(months)
    for column, label, colour in (
        ("new_customers", "new", "#2b8cbe"),
        ("retained_customers", "retained", "#7bccc4"),
        ("won_back_customers", "won back", "#bae4bc"),
    ):
        heights = counts(column)
        axes.bar(positions, heights, bottom=bottom, label=label, color=colour)
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    axes.bar(positions, [-c for c in counts("churned_customers")], label="churned", color="#de2d26")
    axes.axhline(0, color="black", linewidth=0.8)
    axes.set_xticks(positions, labels, rotation=45, ha="right")
    axes.set_ylabel("customers")
    _legend(axes, 4)
    return figure_png(figure)


def _legend(axes: Axes, entries: int) -> None:
    """The legend to the right of the plot, outside it, so that it never covers a line or a bar."""
    if entries:
        axes.legend(fontsize=7, ncol=max(1, (entries + 19) // 20), loc="upper left", bbox_to_anchor=(1.01, 1),
                    borderaxespad=0, frameon=False)


def _month_label(day: Any) -> str:
    return day.strftime("%Y-%m") if isinstance(day, date) else str(day)
