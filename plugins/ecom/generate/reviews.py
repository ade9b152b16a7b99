"""Product reviews: written some days after delivery for a share of orders, mostly positive.

Reviews due on later days wait in a queue that holds at most MAX_DELAY_DAYS days of reviews.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pyarrow as pa

from ecom.generate import formatting
from ecom.generate.catalogue import product_ids
from ecom.generate.orders import CANCELLED, RETURNED, DayOrders, order_ids
from ecom.generate.population import customer_ids

REVIEW_SHARE = 0.25
RETURNED_REVIEW_SHARE = 0.5
RATING_SHARES = (0.03, 0.04, 0.10, 0.25, 0.58)
RETURNED_RATING_SHARES = (0.35, 0.25, 0.20, 0.12, 0.08)
MAX_DELAY_DAYS = 30
NO_TEXT_SHARE = 0.25
REVIEW_ID_WIDTH = 9
# rating -> texts (Chinese and English)
REVIEW_TEXTS: dict[int, tuple[str, ...]] = {
    1: (
        "质量太差了，和描述完全不符",
        "收到就坏了，退货了",
        "Terrible quality, nothing like the photos.",
        "Arrived broken.",
    ),
    2: (
        "一般般，有点失望",
        "尺码偏小，物流也慢",
        "Not great, a bit disappointed.",
        "Runs small and delivery was slow.",
    ),
    3: ("还行，对得起这个价格", "中规中矩", "It's okay for the price.", "Average, does the job."),
    4: ("挺好的，物流很快", "质量不错，会回购", "Good quality, fast delivery.", "Nice, would buy again."),
    5: (
        "非常满意！强烈推荐",
        "超出预期，包装也很好",
        "Love it, highly recommend!",
        "Excellent, exceeded expectations.",
    ),
}


@dataclass(frozen=True)
class Reviews:
    order_number: np.ndarray
    product: np.ndarray
    customer: np.ndarray
    rating: np.ndarray
    text: np.ndarray  # review text, '' = none
    second: np.ndarray  # seconds after midnight of the day the review is written

    @property
    def size(self) -> int:
        return len(self.rating)


@dataclass
class ReviewQueue:
    """Reviews drawn when the order is placed, released on the day they are written."""

    due: dict[int, list[Reviews]] = field(default_factory=dict)

    def schedule(self, rng: np.random.Generator, orders: DayOrders, day_index: int) -> None:
        returned = orders.status == RETURNED
        share = np.where(returned, RETURNED_REVIEW_SHARE, REVIEW_SHARE)
        reviewed = np.flatnonzero((orders.status != CANCELLED) & (rng.random(orders.size) < share))
        if len(reviewed) == 0:
            return
        lines = np.bincount(orders.line_order, minlength=orders.size)
        first_line = np.cumsum(lines) - lines
        line = first_line[reviewed] + rng.integers(0, lines[reviewed])
        rating = np.where(
            returned[reviewed],
            rng.choice(np.arange(1, 6), size=len(reviewed), p=RETURNED_RATING_SHARES),
            rng.choice(np.arange(1, 6), size=len(reviewed), p=RATING_SHARES),
        )
        delay = np.minimum(1 + rng.geometric(0.15, len(reviewed)), MAX_DELAY_DAYS)
        reviews = Reviews(
            order_number=orders.order_number[reviewed],
            product=orders.line_product[line],
            customer=orders.customer[reviewed],
            rating=rating,
            text=_texts(rng, rating),
            second=rng.integers(7 * 3600, 24 * 3600, len(reviewed)),
        )
        for days_later in np.unique(delay):
            rows = np.flatnonzero(delay == days_later)
            self.due.setdefault(day_index + int(days_later), []).append(_subset(reviews, rows))

    def release(self, day_index: int) -> Reviews:
        """The reviews written on `day_index`, in time order."""
        batches = self.due.pop(day_index, [])
        merged = Reviews(
            *(
                np.concatenate([getattr(b, f) for b in batches]) if batches else np.zeros(0, dtype=np.int64)
                for f in Reviews.__dataclass_fields__
            )
        )
        return _subset(merged, np.argsort(merged.second, kind="stable"))


def _texts(rng: np.random.Generator, rating: np.ndarray) -> np.ndarray:
    text = np.full(len(rating), "", dtype=object)
    for stars, options in REVIEW_TEXTS.items():
        rows = np.flatnonzero((rating == stars) & (rng.random(len(rating)) >= NO_TEXT_SHARE))
        text[rows] = np.asarray(options)[rng.integers(0, len(options), len(rows))]
    return text.astype(str)


def _subset(reviews: Reviews, rows: np.ndarray) -> Reviews:
    return Reviews(*(getattr(reviews, f)[rows] for f in Reviews.__dataclass_fields__))


def reviews_table(reviews: Reviews, day: date, first_review_number: int) -> dict[str, pa.Array]:
    return {
        "review_id": formatting.identifiers(
            "R", first_review_number + np.arange(reviews.size), REVIEW_ID_WIDTH
        ),
        "order_id": order_ids(reviews.order_number),
        "product_id": product_ids(reviews.product),
        "customer_id": customer_ids(reviews.customer),
        "rating": formatting.integers(reviews.rating),
        "review_text": formatting.text(reviews.text, reviews.text == ""),
        "reviewed_at": formatting.timestamps(day, reviews.second),
    }
