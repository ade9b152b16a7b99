"""The three core marts computed a second, independent way: plain pandas over the landing CSV files.

The end-to-end tests compare the published marts with these. Nothing here is shared with the dbt
SQL, so a mistake in one is caught by the other. Landing timestamps are naive business-local time
(as the demo generator writes them), so a business day is the first ten characters of the value.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd

LOOKBACK = pd.Timedelta(days=30)


def read_landed(landing: Path, table: str) -> pd.DataFrame:
    files = sorted((landing / table).rglob("*.csv"))
    if not files:
        return pd.DataFrame()
    return pd.concat([pd.read_csv(f, dtype=str, keep_default_na=False) for f in files], ignore_index=True)


def valid_orders(landing: Path, as_of: date) -> pd.DataFrame:
    """Non-cancelled orders on or before the as-of day, with their business day and amount."""
    orders = read_landed(landing, "orders")
    orders["order_day"] = pd.to_datetime(orders["ordered_at"].str[:10])
    orders["ordered_ts"] = pd.to_datetime(orders["ordered_at"])
    orders["amount"] = orders["total_amount"].astype(float)
    keep = (orders["status"] != "cancelled") & (orders["order_day"] <= pd.Timestamp(as_of))
    return orders[keep].reset_index(drop=True)


def last_order_day(landing: Path) -> date:
    return pd.to_datetime(read_landed(landing, "orders")["ordered_at"].str[:10]).max().date()


def user_portrait(orders: pd.DataFrame, as_of: date) -> pd.DataFrame:
    as_of_ts = pd.Timestamp(as_of)
    by_day = orders.groupby(["customer_id", "order_day"], as_index=False)["amount"].sum()
    rows = []
    for customer_id, days in by_day.groupby("customer_id"):
        days = days.sort_values("order_day")
        mine = orders[orders["customer_id"] == customer_id]
        first, last = days["order_day"].iloc[0], days["order_day"].iloc[-1]
        repeat = days["amount"].iloc[1:]
        rows.append({
            "customer_id": customer_id,
            "first_order_date": first.date(),
            "last_order_date": last.date(),
            "order_count": len(mine),
            "total_revenue": round(mine["amount"].sum(), 2),
            "frequency": len(days) - 1,
            "recency_days": (last - first).days,
            "tenure_days": (as_of_ts - first).days,
            "monetary_value": round(repeat.mean(), 2) if len(repeat) else 0.0,
            "days_since_last_order": (as_of_ts - last).days,
        })
    return pd.DataFrame(rows).sort_values("customer_id").reset_index(drop=True)


def _month_index(day: pd.Series | pd.Timestamp) -> pd.Series | int:
    """Months since year 0: consecutive months differ by one."""
    if isinstance(day, pd.Series):
        return day.dt.year * 12 + day.dt.month - 1
    return day.year * 12 + day.month - 1


def cohort_retention(orders: pd.DataFrame, as_of: date) -> pd.DataFrame:
    orders = orders.copy()
    orders["month"] = _month_index(orders["order_day"])
    orders["cohort"] = orders.groupby("customer_id")["month"].transform("min")
    last_month = _month_index(pd.Timestamp(as_of))
    rows = []
    for cohort, members in orders.groupby("cohort"):
        size = members["customer_id"].nunique()
        revenue_0 = members.loc[members["month"] == cohort, "amount"].sum()
        for period in range(last_month - cohort + 1):
            in_period = members[members["month"] == cohort + period]
            revenue = in_period["amount"].sum()
            rows.append({
                "cohort_start": date(cohort // 12, cohort % 12 + 1, 1),
                "period_index": period,
                "cohort_size": size,
                "active_customers": in_period["customer_id"].nunique(),
                "retention_rate": in_period["customer_id"].nunique() / size,
                "revenue": round(revenue, 2),
                "revenue_retention_rate": revenue / revenue_0 if revenue_0 else None,
            })
    return pd.DataFrame(rows).sort_values(["cohort_start", "period_index"]).reset_index(drop=True)


def attribution_by_channel(landing: Path, orders: pd.DataFrame) -> pd.DataFrame:
    """Conversions per (model, channel) for first_touch, last_touch and linear."""
    touches = read_landed(landing, "touchpoints")
    touches = touches[touches["customer_id"] != ""].copy()
    touches["touch_ts"] = pd.to_datetime(touches["occurred_at"])
    journeys = orders[["order_id", "customer_id", "ordered_ts", "amount"]].merge(
        touches[["customer_id", "touchpoint_id", "channel", "touch_ts"]], on="customer_id", how="left"
    )
    in_window = (journeys["touch_ts"] <= journeys["ordered_ts"]) & (
        journeys["touch_ts"] >= journeys["ordered_ts"] - LOOKBACK
    )
    journeys = journeys[in_window].sort_values(["order_id", "touch_ts", "touchpoint_id"])
    untouched = orders[~orders["order_id"].isin(journeys["order_id"])]
    credits = []
    for model, pick in (("first_touch", "first"), ("last_touch", "last")):
        chosen = journeys.groupby("order_id").agg(channel=("channel", pick), amount=("amount", "first"))
        credits.append(chosen.assign(model=model, credit=1.0))
    linear = journeys.assign(credit=1.0 / journeys.groupby("order_id")["order_id"].transform("size"))
    credits.append(linear[["channel", "amount", "credit"]].assign(model="linear"))
    for model in ("first_touch", "last_touch", "linear"):
        credits.append(untouched[["amount"]].assign(model=model, channel="direct", credit=1.0))
    all_credits = pd.concat(credits, ignore_index=True)
    all_credits["revenue"] = all_credits["credit"] * all_credits["amount"]
    return (
        all_credits.groupby(["model", "channel"], as_index=False)
        .agg(conversions=("credit", "sum"), revenue=("revenue", "sum"))
        .sort_values(["model", "channel"])
        .reset_index(drop=True)
    )
