"""The core marts computed a second, independent way: plain pandas over the landing CSV files.

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


def _signed_in_devices(landing: Path, as_of: date) -> dict[str, str]:
    """anonymous_id -> the customer it was first seen signed in as (events or touchpoints, up to as-of)."""
    sightings = pd.concat(
        [read_landed(landing, table)[["anonymous_id", "customer_id", "occurred_at"]]
         for table in ("events", "touchpoints")],
        ignore_index=True,
    )
    signed_in = sightings[(sightings["anonymous_id"] != "") & (sightings["customer_id"] != "")
                          & (sightings["occurred_at"].str[:10] <= as_of.isoformat())]
    first = signed_in.sort_values(["occurred_at", "customer_id"]).drop_duplicates("anonymous_id")
    return dict(zip(first["anonymous_id"], first["customer_id"], strict=True))


def _credited_touches(landing: Path, orders: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """Clicks up to as-of, tied to a customer (signed in or via the device), each with the order it
    credits: the customer's first order at or after it, when at most 30 days later."""
    touches = read_landed(landing, "touchpoints")
    touches = touches[(touches["touch_type"] != "impression")
                      & (touches["occurred_at"].str[:10] <= as_of.isoformat())].copy()
    devices = _signed_in_devices(landing, as_of)
    touches["customer"] = touches["customer_id"].where(
        touches["customer_id"] != "", touches["anonymous_id"].map(devices)
    )
    touches = touches[touches["customer"].notna()]
    touches["touch_ts"] = pd.to_datetime(touches["occurred_at"])
    by_customer = {customer: group.sort_values(["ordered_ts", "order_id"])
                   for customer, group in orders.groupby("customer_id")}
    credited = []
    for touch in touches.itertuples():
        mine = by_customer.get(touch.customer)
        if mine is None:
            continue
        later = mine[mine["ordered_ts"] >= touch.touch_ts]
        if len(later) and later["ordered_ts"].iloc[0] - touch.touch_ts <= LOOKBACK:
            credited.append((later["order_id"].iloc[0], touch.touchpoint_id, touch.channel, touch.touch_ts))
    return pd.DataFrame(credited, columns=["order_id", "touchpoint_id", "channel", "touch_ts"])


def attribution_by_channel(landing: Path, orders: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """Conversions and revenue per (model, channel) for first_touch, last_touch and linear, with
    identity stitching, clicks only and each touch crediting only the first order after it."""
    journeys = _credited_touches(landing, orders, as_of).merge(
        orders[["order_id", "amount"]], on="order_id"
    ).sort_values(["order_id", "touch_ts", "touchpoint_id"])
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
