"""Social actions of one day: buyers share what they bought or join group buys; new customers are
referred by earlier ones."""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa

from ecom.generate import formatting
from ecom.generate.catalogue import product_ids
from ecom.generate.orders import CANCELLED, DayOrders
from ecom.generate.population import customer_ids

ACTIVITY_TYPES: tuple[str, ...] = ("share", "referral", "group_buy")
SHARE, REFERRAL, GROUP_BUY = range(3)
SHARE_PER_ORDER = 0.12
GROUP_BUY_PER_ORDER = 0.04
REFERRED_SIGNUP_SHARE = 0.12
ACTIVITY_ID_WIDTH = 9
GROUPS_PER_DAY = 10**6  # group-buy id: day (YYYYMMDD) × GROUPS_PER_DAY + product index
GROUP_BUY_ID_WIDTH = 14


def social_table(
    rng: np.random.Generator,
    orders: DayOrders,
    signups: np.ndarray,
    signup_second: np.ndarray,
    day: date,
    first_activity_number: int,
) -> dict[str, pa.Array]:
    """Shares and group buys of today's orders, referrals of today's signups, in time order.

    `signups` are the customer indices signed up today (customers are indexed by signup order, so every
    lower index signed up earlier); `signup_second` their signup times.
    """
    placed = np.flatnonzero(orders.status != CANCELLED)
    first_line = np.searchsorted(orders.line_order, placed)
    product = orders.line_product[first_line]
    shared = rng.random(len(placed)) < SHARE_PER_ORDER
    grouped = rng.random(len(placed)) < GROUP_BUY_PER_ORDER
    share_second = np.minimum(orders.second[placed] + rng.integers(60, 3600, len(placed)), 86399)
    referred = signups[(rng.random(len(signups)) < REFERRED_SIGNUP_SHARE) & (signups > 0)]
    referrer = np.floor(rng.random(len(referred)) * referred).astype(np.int64)

    kind = np.concatenate([np.full(shared.sum(), SHARE), np.full(grouped.sum(), GROUP_BUY),
                           np.full(len(referred), REFERRAL)])
    customer = np.concatenate([orders.customer[placed][shared], orders.customer[placed][grouped], referrer])
    second = np.concatenate([share_second[shared], orders.second[placed][grouped],
                             signup_second[np.searchsorted(signups, referred)]])
    product_row = np.concatenate([product[shared], product[grouped], np.zeros(len(referred), np.int64)])
    friend = np.concatenate([np.zeros(shared.sum() + grouped.sum(), np.int64), referred])
    # buyers of the same product on the same day join the same group
    group_of_product = int(day.strftime("%Y%m%d")) * GROUPS_PER_DAY + product
    group = np.concatenate([np.zeros(shared.sum(), np.int64), group_of_product[grouped],
                            np.zeros(len(referred), np.int64)])
    by_time = np.argsort(second, kind="stable")
    kind, customer, second, product_row, friend, group = (
        column[by_time] for column in (kind, customer, second, product_row, friend, group)
    )
    return {
        "activity_id": formatting.identifiers(
            "S", first_activity_number + np.arange(len(kind)), ACTIVITY_ID_WIDTH
        ),
        "customer_id": customer_ids(customer),
        "activity_type": formatting.pick(ACTIVITY_TYPES, kind),
        "occurred_at": formatting.timestamps(day, second),
        "product_id": product_ids(product_row, kind == REFERRAL),
        "referred_customer_id": customer_ids(friend, kind != REFERRAL),
        "group_buy_id": formatting.identifiers("G", group, GROUP_BUY_ID_WIDTH, kind != GROUP_BUY),
    }
