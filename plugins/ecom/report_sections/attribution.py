"""The report's attribution section: the models side by side per channel, and the top paths.

Reads `marts.attribution_channel` (grain channel) and `marts.conversion_paths` from the serving database.
"""

from __future__ import annotations

from ecom.dbt_manifest import attribution_models
from ecom.report_sections import SERVING, Chart, Row, Section, ServingReader, figure_png

TOP_PATHS_SHOWN = 12


def build(db: ServingReader) -> Section | None:
    if not db.has(SERVING, "marts.attribution_channel"):
        return None
    credits = db.rows(
        f"""
        SELECT model, channel, conversions, revenue, spend, roas
        FROM {SERVING}.marts.attribution_channel
        WHERE grain = 'channel'
        ORDER BY channel, model
        """
    )
    section = Section(
        title="Marketing attribution",
        description="Conversions credited to each channel under the seven attribution models (heuristic: "
        "first/last touch, linear, position-based, time-decay; data-driven: Markov removal effects, "
        "Shapley), and the most converting channel paths, from marts.attribution_channel and "
        "marts.conversion_paths in the serving database.",
        empty_note="No attribution rows are being served (touchpoints may not have landed).",
    )
    if credits:
        section.charts.append(Chart(
            alt="conversions per channel under each attribution model",
            png_base64=model_comparison_png(credits),
            caption="Bars of one colour are one model; a channel whose bars differ a lot is valued very "
            "differently by the models. Spend and ROAS per model are in marts.attribution_channel.",
        ))
    if db.has(SERVING, "marts.conversion_paths"):
        paths = db.rows(
            f"""
            SELECT path, journeys, conversions, conversion_rate
            FROM {SERVING}.marts.conversion_paths
            ORDER BY path_rank
            LIMIT {TOP_PATHS_SHOWN}
            """
        )
        if paths:
            section.charts.append(Chart(
                alt="top conversion paths", png_base64=top_paths_png(paths),
                caption="Journeys (converting or not) and conversions per channel path; the label is "
                "the conversion rate.",
            ))
    return section


def conversions_by_model(credits: list[Row]) -> tuple[list[str], list[str], list[list[float]]]:
    """Channels (by conversions under last_touch, most first), models (in the order of the dbt var
    attribution_models) and, per model, its conversions per channel (0 where it credits none)."""
    models = [m for m in attribution_models() if any(row["model"] == m for row in credits)]
    models += sorted({row["model"] for row in credits} - set(models))
    table = {(row["model"], row["channel"]): float(row["conversions"] or 0) for row in credits}
    channels = sorted({row["channel"] for row in credits},
                      key=lambda channel: (-table.get(("last_touch", channel), 0.0), channel))
    return channels, models, [[table.get((model, channel), 0.0) for channel in channels] for model in models]


def model_comparison_png(credits: list[Row]) -> str:
    """Base64 PNG: grouped bars, conversions per channel, one bar per model."""
    import numpy as np
    from matplotlib import colormaps
    from matplotlib.figure import Figure

    channels, models, values = conversions_by_model(credits)
    figure = Figure(figsize=(max(6.0, 1.1 * len(channels) + 2), 4.2), dpi=100)
    axes = figure.subplots()
    width = 0.8 / len(models)
    positions = np.arange(len(channels))
    colours = colormaps["tab10"]
    for number, (model, conversions) in enumerate(zip(models, values, strict=True)):
        axes.bar(positions + (number - (len(models) - 1) / 2) * width, conversions, width, label=model,
                 color=colours(number))
    axes.set_xticks(positions, channels)
    axes.set_ylabel("conversions credited")
    axes.legend(fontsize=7, ncols=min(4, len(models)))
    axes.grid(axis="y", alpha=0.3)
    return figure_png(figure)


def top_paths_png(paths: list[Row]) -> str:
    """Base64 PNG: horizontal bars of journeys and conversions per path, labelled with the conversion rate."""
    from matplotlib.figure import Figure

    labels = [str(row["path"]) for row in reversed(paths)]
    journeys = [int(row["journeys"]) for row in reversed(paths)]
    conversions = [int(row["conversions"]) for row in reversed(paths)]
    rates = [float(row["conversion_rate"] or 0) for row in reversed(paths)]
    figure = Figure(figsize=(8, 0.9 + 0.35 * len(paths)), dpi=100)
    axes = figure.subplots()
    axes.barh(labels, journeys, color="#c6dbef", label="journeys")
    axes.barh(labels, conversions, color="#2171b5", label="conversions")
    for row, (total, rate) in enumerate(zip(journeys, rates, strict=True)):
        axes.text(total, row, f" {rate:.0%}", va="center", fontsize=7)
    axes.set_xlabel("journeys")
    axes.tick_params(axis="y", labelsize=7)
    axes.legend(fontsize=7, loc="lower right")
    return figure_png(figure)
