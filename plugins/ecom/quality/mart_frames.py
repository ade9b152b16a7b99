"""Frames the mart gate validates besides the marts themselves, read from the working warehouse."""

from __future__ import annotations

import duckdb
import pandas as pd

from ecom.quality.reads import fetch_frame
from ecom.sql import relation_exists

# The attribution models marts.attribution_channel credits, each of which must reconcile with the
# orders (dbt: accepted_values of attribution_channel.model).
ATTRIBUTION_MODELS: tuple[str, ...] = ("first_touch", "last_touch", "linear")
# The raw tables attribution_channel needs (dbt: its meta.requires_sources). While one of them has not
# landed the mart is built empty, and only then may it be empty although there are orders.
ATTRIBUTION_REQUIRED_RAW_TABLES: tuple[str, ...] = ("orders", "touchpoints")


def mart_columns(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """One row per column of every relation in schema marts: table_name, column_name."""
    return fetch_frame(
        con,
        "select table_name, column_name from information_schema.columns "
        "where table_schema = 'marts' order by table_name, ordinal_position",
    )


def raw_tables_not_landed(con: duckdb.DuckDBPyConnection, tables: tuple[str, ...]) -> list[str]:
    """The tables, in the given order, that have no relation in schema raw (no file accepted yet)."""
    return [table for table in tables if not relation_exists(con, "raw", table)]


def attribution_reconciliation(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """One row per model of ATTRIBUTION_MODELS, whether marts.attribution_channel has rows of it or not:
    its channel rows and the conversions and revenue it credits (0 when it has none) next to the
    orders and revenue marts.user_portrait counts, and the differences. Both marts must exist."""
    return fetch_frame(
        con,
        """
        with attribution_models as (
            select unnest($models::varchar[]) as model
        ),
        expected as (
            select
                coalesce(sum(order_count), 0)::double as expected_conversions,
                coalesce(sum(total_revenue), 0)::double as expected_revenue
            from marts.user_portrait
        ),
        attributed as (
            select
                model,
                count(*) as channel_rows,
                sum(conversions)::double as conversions,
                sum(revenue)::double as revenue
            from marts.attribution_channel
            group by model
        ),
        credited as (
            select
                attribution_models.model,
                coalesce(attributed.channel_rows, 0) as channel_rows,
                coalesce(attributed.conversions, 0) as conversions,
                coalesce(attributed.revenue, 0) as revenue
            from attribution_models
            left join attributed on attribution_models.model = attributed.model
        )
        select
            credited.model,
            credited.channel_rows,
            credited.conversions,
            expected.expected_conversions,
            credited.conversions - expected.expected_conversions as conversions_difference,
            credited.revenue,
            expected.expected_revenue,
            credited.revenue - expected.expected_revenue as revenue_difference
        from credited
        cross join expected
        order by credited.model
        """,
        {"models": list(ATTRIBUTION_MODELS)},
    )
