"""The report's cohort section: the charts it draws from hand-made cohort marts, and its tolerance of gaps."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import date
from typing import Any

import duckdb
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ecom.dbt_manifest import project_var
from ecom.report_sections import Row, cohorts
from ecom.sql import relation_exists

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# As of 2024-03-15: January and February have ended, March has not. Two channels cut the cohorts:
# January = search 3 + social 1, February = search 1 + social 4, March = social 3.
COHORT_RETENTION = """
CREATE SCHEMA serving.marts;
CREATE TABLE serving.marts.cohort_retention AS SELECT * FROM (VALUES
    ('month', 'all', 'all', DATE '2024-01-01', 0, true, 4, 4, 1.0, 50.0),
    ('month', 'all', 'all', DATE '2024-01-01', 1, true, 4, 2, 0.5, 60.0),
    ('month', 'all', 'all', DATE '2024-01-01', 2, false, 4, 1, 0.25, 65.0),
    ('month', 'all', 'all', DATE '2024-02-01', 0, true, 5, 5, 1.0, 40.0),
    ('month', 'all', 'all', DATE '2024-02-01', 1, false, 5, 1, 0.2, 42.0),
    ('month', 'all', 'all', DATE '2024-03-01', 0, false, 3, 3, 1.0, 30.0),
    ('month', 'acquisition_channel', 'search', DATE '2024-01-01', 0, true, 3, 3, 1.0, 55.0),
    ('month', 'acquisition_channel', 'search', DATE '2024-01-01', 1, true, 3, 2, 2 / 3, 68.0),
    ('month', 'acquisition_channel', 'search', DATE '2024-01-01', 2, false, 3, 1, 1 / 3, 75.0),
    ('month', 'acquisition_channel', 'search', DATE '2024-02-01', 0, true, 1, 1, 1.0, 20.0),
    ('month', 'acquisition_channel', 'search', DATE '2024-02-01', 1, false, 1, 0, 0.0, 20.0),
    ('month', 'acquisition_channel', 'social', DATE '2024-01-01', 0, true, 1, 1, 1.0, 35.0),
    ('month', 'acquisition_channel', 'social', DATE '2024-01-01', 1, true, 1, 0, 0.0, 36.0),
    ('month', 'acquisition_channel', 'social', DATE '2024-01-01', 2, false, 1, 0, 0.0, 35.0),
    ('month', 'acquisition_channel', 'social', DATE '2024-02-01', 0, true, 4, 4, 1.0, 45.0),
    ('month', 'acquisition_channel', 'social', DATE '2024-02-01', 1, false, 4, 1, 0.25, 47.5),
    ('month', 'acquisition_channel', 'social', DATE '2024-03-01', 0, false, 3, 3, 1.0, 30.0),
    ('week', 'all', 'all', DATE '2024-01-01', 0, true, 2, 2, 1.0, 10.0)
) AS t(cohort_grain, cohort_dimension, cohort_value, cohort_start, period_index, is_complete, cohort_size,
       active_customers, retention_rate, cumulative_revenue_per_customer)
"""
GROWTH_ACCOUNTING = """
CREATE TABLE serving.marts.growth_accounting AS SELECT * FROM (VALUES
    (DATE '2024-01-01', 4, 0, 0, 0),
    (DATE '2024-02-01', 5, 2, 0, 2)
) AS t(activity_month, new_customers, retained_customers, won_back_customers, churned_customers)
"""


class ServingDatabase:
    """The section's view of a serving database: an in-memory DuckDB attached as `serving`."""

    def __init__(self) -> None:
        self.con = duckdb.connect()
        self.con.execute("ATTACH ':memory:' AS serving")

    def has(self, database: str, relation: str) -> bool:
        schema, table = relation.split(".")
        return relation_exists(self.con, schema, table, database)

    def rows(self, sql: str, params: list[Any] | dict[str, Any] | None = None) -> list[Row]:
        cursor = self.con.execute(sql, params or [])
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]


@pytest.fixture
def serving() -> Iterator[ServingDatabase]:
    db = ServingDatabase()
    db.con.execute(COHORT_RETENTION + ";" + GROWTH_ACCOUNTING)
    yield db
    db.con.close()


def is_png(png_base64: str) -> bool:
    return base64.b64decode(png_base64).startswith(PNG_SIGNATURE)


EVERY_COHORT = {"min_customers": 1}


def test_section_draws_heatmap_channel_curves_ltv_and_growth(serving: ServingDatabase) -> None:
    section = cohorts.build(serving, min_customers=1)

    assert section is not None
    assert [chart.alt for chart in section.charts] == [
        "cohort retention heatmap",
        "retention curves per acquisition channel",
        "LTV curves per monthly cohort",
        "monthly growth accounting",
    ]
    assert all(is_png(chart.png_base64) for chart in section.charts)


def test_heatmap_reads_the_overall_monthly_cohorts(serving: ServingDatabase) -> None:
    cells = serving.rows(cohorts.HEATMAP_SQL, EVERY_COHORT)
    assert [(c["cohort_start"], c["period_index"], c["retention_rate"], c["is_complete"]) for c in cells] == [
        (date(2024, 1, 1), 0, 1.0, True),
        (date(2024, 1, 1), 1, 0.5, True),
        (date(2024, 1, 1), 2, 0.25, False),
        (date(2024, 2, 1), 0, 1.0, True),
        (date(2024, 2, 1), 1, 0.2, False),
        (date(2024, 3, 1), 0, 1.0, False),
    ]


def test_channel_curves_pool_the_elapsed_periods_of_each_channel(serving: ServingDatabase) -> None:
    rows = serving.rows(cohorts.CHANNEL_CURVES_SQL, EVERY_COHORT)
    points = [(p["curve"], p["period_index"], p["value"]) for p in rows]
    # search: month 0 (3 + 1) / (3 + 1); month 1 only January has ended: 2 / 3. social: (1 + 4) / (1 + 4),
    # then January's 0 / 1. No month 2 has ended.
    assert points == [
        ("search", 0, 1.0), ("search", 1, pytest.approx(2 / 3)), ("social", 0, 1.0), ("social", 1, 0.0),
    ]


def test_ltv_curves_keep_elapsed_months_of_the_recent_cohorts(serving: ServingDatabase) -> None:
    rows = serving.rows(cohorts.LTV_CURVES_SQL, EVERY_COHORT)
    points = [(p["curve"], p["period_index"], p["value"]) for p in rows]
    assert points == [("2024-01", 0, 50.0), ("2024-01", 1, 60.0), ("2024-02", 0, 40.0)]


def test_section_without_growth_accounting_keeps_the_cohort_charts(serving: ServingDatabase) -> None:
    serving.con.execute("DROP TABLE serving.marts.growth_accounting")

    section = cohorts.build(serving, min_customers=1)

    assert section is not None
    assert len(section.charts) == 3


def test_no_section_without_cohort_retention() -> None:
    assert cohorts.build(ServingDatabase()) is None


def test_empty_cohort_retention_gives_a_section_without_charts(serving: ServingDatabase) -> None:
    serving.con.execute("DELETE FROM serving.marts.cohort_retention")
    serving.con.execute("DELETE FROM serving.marts.growth_accounting")

    section = cohorts.build(serving)

    assert section is not None
    assert section.charts == []
    assert section.empty_note


def test_cohort_heatmap_tolerates_missing_cells() -> None:
    cells = [
        {"cohort_start": date(2024, 1, 1), "period_index": 0, "retention_rate": 1.0, "is_complete": True},
        {"cohort_start": date(2024, 1, 1), "period_index": 2, "retention_rate": None, "is_complete": True},
        {"cohort_start": date(2024, 2, 1), "period_index": 1, "retention_rate": 0.4, "is_complete": False},
        {"cohort_start": date(2024, 3, 1), "period_index": 0, "retention_rate": 1.0},
    ]
    assert is_png(cohorts.cohort_heatmap_png(cells))


def test_curves_tolerate_gaps_nulls_and_single_points() -> None:
    points = [
        {"curve": "search", "period_index": 0, "value": 1.0},
        {"curve": "search", "period_index": 3, "value": 0.2},
        {"curve": "search", "period_index": 1, "value": None},
        {"curve": "kol_live", "period_index": 0, "value": 1.0},
        {"curve": "unknown", "period_index": 2, "value": None},
    ]
    assert is_png(cohorts.curves_png(points, "months", "retention", percent=True))
    assert is_png(cohorts.curves_png([], "months", "revenue"))


def test_growth_accounting_draws_missing_counts_as_zero() -> None:
    months = [
        {"activity_month": date(2024, 1, 1), "new_customers": 3, "retained_customers": None,
         "won_back_customers": 0, "churned_customers": None},
        {"activity_month": date(2024, 2, 1), "new_customers": 1, "retained_customers": 2,
         "won_back_customers": 1, "churned_customers": 1},
    ]
    assert is_png(cohorts.growth_accounting_png(months))


def test_small_cohorts_and_small_pooled_months_are_not_charted(serving: ServingDatabase) -> None:
    """At least 5 customers: the heatmap keeps February (5), not January (4) or March (3); a channel keeps
    the months pooling 5 or more (social month 0: 1 + 4); the LTV curves keep February only."""
    at_least_5 = {"min_customers": 5}

    heatmap = {c["cohort_start"] for c in serving.rows(cohorts.HEATMAP_SQL, at_least_5)}
    channels = serving.rows(cohorts.CHANNEL_CURVES_SQL, at_least_5)
    ltv = serving.rows(cohorts.LTV_CURVES_SQL, at_least_5)
    section = cohorts.build(serving, min_customers=5)

    assert heatmap == {date(2024, 2, 1)}
    assert [(p["curve"], p["period_index"], p["value"]) for p in channels] == [("social", 0, 1.0)]
    assert [(p["curve"], p["period_index"]) for p in ltv] == [("2024-02", 0)]
    assert section.charts[0].caption.endswith(
        "Cohorts of fewer than 5 customers (dbt var cohort_min_customers) are left out: "
        "2024-01 (4), 2024-03 (3).")


def test_the_minimum_cohort_size_is_the_dbt_var(serving: ServingDatabase) -> None:
    minimum = project_var("cohort_min_customers")
    assert max(size for (size,) in serving.con.execute(
        "SELECT cohort_size FROM serving.marts.cohort_retention").fetchall()) < minimum

    section = cohorts.build(serving)

    assert [chart.alt for chart in section.charts] == ["monthly growth accounting"]


def test_legends_sit_beside_the_plot_not_over_it() -> None:
    figure = Figure(figsize=(8.5, 4), dpi=100)
    axes = figure.subplots()
    for curve in range(12):
        axes.plot([0, 1, 2], [1.0, 0.5 - curve / 40, 0.3], label=f"2024-{curve + 1:02d}")
    cohorts._legend(axes, 12)
    figure.tight_layout()
    renderer = FigureCanvasAgg(figure).get_renderer()

    legend, plot = axes.get_legend().get_window_extent(renderer), axes.get_window_extent(renderer)

    assert legend.x0 >= plot.x1  # right of the plotting area
    assert legend.x1 <= figure.bbox.x1  # and still on the picture
