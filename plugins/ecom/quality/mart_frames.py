"""Frames the mart gate validates besides the marts themselves, read from the working warehouse."""

from __future__ import annotations

import duckdb
import pandas as pd

from ecom.quality.reads import fetch_frame
from ecom.sql import relation_exists


def mart_columns(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """One row per column of every relation in schema marts: table_name, column_name."""
    return fetch_frame(
        con,
        "select table_name, column_name from information_schema.columns "
        "where table_schema = 'marts' order by table_name, ordinal_position",
    )


def attribution_reconciliation(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Per attribution model: credited conversions and revenue next to user_portrait's totals."""
    if not (
        relation_exists(con, "marts", "attribution_channel")
        and relation_exists(con, "marts", "user_portrait")
    ):
        return pd.DataFrame()
    return fetch_frame(
        con,
        """
        with expected as (
            select
                coalesce(sum(order_count), 0)::double as expected_conversions,
                coalesce(sum(total_revenue), 0)::double as expected_revenue
            from marts.user_portrait
        ),
        attributed as (
            select model, sum(conversions)::double as conversions, sum(revenue)::double as revenue
            from marts.attribution_channel
            group by model
        )
        select
            attributed.model,
            attributed.conversions,
            expected.expected_conversions,
            attributed.conversions - expected.expected_conversions as conversions_difference,
            attributed.revenue,
            expected.expected_revenue,
            attributed.revenue - expected.expected_revenue as revenue_difference
        from attributed
        cross join expected
        order by attributed.model
        """,
    )
