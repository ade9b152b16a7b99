"""The way a user would do it without us: the three core marts in plain pandas, from the landed CSV files.

user_portrait (order history per customer), cohort_retention (monthly cohorts) and attribution_channel
(first touch, last touch, linear) are computed with pandas groupbys and merges, then compared with the
marts our pipeline published (`--serving`): the same numbers or a non-zero exit. Only the columns both
compute are compared (our marts also carry scores, segments and more models).

Landed timestamps are naive business-local times (as the generator writes them): a business day is
the value's date. Orders are deduplicated on order_id (last file, last line wins), as staging does.

    python benchmarks/pandas_marts.py --landing DIR --as-of YYYY-MM-DD [--serving serving.duckdb]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date
from functools import cache
from pathlib import Path

import duckdb
import pandas as pd

from ecom.dbt_manifest import attribution_models, project_var
from ecom.vocabulary import seed_file, value_key

PORTRAIT_KEY = ["customer_id"]
COHORT_KEY = ["cohort_start", "period_index"]
ATTRIBUTION_KEY = ["model", "channel"]
# The attribution models written here in pandas, each one of the dbt var attribution_models.
PANDAS_MODELS = FIRST_TOUCH, LAST_TOUCH, LINEAR = "first_touch", "last_touch", "linear"
if not set(PANDAS_MODELS) <= set(attribution_models()):
    raise SystemExit(f"{PANDAS_MODELS} are not all models of the dbt var attribution_models")
DATE_COLUMNS = {"first_order_date", "last_order_date", "cohort_start"}


def read_table(landing: Path, table: str, columns: list[str]) -> pd.DataFrame:
    files = sorted((landing / table).rglob("*.csv"))
    return pd.concat([pd.read_csv(f, usecols=columns, dtype=str, keep_default_na=False) for f in files],
                     ignore_index=True)


def valid_orders(landing: Path, as_of: date) -> pd.DataFrame:
    """Not cancelled, on or before the as-of day; with day, month and amount."""
    columns = ["order_id", "customer_id", "ordered_at", "total_amount", "status"]
    orders = read_table(landing, "orders", columns)
    orders = orders.drop_duplicates("order_id", keep="last")
    orders["ordered_ts"] = pd.to_datetime(orders["ordered_at"])
    orders["order_day"] = orders["ordered_ts"].dt.normalize()
    orders["amount"] = orders["total_amount"].astype(float)
    cancelled = orders["status"].str.strip().str.lower() == "cancelled"
    keep = ~cancelled & (orders["order_day"] <= pd.Timestamp(as_of))
    return orders[keep].reset_index(drop=True)


def user_portrait(orders: pd.DataFrame, as_of: date) -> pd.DataFrame:
    as_of_ts = pd.Timestamp(as_of)
    days = orders.groupby(["customer_id", "order_day"], as_index=False)["amount"].sum()
    days = days.sort_values(["customer_id", "order_day"])
    first_day_amount = days.groupby("customer_id")["amount"].first()
    per_day = days.groupby("customer_id").agg(
        first=("order_day", "min"), last=("order_day", "max"), order_days=("order_day", "size"),
        day_revenue=("amount", "sum"))
    per_order = orders.groupby("customer_id").agg(order_count=("order_id", "size"), total=("amount", "sum"))
    p = per_day.join(per_order)
    repeat_days = p["order_days"] - 1
    repeat_mean = (p["day_revenue"] - first_day_amount) / repeat_days.where(repeat_days > 0)
    return pd.DataFrame({
        "customer_id": p.index,
        "first_order_date": p["first"].dt.date,
        "last_order_date": p["last"].dt.date,
        "order_count": p["order_count"],
        "total_revenue": p["total"].round(2),
        "frequency": repeat_days,
        "recency_days": (p["last"] - p["first"]).dt.days,
        "tenure_days": (as_of_ts - p["first"]).dt.days,
        "monetary_value": repeat_mean.round(2).fillna(0.0),
        "days_since_last_order": (as_of_ts - p["last"]).dt.days,
    }).reset_index(drop=True)


def cohort_retention(orders: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """Monthly cohorts of first order; every period up to the as-of month, with zeros."""
    month = orders["order_day"].dt.year * 12 + orders["order_day"].dt.month - 1
    frame = pd.DataFrame({"customer_id": orders["customer_id"], "month": month, "amount": orders["amount"]})
    frame["cohort"] = frame.groupby("customer_id")["month"].transform("min")
    frame["period_index"] = frame["month"] - frame["cohort"]
    sizes = frame.groupby("cohort")["customer_id"].nunique().rename("cohort_size")
    activity = frame.groupby(["cohort", "period_index"]).agg(
        active_customers=("customer_id", "nunique"), revenue=("amount", "sum"))
    last_month = as_of.year * 12 + as_of.month - 1
    spine = pd.MultiIndex.from_tuples(
        [(c, p) for c in sizes.index for p in range(last_month - c + 1)], names=["cohort", "period_index"])
    table = activity.reindex(spine, fill_value=0).reset_index().join(sizes, on="cohort")
    table["retention_rate"] = table["active_customers"] / table["cohort_size"]
    table["revenue"] = table["revenue"].round(2)
    table["cohort_start"] = [date(c // 12, c % 12 + 1, 1) for c in table["cohort"]]
    return table[[*COHORT_KEY, "cohort_size", "active_customers", "retention_rate", "revenue"]]


def attribution_channel(landing: Path, orders: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """Conversions and revenue per (model, channel), as docs/marts.md defines them: the touches of the
    dbt var attribution_touch_types up to the as-of day, a touch without customer_id counting for the
    customer its anonymous_id was first seen signed in as (events or touchpoints), each touch crediting
    only the customer's first order at or after it, at most attribution_lookback_days later; an order
    without a touch is 'direct'."""
    day_after = pd.Timestamp(as_of) + pd.Timedelta(days=1)
    touches = read_table(landing, "touchpoints", ["touchpoint_id", "customer_id", "anonymous_id", "channel",
                                                  "touch_type", "occurred_at"])
    touches = touches.drop_duplicates("touchpoint_id", keep="last")
    touches = touches.assign(touch_ts=pd.to_datetime(touches["occurred_at"]),
                             channel=canonical(touches["channel"], "channel"))
    kinds = canonical(touches["touch_type"], "touch_type")
    clicks = touches[kinds.isin(project_var("attribution_touch_types")) & (touches["touch_ts"] < day_after)]
    devices = signed_in_devices(landing, touches, day_after)
    clicks = clicks.assign(customer=clicks["customer_id"].where(
        clicks["customer_id"].str.strip() != "", clicks["anonymous_id"].map(devices)))
    clicks = clicks[clicks["customer"].notna()].sort_values("touch_ts")
    # each click's first order at or after it (ties in time: the smaller order_id), within the lookback
    converting = orders[["order_id", "customer_id", "ordered_ts", "amount"]]
    converting = converting.sort_values(["ordered_ts", "order_id"])
    lookback = pd.Timedelta(days=project_var("attribution_lookback_days"))
    journeys = pd.merge_asof(clicks, converting.rename(columns={"customer_id": "customer"}),
                             left_on="touch_ts", right_on="ordered_ts", by="customer",
                             direction="forward", tolerance=lookback)
    journeys = journeys[journeys["order_id"].notna()].sort_values(["order_id", "touch_ts", "touchpoint_id"])
    by_order = journeys.groupby("order_id")
    first = by_order.agg(channel=("channel", "first"), amount=("amount", "first"))
    last = by_order.agg(channel=("channel", "last"), amount=("amount", "first"))
    share = 1.0 / by_order["order_id"].transform("size")
    credits = [
        first.assign(model=FIRST_TOUCH, credit=1.0),
        last.assign(model=LAST_TOUCH, credit=1.0),
        journeys[["channel", "amount"]].assign(model=LINEAR, credit=share),
    ]
    untouched = orders.loc[~orders["order_id"].isin(journeys["order_id"]), ["amount"]]
    credits += [untouched.assign(model=m, channel="direct", credit=1.0) for m in PANDAS_MODELS]
    credit = pd.concat(credits, ignore_index=True)
    credit["revenue"] = credit["credit"] * credit["amount"]
    return credit.groupby(ATTRIBUTION_KEY, as_index=False).agg(
        conversions=("credit", "sum"), revenue=("revenue", "sum"))


def canonical(values: pd.Series, vocabulary: str) -> pd.Series:
    """Landed values as staging maps them: the group the shop's vocabulary seed gives their key (a group's
    own name maps to the group), else the trimmed value itself."""
    return values.map(value_key).map(vocabulary_groups(vocabulary)).fillna(values.str.strip())


@cache
def vocabulary_groups(vocabulary: str) -> dict[str, str]:
    """value key -> group in one vocabulary of the shop's seed (read once per vocabulary)."""
    seed = pd.read_csv(seed_file(), dtype=str, keep_default_na=False)
    rows = seed[seed["vocabulary"].str.strip() == vocabulary]
    groups = rows["canonical_value"].str.strip()
    mapping = dict(zip(groups.map(value_key), groups, strict=True))
    return mapping | dict(zip(rows["raw_value"].map(value_key), groups, strict=True))


def signed_in_devices(landing: Path, touches: pd.DataFrame, day_after: pd.Timestamp) -> pd.Series:
    """anonymous_id -> the customer it was first seen signed in as, in events or touchpoints, before
    `day_after`."""
    events = read_table(landing, "events", ["customer_id", "anonymous_id", "occurred_at"])
    events = events.assign(touch_ts=pd.to_datetime(events["occurred_at"]))
    sightings = pd.concat([events, touches[["customer_id", "anonymous_id", "touch_ts"]]], ignore_index=True)
    signed_in = sightings[(sightings["anonymous_id"].str.strip() != "")
                          & (sightings["customer_id"].str.strip() != "")
                          & (sightings["touch_ts"] < day_after)]
    first = signed_in.sort_values(["touch_ts", "customer_id"]).drop_duplicates("anonymous_id")
    return first.set_index("anonymous_id")["customer_id"]


def compute_marts(landing: Path, as_of: date) -> dict[str, pd.DataFrame]:
    orders = valid_orders(landing, as_of)
    return {
        "user_portrait": user_portrait(orders, as_of),
        "cohort_retention": cohort_retention(orders, as_of),
        "attribution_channel": attribution_channel(landing, orders, as_of),
    }


def published(serving_db: Path, mart: str, columns: list[str], where: str = "true") -> pd.DataFrame:
    with duckdb.connect(str(serving_db), read_only=True) as con:
        return con.sql(f"select {', '.join(columns)} from marts.{mart} where {where}").df()


def differences(ours: dict[str, pd.DataFrame], serving_db: Path) -> list[str]:
    """Where the published marts differ from the pandas ones.

    Money may differ by one cent: a mean of doubles that lands on half a cent rounds either way.
    """
    keys = {"user_portrait": PORTRAIT_KEY, "cohort_retention": COHORT_KEY,
            "attribution_channel": ATTRIBUTION_KEY}
    filters = {"cohort_retention": "cohort_grain = 'month' and cohort_dimension = 'all'",
               "attribution_channel": f"grain = 'channel' and model in {tuple(PANDAS_MODELS)}"}
    problems = []
    for mart, frame in ours.items():
        theirs = published(serving_db, mart, list(frame.columns), filters.get(mart, "true"))
        left = frame.sort_values(keys[mart]).reset_index(drop=True)
        right = theirs.sort_values(keys[mart]).reset_index(drop=True)
        for column in DATE_COLUMNS.intersection(right.columns):
            right[column] = pd.to_datetime(right[column]).dt.date
        try:
            pd.testing.assert_frame_equal(left, right, check_dtype=False, check_exact=False,
                                          rtol=1e-9, atol=0.0101)
        except AssertionError as error:
            problems.append(f"{mart}: {error}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--landing", required=True, type=Path)
    parser.add_argument("--as-of", required=True, type=date.fromisoformat)
    parser.add_argument("--serving", type=Path, help="serving.duckdb to compare with")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    marts = compute_marts(args.landing, args.as_of)
    seconds = time.perf_counter() - started
    problems = differences(marts, args.serving) if args.serving else []
    print(json.dumps({"compute_seconds": seconds, "rows": {m: len(f) for m, f in marts.items()},
                      "checked": bool(args.serving), "differences": problems}))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
