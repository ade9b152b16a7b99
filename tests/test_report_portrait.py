"""The report's portrait section, on a hand-made serving database."""

from __future__ import annotations

import base64
from pathlib import Path

import duckdb

from ecom.report_sections import SERVING, portrait

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class Reader:
    """The ServingReader a section gets from the report, over one attached database."""

    def __init__(self, path: Path) -> None:
        self.con = duckdb.connect()
        self.con.execute(f"ATTACH '{path}' AS {SERVING} (READ_ONLY)")

    def has(self, database: str, relation: str) -> bool:
        schema, table = relation.split(".")
        found = self.con.execute(
            "select count(*) from information_schema.tables "
            "where table_catalog = ? and table_schema = ? and table_name = ?",
            [database, schema, table],
        ).fetchone()
        return bool(found and found[0])

    def rows(self, sql: str, params: list | None = None) -> list[dict]:
        cursor = self.con.execute(sql, params or [])
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def serving_db(tmp_path: Path, with_marts: bool) -> Path:
    path = tmp_path / "serving.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        if with_marts:
            con.execute("""
                create table marts.segment_summary as select * from (values
                    ('rfm_segment', 'Champions', 2, 0.8, 75.0), ('rfm_segment', 'Lost', 2, 0.2, 30.0),
                    ('lifecycle_stage', 'active', 3, 0.9, 60.0), ('lifecycle_stage', 'churned', 1, 0.1, null)
                ) as t(dimension, segment, customers, revenue_share, avg_predicted_clv_365d)""")
            con.execute("""
                create table marts.user_portrait as
                select * from (values (100.0), (50.0), (null), (30.0)) as t(predicted_clv_365d)""")
    return path


def test_portrait_section_draws_segments_funnel_and_predicted_value(tmp_path: Path) -> None:
    section = portrait.build(Reader(serving_db(tmp_path, with_marts=True)))
    assert section is not None and section.title == "User portrait"
    assert [chart.alt for chart in section.charts] == [
        "RFM segments: customers, revenue share, predicted value",
        "lifecycle funnel",
        "predicted 365-day value distribution",
    ]
    assert section.charts[2].caption == "3 customers with a prediction"
    for chart in section.charts:
        assert base64.b64decode(chart.png_base64).startswith(PNG_SIGNATURE)


def test_portrait_section_is_absent_when_its_marts_are_not_served(tmp_path: Path) -> None:
    assert portrait.build(Reader(serving_db(tmp_path, with_marts=False))) is None


def test_funnel_follows_the_lifecycle_and_keeps_unknown_stages_last() -> None:
    stages = {"churned": 1, "active": 5, "new": 2, "zombie": 1, "won_back": 1}
    assert portrait.funnel_stages(stages) == ["new", "won_back", "active", "churned", "zombie"]
