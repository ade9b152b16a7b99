"""Consent changes: a few customers withdraw the marketing use of one kind of data, some grant it again.

Drawn once for the whole window (one row per change, a handful per hundred customers) and written on
the day of the change. No row means granted (the shop's terms).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pyarrow as pa

from ecom.generate import formatting
from ecom.generate.population import Population, customer_ids

DATA_TYPES: tuple[str, ...] = ("browsing", "location", "purchase_history")
STATUSES: tuple[str, ...] = ("granted", "withdrawn")
GRANTED, WITHDRAWN = range(2)
WITHDRAW_SHARE = 0.06  # per data type
WITHDRAW_AFTER_DAYS = 90  # mean days from signup to the withdrawal
REGRANT_SHARE = 0.3
REGRANT_AFTER_DAYS = 45


@dataclass(frozen=True)
class ConsentChanges:
    """All changes of the window, ordered by day then second."""

    customer: np.ndarray
    data_type: np.ndarray
    status: np.ndarray
    day: np.ndarray
    second: np.ndarray

    def on_day(self, day_index: int) -> np.ndarray:
        """Row positions of the changes made on `day_index`."""
        start, stop = np.searchsorted(self.day, [day_index, day_index + 1])
        return np.arange(start, stop)


def plan_consents(rng: np.random.Generator, population: Population, days: int) -> ConsentChanges:
    customers = population.size
    parts: list[tuple[np.ndarray, ...]] = []
    for data_type in range(len(DATA_TYPES)):
        withdraws = rng.random(customers) < WITHDRAW_SHARE
        withdrawn_day = population.signup_day + rng.geometric(1 / WITHDRAW_AFTER_DAYS, customers)
        regrants = withdraws & (rng.random(customers) < REGRANT_SHARE)
        granted_day = withdrawn_day + rng.geometric(1 / REGRANT_AFTER_DAYS, customers)
        for chosen, day, status in ((withdraws, withdrawn_day, WITHDRAWN), (regrants, granted_day, GRANTED)):
            rows = np.flatnonzero(chosen & (day < days))
            parts.append((rows, np.full(len(rows), data_type), np.full(len(rows), status), day[rows]))
    customer, data_type, status, day = (np.concatenate(column) for column in zip(*parts, strict=True))
    second = rng.integers(8 * 3600, 23 * 3600, len(customer))
    order = np.lexsort((second, day))
    return ConsentChanges(customer[order], data_type[order], status[order], day[order], second[order])


def consents_table(changes: ConsentChanges, rows: np.ndarray, day: date) -> dict[str, pa.Array]:
    return {
        "customer_id": customer_ids(changes.customer[rows]),
        "data_type": formatting.pick(DATA_TYPES, changes.data_type[rows]),
        "status": formatting.pick(STATUSES, changes.status[rows]),
        "changed_at": formatting.timestamps(day, changes.second[rows]),
    }
