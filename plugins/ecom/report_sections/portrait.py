"""The report's portrait section: segment sizes and value, the lifecycle funnel and the distribution of
predicted value, from marts.segment_summary and marts.user_portrait."""

from __future__ import annotations

from ecom.report_sections import SERVING, Chart, Row, Section, ServingReader, figure_png

LIFECYCLE_ORDER = ("new", "won_back", "active", "at_risk", "dormant", "churned")


def build(db: ServingReader) -> Section | None:
    if not (db.has(SERVING, "marts.segment_summary") and db.has(SERVING, "marts.user_portrait")):
        return None
    summary = db.rows(
        f"""
        SELECT dimension, segment, customers, revenue_share, avg_predicted_clv_365d
        FROM {SERVING}.marts.segment_summary
        ORDER BY dimension, customers DESC, segment
        """
    )
    predicted = [
        float(row["predicted_clv_365d"])
        for row in db.rows(
            f"""
            SELECT predicted_clv_365d FROM {SERVING}.marts.user_portrait
            WHERE predicted_clv_365d IS NOT NULL
            """
        )
    ]
    section = Section(
        title="User portrait",
        description="Customers per RFM segment with their share of revenue and mean predicted 365-day "
        "value, the lifecycle funnel, and the distribution of predicted value (BG/NBD × Gamma-Gamma), "
        "from marts.segment_summary and marts.user_portrait in the serving database.",
        empty_note="No portrait rows are being served.",
    )
    segments = [row for row in summary if row["dimension"] == "rfm_segment"]
    if segments:
        section.charts.append(
            Chart(alt="RFM segments: customers, revenue share, predicted value",
                  png_base64=segments_png(segments))
        )
    stages = {
        row["segment"]: int(row["customers"]) for row in summary if row["dimension"] == "lifecycle_stage"
    }
    if stages:
        section.charts.append(Chart(alt="lifecycle funnel", png_base64=lifecycle_funnel_png(stages)))
    if predicted:
        section.charts.append(
            Chart(
                alt="predicted 365-day value distribution",
                png_base64=predicted_value_png(predicted),
                caption=f"{len(predicted)} customers with a prediction",
            )
        )
    return section


def segments_png(segments: list[Row]) -> str:
    """Base64 PNG: per RFM segment, customers (bars), revenue share and mean predicted value."""
    from matplotlib.figure import Figure

    names = [row["segment"] for row in segments][::-1]
    figure = Figure(figsize=(10, 0.9 + 0.32 * len(names)), dpi=100)
    customers_axes, revenue_axes, value_axes = figure.subplots(1, 3, sharey=True)
    customers_axes.barh(names, [int(row["customers"]) for row in segments][::-1], color="#4c72b0")
    customers_axes.set_xlabel("customers")
    revenue_axes.barh(names, [float(row["revenue_share"] or 0) for row in segments][::-1], color="#55a868")
    revenue_axes.set_xlabel("share of revenue")
    revenue_axes.xaxis.set_major_formatter("{x:.0%}")
    mean_value = [float(row["avg_predicted_clv_365d"] or 0) for row in segments][::-1]
    value_axes.barh(names, mean_value, color="#c44e52")
    value_axes.set_xlabel("mean predicted 365-day value")
    return figure_png(figure)


def lifecycle_funnel_png(stages: dict[str, int]) -> str:
    """Base64 PNG: customers per lifecycle stage, in lifecycle order (stages not listed come last)."""
    from matplotlib.figure import Figure

    order = funnel_stages(stages)
    total = sum(stages.values())
    figure = Figure(figsize=(6, 0.9 + 0.35 * len(order)), dpi=100)
    axes = figure.subplots()
    counts = [stages[s] for s in order][::-1]
    bars = axes.barh(order[::-1], counts, color="#8172b2")
    axes.bar_label(bars, labels=[f"{c} ({c / total:.0%})" for c in counts], padding=3, fontsize=8)
    axes.set_xlabel("customers")
    axes.set_xlim(0, max(counts) * 1.3)
    return figure_png(figure)


def funnel_stages(stages: dict[str, int]) -> list[str]:
    """The stages present, in lifecycle order; stages the order does not know come last, sorted."""
    return [s for s in LIFECYCLE_ORDER if s in stages] + sorted(set(stages) - set(LIFECYCLE_ORDER))


def predicted_value_png(values: list[float]) -> str:
    """Base64 PNG: histogram of predicted 365-day value."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6, 3), dpi=100)
    axes = figure.subplots()
    axes.hist(values, bins=30, color="#dd8452")
    axes.set_xlabel("predicted 365-day value (shop currency)")
    axes.set_ylabel("customers")
    return figure_png(figure)
