"""One day of orders and order lines, drawn from the customers' latent buying behaviour (BG/NBD)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pyarrow as pa

from ecom.generate import formatting, reference
from ecom.generate.calendar import demand_factor, in_window, is_promotion_day, seconds_of_day
from ecom.generate.catalogue import Catalogue, product_ids
from ecom.generate.population import Population, customer_ids

ORDER_STATUSES: tuple[str, ...] = ("paid", "shipped", "completed", "returned", "cancelled")
PAID, SHIPPED, COMPLETED, RETURNED, CANCELLED = range(5)
NO_STATUS = -1  # empty status: completed
CANCELLED_SHARE = 0.04
RETURNED_SHARE = 0.03
FREE_GIFT_SHARE = 0.004
PAYMENT_METHODS: tuple[str, ...] = (
    "alipay",
    "wechat_pay",
    "credit_card",
    "debit_card",
    "instalment",
    "cash_on_delivery",
)
PAYMENT_SHARES: tuple[float, ...] = (0.45, 0.33, 0.06, 0.04, 0.10, 0.02)
CLICK_UPLIFT = 2.0  # a marketing click in the last 3 days doubles the chance to buy
CLICK_UPLIFT_DAYS = 3
FREE_GIFT_COUPON = "FREEGIFT"
# (code, value in cents, minimum spend in cents, (first, last) (month, day) it is valid, or None = always)
COUPONS: tuple[tuple[str, int, int, tuple[tuple[int, int], tuple[int, int]] | None], ...] = (
    ("NEW10", 1000, 0, None),
    ("VIP15", 1500, 9900, None),
    ("SAVE20", 2000, 19900, None),
    ("SAVE50", 5000, 39900, None),
    ("D11-100", 10000, 59900, ((11, 1), (11, 12))),
    ("618-60", 6000, 39900, ((6, 1), (6, 19))),
)
ORDER_ID_WIDTH = 9
ORDER_ITEM_ID_WIDTH = 10


@dataclass
class BuyingState:
    """What each customer's buying history has left behind: alive or not, orders so far, last click."""

    alive: np.ndarray
    orders_placed: np.ndarray
    last_click_day: np.ndarray

    @classmethod
    def start(cls, customers: int) -> BuyingState:
        return cls(
            alive=np.ones(customers, dtype=bool),
            orders_placed=np.zeros(customers, dtype=np.int64),
            last_click_day=np.full(customers, -(10**6), dtype=np.int64),
        )


@dataclass(frozen=True)
class DayOrders:
    order_number: np.ndarray
    customer: np.ndarray
    second: np.ndarray  # seconds after midnight, increasing with order_number
    status: np.ndarray  # codes into ORDER_STATUSES, NO_STATUS for empty
    payment: np.ndarray
    platform: np.ndarray
    coupon: np.ndarray  # coupon codes ('' = none)
    discount_cents: np.ndarray  # order-level discount
    total_cents: np.ndarray
    line_number: np.ndarray
    line_order: np.ndarray  # index (within the day) of the line's order
    line_product: np.ndarray
    line_quantity: np.ndarray
    line_unit_cents: np.ndarray
    line_discount_cents: np.ndarray

    @property
    def size(self) -> int:
        return len(self.order_number)

    @property
    def lines(self) -> int:
        return len(self.line_number)


def place_orders(
    rng: np.random.Generator,
    population: Population,
    catalogue: Catalogue,
    state: BuyingState,
    day_index: int,
    day: date,
    days_to_end: int,
    first_order_number: int,
    first_line_number: int,
) -> DayOrders:
    """Decide who buys on `day`, update their buying state and draw the orders and their lines."""
    buyers = _buyers(rng, population, state, day_index, day)
    state.orders_placed[buyers] += 1
    state.alive[buyers] &= rng.random(len(buyers)) >= population.dropout_prob[buyers]
    second = _order_seconds(rng, population, buyers, day_index, day)
    by_time = np.argsort(second, kind="stable")
    buyers, second = buyers[by_time], second[by_time]
    count = len(buyers)

    lines_per_order = 1 + np.minimum(rng.poisson(0.5, count), 4)
    line_order = np.repeat(np.arange(count), lines_per_order)
    line_product = _line_products(rng, catalogue, population.gender[buyers][line_order])
    quantity = rng.choice(np.arange(1, 6), size=len(line_order), p=[0.76, 0.17, 0.05, 0.015, 0.005])
    unit_cents = catalogue.list_price_cents[line_product]
    line_discount = _line_discounts(rng, quantity * unit_cents, is_promotion_day(day))
    subtotal = np.bincount(line_order, weights=quantity * unit_cents - line_discount, minlength=count)
    subtotal = subtotal.astype(np.int64)
    coupon, discount = _coupons(rng, day, subtotal, first_order=state.orders_placed[buyers] == 1)

    own_platform = rng.random(count) < 0.85
    return DayOrders(
        order_number=first_order_number + np.arange(count),
        customer=buyers,
        second=second,
        status=_statuses(rng, count, days_to_end),
        payment=rng.choice(len(PAYMENT_METHODS), size=count, p=PAYMENT_SHARES),
        platform=np.where(
            own_platform, population.platform[buyers], rng.integers(0, len(reference.PLATFORMS), count)
        ),
        coupon=coupon,
        discount_cents=discount,
        total_cents=subtotal - discount,
        line_number=first_line_number + np.arange(len(line_order)),
        line_order=line_order,
        line_product=line_product,
        line_quantity=quantity,
        line_unit_cents=unit_cents,
        line_discount_cents=line_discount,
    )


def _buyers(
    rng: np.random.Generator, population: Population, state: BuyingState, day_index: int, day: date
) -> np.ndarray:
    first_order = population.first_order_day == day_index
    recently_clicked = (day_index - state.last_click_day >= 1) & (
        day_index - state.last_click_day <= CLICK_UPLIFT_DAYS
    )
    rate = population.purchase_rate * demand_factor(day) * np.where(recently_clicked, CLICK_UPLIFT, 1.0)
    repeat = (state.orders_placed > 0) & state.alive & (rng.random(population.size) < -np.expm1(-rate))
    return np.flatnonzero(first_order | repeat)


def _order_seconds(
    rng: np.random.Generator,
    population: Population,
    buyers: np.ndarray,
    day_index: int,
    day: date,
) -> np.ndarray:
    """Order times; a customer ordering on the signup day orders after signing up."""
    second = seconds_of_day(rng, len(buyers), day)
    signed_up_today = population.signup_day[buyers] == day_index
    signup_second = population.signup_second[buyers]
    after_signup = signup_second + np.floor((86400 - signup_second) * rng.random(len(buyers))).astype(
        np.int64
    )
    return np.where(signed_up_today, np.minimum(after_signup, 86399), second)


def _line_products(rng: np.random.Generator, catalogue: Catalogue, gender: np.ndarray) -> np.ndarray:
    products = np.empty(len(gender), dtype=np.int64)
    for code in range(len(reference.GENDERS)):
        rows = gender == code
        products[rows] = rng.choice(
            catalogue.size, size=int(rows.sum()), p=catalogue.popularity_by_gender[code]
        )
    return products


def _line_discounts(rng: np.random.Generator, line_cents: np.ndarray, promotion: bool) -> np.ndarray:
    share, low, high = (0.7, 0.10, 0.30) if promotion else (0.15, 0.05, 0.20)
    discounted = rng.random(len(line_cents)) < share
    rate = rng.uniform(low, high, len(line_cents))
    return np.where(discounted, np.round(line_cents * rate), 0).astype(np.int64)


def _coupons(
    rng: np.random.Generator,
    day: date,
    subtotal: np.ndarray,
    first_order: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Coupon code ('' = none) and order discount in cents; a coupon needs its minimum spend."""
    valid = [c for c in COUPONS if in_window(day, c[3])]
    count = len(subtotal)
    pick = rng.integers(0, len(valid), count)
    codes = np.array([c[0] for c in valid])[pick]
    value = np.array([c[1] for c in valid])[pick]
    minimum = np.array([c[2] for c in valid])[pick]
    uses_coupon = rng.random(count) < (0.45 if is_promotion_day(day) else 0.2)
    uses_coupon &= (subtotal >= minimum) & ((codes != "NEW10") | first_order)
    discount = np.where(uses_coupon, np.minimum(value, subtotal), 0)
    codes = np.where(uses_coupon, codes, "")
    free_gift = rng.random(count) < FREE_GIFT_SHARE
    codes = np.where(free_gift, FREE_GIFT_COUPON, codes)
    return codes, np.where(free_gift, subtotal, discount).astype(np.int64)


def _statuses(rng: np.random.Generator, count: int, days_to_end: int) -> np.ndarray:
    """Recent orders are paid or shipped; older ones completed (often left empty), some returned."""
    draw = rng.random(count)
    if days_to_end <= 1:
        status = np.full(count, PAID)
    elif days_to_end <= 4:
        status = np.full(count, SHIPPED)
    else:
        status = np.where(rng.random(count) < 0.65, NO_STATUS, COMPLETED)
    returned = (draw >= CANCELLED_SHARE) & (draw < CANCELLED_SHARE + RETURNED_SHARE) & (days_to_end >= 7)
    return np.where(draw < CANCELLED_SHARE, CANCELLED, np.where(returned, RETURNED, status))


def orders_table(
    orders: DayOrders, population: Population, day: date, rng: np.random.Generator
) -> dict[str, pa.Array]:
    address_missing = population.demographics["address_missing"][orders.customer] | (
        rng.random(orders.size) < 0.05
    )
    no_coupon = orders.coupon == ""
    return {
        "order_id": order_ids(orders.order_number),
        "customer_id": customer_ids(orders.customer),
        "ordered_at": formatting.timestamps(day, orders.second),
        "total_amount": formatting.money(orders.total_cents),
        "status": formatting.pick(ORDER_STATUSES, orders.status, orders.status == NO_STATUS),
        "payment_method": formatting.pick(PAYMENT_METHODS, orders.payment),
        "coupon_code": formatting.text(orders.coupon, no_coupon),
        "discount_amount": formatting.money(orders.discount_cents, no_coupon),
        "platform": formatting.pick(reference.PLATFORMS, orders.platform),
        "shipping_address": formatting.text(population.personal["address"][orders.customer], address_missing),
    }


def order_items_table(orders: DayOrders) -> dict[str, pa.Array]:
    return {
        "order_item_id": formatting.identifiers("OI", orders.line_number, ORDER_ITEM_ID_WIDTH),
        "order_id": order_ids(orders.order_number[orders.line_order]),
        "product_id": product_ids(orders.line_product),
        "quantity": formatting.integers(orders.line_quantity),
        "unit_price": formatting.money(orders.line_unit_cents),
        "discount_amount": formatting.money(orders.line_discount_cents, orders.line_discount_cents == 0),
    }


def order_ids(numbers: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    """Order identifiers as the shop exports them: 'O' and the zero-padded order number."""
    return formatting.identifiers("O", numbers, ORDER_ID_WIDTH, missing=missing)
