"""The core marts computed a second, independent way: plain pandas over the landing CSV files.

The end-to-end tests compare the published marts with these. Nothing here is shared with the dbt
SQL, so a mistake in one is caught by the other. Landing timestamps are naive business-local time
(as the demo generator writes them), so a business day is the first ten characters of the value.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
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


@dataclass(frozen=True)
class Grain:
    """A cohort period length: days map to consecutive period numbers and back to the period's first day."""

    name: str
    number: Callable[[pd.Series], pd.Series]
    start: Callable[[int], date]


MONTH = Grain(
    "month",
    number=lambda days: days.dt.year * 12 + days.dt.month - 1,
    start=lambda number: date(number // 12, number % 12 + 1, 1),
)
WEEK = Grain(  # ISO weeks: week number n starts on Monday EPOCH_MONDAY + 7n
    "week",
    number=lambda days: (days - pd.Timestamp(date(1970, 1, 5))).dt.days // 7,
    start=lambda number: date(1970, 1, 5) + timedelta(weeks=number),
)


def customer_cuts(landing: Path, orders: pd.DataFrame) -> pd.DataFrame:
    """Per ordering customer: the acquisition channel ('unknown' when empty) and whether the first order
    (earliest timestamp, then order id) redeemed a coupon."""
    customers = read_landed(landing, "customers").drop_duplicates("customer_id", keep="last")
    channel = customers.set_index("customer_id")["acquisition_channel"].str.strip().str.lower()
    first_orders = orders.sort_values(["ordered_ts", "order_id"]).drop_duplicates("customer_id")
    first = first_orders.set_index("customer_id")
    cuts = pd.DataFrame(index=first.index)
    cuts["acquisition_channel"] = channel.reindex(cuts.index).mask(lambda c: c.eq("")).fillna("unknown")
    has_coupon = first["coupon_code"].str.strip().ne("")
    cuts["first_order_coupon"] = has_coupon.map({True: "coupon", False: "no_coupon"})
    return cuts


def cohort_retention(
    orders: pd.DataFrame, cuts: pd.DataFrame, as_of: date, grain: Grain, dimension: str
) -> pd.DataFrame:
    """cohort_retention's rows of one grain and one cut ('all' = the whole cohort)."""
    orders = orders.copy()
    orders["period"] = grain.number(orders["order_day"])
    orders["cohort"] = orders.groupby("customer_id")["period"].transform("min")
    orders["value"] = "all" if dimension == "all" else orders["customer_id"].map(cuts[dimension])
    last_period = int(grain.number(pd.Series([pd.Timestamp(as_of)])).iloc[0])
    rows = []
    for (value, cohort), members in orders.groupby(["value", "cohort"]):
        size = members["customer_id"].nunique()
        last_active = members.groupby("customer_id")["period"].max()
        revenue_0 = members.loc[members["period"] == cohort, "amount"].sum()
        for period in range(last_period - cohort + 1):
            in_period = members[members["period"] == cohort + period]
            revenue = in_period["amount"].sum()
            active = in_period["customer_id"].nunique()
            cumulative = members.loc[members["period"] <= cohort + period, "amount"].sum()
            rows.append({
                "cohort_grain": grain.name,
                "cohort_dimension": dimension,
                "cohort_value": value,
                "cohort_start": grain.start(cohort),
                "period_index": period,
                "period_start": grain.start(cohort + period),
                "is_complete": grain.start(cohort + period + 1) <= as_of + timedelta(days=1),
                "cohort_size": size,
                "active_customers": active,
                "retention_rate": active / size,
                "rolling_retention_rate": (last_active >= cohort + period).sum() / size,
                "orders": len(in_period),
                "revenue": round(revenue, 2),
                "revenue_retention_rate": revenue / revenue_0 if revenue_0 else None,
                "cumulative_revenue_per_customer": cumulative / size,
            })
    keys = ["cohort_value", "cohort_start", "period_index"]
    return pd.DataFrame(rows).sort_values(keys).reset_index(drop=True)


def growth_accounting(orders: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """New, retained, won-back and churned customers per month, from sets of active customers."""
    months = MONTH.number(orders["order_day"])
    active = {month: set(group) for month, group in orders.groupby(months)["customer_id"]}
    seen: set[str] = set()
    rows = []
    for month in range(min(active), MONTH.number(pd.Series([pd.Timestamp(as_of)])).iloc[0] + 1):
        now, before = active.get(month, set()), active.get(month - 1, set())
        rows.append({
            "activity_month": MONTH.start(month),
            "active_customers": len(now),
            "new_customers": len(now - seen),
            "retained_customers": len(now & before),
            "won_back_customers": len((now & seen) - before),
            "churned_customers": len(before - now),
        })
        seen |= now
    return pd.DataFrame(rows)


def repeat_purchase(orders: pd.DataFrame, as_of: date, grain: Grain) -> pd.DataFrame:
    """Per overall cohort: customers whose N-day window has ended and those with a second order day in it."""
    days = orders[["customer_id", "order_day"]].drop_duplicates().sort_values("order_day")
    customer_days = days.groupby("customer_id")["order_day"]
    customers = pd.DataFrame({
        "first": customer_days.first(),
        "second": customer_days.apply(lambda day: day.iloc[1] if len(day) > 1 else pd.NaT),
    })
    customers["cohort"] = grain.number(customers["first"])
    rows = []
    for cohort, members in customers.groupby("cohort"):
        row = {"cohort_start": grain.start(cohort), "cohort_size": len(members)}
        for window in (30, 60, 90):
            eligible = members[members["first"] + pd.Timedelta(days=window) <= pd.Timestamp(as_of)]
            repeated = (eligible["second"] - eligible["first"]).dt.days.le(window).sum()
            row[f"eligible_customers_{window}d"] = len(eligible)
            row[f"repeat_customers_{window}d"] = repeated
            row[f"repeat_rate_{window}d"] = repeated / len(eligible) if len(eligible) else None
        rows.append(row)
    return pd.DataFrame(rows)


def retention_daily(landing: Path, orders: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """Per signup day: customers active (a signed-in event or an order) exactly 1, 7 and 30 days later."""
    customers = read_landed(landing, "customers").drop_duplicates("customer_id", keep="last")
    customers = customers[customers["signup_at"] != ""]
    signups = pd.to_datetime(customers["signup_at"].str[:10]).rename("signup_day")
    signups = pd.concat([customers["customer_id"], signups], axis=1)
    signups = signups[signups["signup_day"] <= pd.Timestamp(as_of)]
    events = read_landed(landing, "events")
    events = events[events["customer_id"] != ""]
    active = set(zip(events["customer_id"], pd.to_datetime(events["occurred_at"].str[:10]), strict=True))
    active |= set(zip(orders["customer_id"], orders["order_day"], strict=True))
    rows = []
    for signup_day, cohort in signups.groupby("signup_day"):
        row = {"signup_date": signup_day.date(), "cohort_size": len(cohort)}
        for offset in (1, 7, 30):
            day = signup_day + pd.Timedelta(days=offset)
            returned = sum((customer, day) in active for customer in cohort["customer_id"])
            elapsed = day <= pd.Timestamp(as_of)
            row[f"day{offset}_active_customers"] = returned if elapsed else None
            row[f"day{offset}_retention_rate"] = returned / len(cohort) if elapsed else None
        rows.append(row)
    return pd.DataFrame(rows)


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
