"""The report's attribution section on hand-made served rows."""

from __future__ import annotations

import base64
from typing import Any

from ecom.report_sections import attribution

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CREDITS = [
    {"model": "markov", "channel": "search", "conversions": 1.5, "revenue": 1, "spend": 1, "roas": 1},
    {"model": "last_touch", "channel": "search", "conversions": 1.0, "revenue": 1, "spend": 1, "roas": 1},
    {"model": "last_touch", "channel": "social", "conversions": 2.0, "revenue": 1, "spend": 1, "roas": 1},
    {"model": "first_touch", "channel": "direct", "conversions": 3.0, "revenue": 1, "spend": 0, "roas": None},
]
PATHS = [{"path": "search > social", "journeys": 4, "conversions": 1, "conversion_rate": 0.25},
         {"path": "social", "journeys": 2, "conversions": 0, "conversion_rate": 0.0}]


class Served:
    def __init__(self, relations: dict[str, list[dict[str, Any]]]) -> None:
        self.relations = relations

    def has(self, database: str, relation: str) -> bool:
        return relation in self.relations

    def rows(self, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
        return next(rows for relation, rows in self.relations.items() if relation in sql)


def test_models_side_by_side_per_channel() -> None:
    channels, models, values = attribution.conversions_by_model(CREDITS)
    assert channels == ["social", "search", "direct"]  # by last_touch conversions
    assert models == ["first_touch", "last_touch", "markov"]
    assert values == [[0.0, 0.0, 3.0], [2.0, 1.0, 0.0], [0.0, 1.5, 0.0]]


def test_section_draws_the_comparison_and_the_top_paths() -> None:
    served = Served({"marts.attribution_channel": CREDITS, "marts.conversion_paths": PATHS})
    section = attribution.build(served)
    assert section is not None
    assert [chart.alt for chart in section.charts] == [
        "conversions per channel under each attribution model", "top conversion paths"
    ]
    assert all(base64.b64decode(chart.png_base64).startswith(PNG_SIGNATURE) for chart in section.charts)


def test_section_is_absent_or_empty_when_nothing_is_served() -> None:
    assert attribution.build(Served({})) is None
    empty = attribution.build(Served({"marts.attribution_channel": []}))
    assert empty is not None and empty.charts == [] and "touchpoints" in empty.empty_note
