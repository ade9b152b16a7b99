"""Instalment repayments: orders paid by instalment are split into monthly instalments; most are paid on
time, customers with a higher personal risk pay late or not at all.

An instalment is exported on its due day (paid or not yet paid); a late payment re-sends the row on the
day it is paid. Instalments not yet due at the end of the window are not exported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pyarrow as pa

from ecom.generate import formatting
from ecom.generate.orders import CANCELLED, PAYMENT_METHODS, DayOrders, order_ids
from ecom.generate.population import customer_ids

INSTALMENT = PAYMENT_METHODS.index("instalment")
PLAN_LENGTHS = (3, 6)
DAYS_BETWEEN_INSTALMENTS = 30
LATE_RISK_BETA = (1.0, 12.0)  # per-customer chance an instalment is paid late: Beta, mean 8%
LATE_DAYS_P = 0.08  # geometric days late
EARLY_DAYS_P = 0.3  # geometric days paid before the due day
REPAYMENT_ID_WIDTH = 10


@dataclass(frozen=True)
class Instalments:
    number: np.ndarray  # repayment number (identifier)
    order_number: np.ndarray
    customer: np.ndarray
    instalment: np.ndarray
    due_day: np.ndarray  # day index
    cents: np.ndarray
    paid_day: np.ndarray  # day index of the payment
    paid_second: np.ndarray

    @property
    def size(self) -> int:
        return len(self.number)


def late_risk(rng: np.random.Generator, customers: int) -> np.ndarray:
    return rng.beta(*LATE_RISK_BETA, customers)


@dataclass
class RepaymentBook:
    """Instalments of the orders placed so far, exported on the days they fall due or are paid late."""

    late_risk: np.ndarray
    next_number: int = 1
    exports: dict[int, list[tuple[Instalments, np.ndarray]]] = field(default_factory=dict)

    def add_plans(self, rng: np.random.Generator, orders: DayOrders, day_index: int) -> None:
        plans = np.flatnonzero((orders.payment == INSTALMENT) & (orders.status != CANCELLED))
        length = np.asarray(PLAN_LENGTHS)[rng.integers(0, len(PLAN_LENGTHS), len(plans))]
        plan = np.repeat(plans, length)
        instalment = np.concatenate([np.arange(1, n + 1) for n in length]) if len(plans) else plan
        count = len(plan)
        total = orders.total_cents[plan]
        plan_length = np.repeat(length, length)
        share = total // plan_length
        cents = np.where(instalment == plan_length, total - share * (plan_length - 1), share)  # rest: last
        due_day = day_index + DAYS_BETWEEN_INSTALMENTS * instalment
        customer = orders.customer[plan]
        late = rng.random(count) < self.late_risk[customer]
        early = np.minimum(rng.geometric(EARLY_DAYS_P, count) - 1, DAYS_BETWEEN_INSTALMENTS - 1)
        paid_day = np.where(late, due_day + rng.geometric(LATE_DAYS_P, count), due_day - early)
        instalments = Instalments(
            number=self.next_number + np.arange(count),
            order_number=orders.order_number[plan],
            customer=customer,
            instalment=instalment,
            due_day=due_day,
            cents=cents,
            paid_day=paid_day,
            paid_second=rng.integers(8 * 3600, 23 * 3600, count),
        )
        self.next_number += count
        for export_day in np.unique(np.concatenate([due_day, paid_day[late]])):
            rows = np.flatnonzero((due_day == export_day) | (late & (paid_day == export_day)))
            self.exports.setdefault(int(export_day), []).append((instalments, rows))

    def export(self, day_index: int, window: list[date]) -> dict[str, pa.Array]:
        """The rows exported on `day_index`: paid_at filled when paid by that day."""
        batches = self.exports.pop(day_index, [])
        columns = {f: np.concatenate([getattr(i, f)[r] for i, r in batches]) if batches else np.zeros(0, int)
                   for f in Instalments.__dataclass_fields__}
        unpaid = columns["paid_day"] > day_index
        paid_day = np.where(unpaid, day_index, columns["paid_day"])
        first_day = np.datetime64(window[0], "D")
        paid_at = formatting.with_missing(
            pa.array(
                (first_day + paid_day.astype("timedelta64[D]")).astype("datetime64[s]")
                + columns["paid_second"].astype("timedelta64[s]")
            ).cast(pa.string()),
            unpaid,
        )
        return {
            "repayment_id": formatting.identifiers("L", columns["number"], REPAYMENT_ID_WIDTH),
            "order_id": order_ids(columns["order_number"]),
            "customer_id": customer_ids(columns["customer"]),
            "instalment_number": formatting.integers(columns["instalment"]),
            "due_date": formatting.dates(first_day + columns["due_day"].astype("timedelta64[D]")),
            "amount": formatting.money(columns["cents"]),
            "paid_at": paid_at,
        }
