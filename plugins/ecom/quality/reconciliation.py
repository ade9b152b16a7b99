"""Attribution reconciliation, the one place it is written: per attribution model, every set of credits
of the attribution marts credits each conversion exactly once, and its revenue.

One DuckDB query returns one small row per credit set and model (a few dozen rows, whatever the size
of the marts); the mart gate validates them against expectations/marts_gate/attribution_reconciliation.json.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandas as pd

from ecom.quality.reads import fetch_frame
from ecom.sql import literal, relation_exists

# The mart whose order counts and revenue are the conversions counted independently (all_orders).
CONVERSIONS_MART = "user_portrait"


@dataclass(frozen=True)
class CreditSet:
    """Rows of an attribution mart that, per model, must credit every conversion exactly once."""

    mart: str
    grain: str
    rows: str  # SQL condition selecting the set's rows
    conversions: str = "conversions"  # the column of credited conversions
    revenue: str = "revenue"  # the column of credited revenue
    conversion: str | None = None  # the column naming the conversion, when rows are shares of one

    def sums_sql(self) -> str:
        """Per model: rows, credited conversions and revenue, and conversions whose shares do not sum
        to 1 (within 1e-6; always 0 for a set without a conversion column)."""
        conversion = self.conversion or "null"
        return f"""
            select '{self.mart}' as mart, '{self.grain}' as grain, model, sum(share_rows) as credit_rows,
                   sum(credited)::double as conversions, sum(credited_revenue)::double as revenue,
                   count(*) filter (where {self.conversion is not None} and abs(credited - 1) > 1e-6)
                       as conversions_not_summing_to_one
            from (
                select model, {conversion} as conversion, count(*) as share_rows,
                       sum({self.conversions}) as credited, sum({self.revenue}) as credited_revenue
                from marts.{self.mart}
                where {self.rows}
                group by model, {conversion}
            ) as per_conversion
            group by model"""


ATTRIBUTION_CREDIT_SETS: tuple[CreditSet, ...] = (
    CreditSet("attribution_channel", "channel", "grain = 'channel'"),
    CreditSet("attribution_channel", "campaign", "grain = 'campaign'"),
    CreditSet("attribution_touchpoint", "touchpoint", "true", "credit", "revenue_credit", "order_id"),
    CreditSet("attribution_daily", "day", "true"),
)
ATTRIBUTION_MARTS: tuple[str, ...] = tuple(dict.fromkeys(s.mart for s in ATTRIBUTION_CREDIT_SETS))


def raw_tables_not_landed(con: duckdb.DuckDBPyConnection, tables: list[str]) -> list[str]:
    """The tables, in the given order, that have no relation in schema raw (no file accepted yet)."""
    return [table for table in tables if not relation_exists(con, "raw", table)]


def attribution_reconciliation(con: duckdb.DuckDBPyConnection, models: list[str]) -> pd.DataFrame:
    """One row per credit set of ATTRIBUTION_CREDIT_SETS and attribution model of `models`, whether the
    mart has rows of it or not: its rows and the conversions and revenue it credits (0 when it has
    none) next to the conversions and revenue counted independently, and the differences, and (for
    attribution_touchpoint) the conversions whose shares do not sum to 1. Conversions
    are every order marts.user_portrait counts, or with conversion_type first_orders (read from
    attribution_channel) each customer's first order of intermediate.int_orders_filtered. All those marts
    must exist."""
    credited = " union all ".join(credit_set.sums_sql() for credit_set in ATTRIBUTION_CREDIT_SETS)
    credit_sets = ", ".join(f"('{c.mart}', '{c.grain}')" for c in ATTRIBUTION_CREDIT_SETS)
    model_names = ", ".join(f"({literal(model)})" for model in models)
    return fetch_frame(
        con,
        f"""
        with credit_sets as (
            select * from (values {credit_sets}) as t(mart, grain)
            cross join (values {model_names}) as m(model)
        ),
        expected as ({_expected_conversions(con)}),
        credited as ({credited})
        select
            credit_sets.mart,
            credit_sets.grain,
            credit_sets.model,
            coalesce(credited.credit_rows, 0) as credit_rows,
            coalesce(credited.conversions, 0) as conversions,
            expected.expected_conversions,
            coalesce(credited.conversions, 0) - expected.expected_conversions as conversions_difference,
            coalesce(credited.revenue, 0) as revenue,
            expected.expected_revenue,
            coalesce(credited.revenue, 0) - expected.expected_revenue as revenue_difference,
            coalesce(credited.conversions_not_summing_to_one, 0) as conversions_not_summing_to_one
        from credit_sets
        cross join expected
        left join credited
            on credit_sets.mart = credited.mart
            and credit_sets.grain = credited.grain
            and credit_sets.model = credited.model
        order by credit_sets.mart, credit_sets.grain, credit_sets.model
        """
    )


def _expected_conversions(con: duckdb.DuckDBPyConnection) -> str:
    """SQL of one row, expected_conversions and expected_revenue, for the mart's conversion_type."""
    [(first_orders,)] = con.execute(
        "select coalesce(bool_or(conversion_type = 'first_orders'), false) from marts.attribution_channel"
    ).fetchall()
    if first_orders:
        return """
            select count(*)::double as expected_conversions,
                   coalesce(sum(total_amount), 0)::double as expected_revenue
            from (
                select total_amount,
                       row_number() over (partition by customer_id order by ordered_at_utc, order_id) as n
                from intermediate.int_orders_filtered
            ) as numbered
            where n = 1
        """
    return f"""
        select coalesce(sum(order_count), 0)::double as expected_conversions,
               coalesce(sum(total_revenue), 0)::double as expected_revenue
        from marts.{CONVERSIONS_MART}
    """
