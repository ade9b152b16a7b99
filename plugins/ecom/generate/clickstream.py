"""One day of clickstream: the visits behind the day's orders plus many visits that buy nothing.

Every visit is a row of step counts (how many events of each type it has, in STEPS order); the events
are expanded from those counts at once for the whole day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pyarrow as pa

from ecom.generate import formatting, reference
from ecom.generate.calendar import demand_factor, seconds_of_day
from ecom.generate.catalogue import Catalogue, product_ids
from ecom.generate.orders import BuyingState, DayOrders, order_ids
from ecom.generate.population import Population, anonymous_ids, customer_ids

STEPS: tuple[str, ...] = (
    "session_start",
    "search",
    "page_view",
    "product_view",
    "review_view",
    "add_to_cart",
    "remove_from_cart",
    "checkout",
    "purchase",
)
(
    SESSION_START,
    SEARCH,
    PAGE_VIEW,
    PRODUCT_VIEW,
    REVIEW_VIEW,
    ADD_TO_CART,
    REMOVE_FROM_CART,
    CHECKOUT,
    PURCHASE,
) = range(len(STEPS))
STEP_PAGES: tuple[str, ...] = (
    "home",
    "search",
    "category",
    "product",
    "product",
    "product",
    "cart",
    "checkout",
    "checkout",
)
LANDING_PAGES: tuple[str, ...] = ("home", "category", "product", "live_room", "campaign")
BROWSING_PAGES: tuple[str, ...] = ("home", "category", "campaign", "live_room", "account")
MEAN_DWELL_SECONDS = np.array([4, 12, 20, 45, 30, 8, 6, 40, 10])
WEB = reference.PLATFORMS.index("web")
MOBILE, DESKTOP, TABLET = (reference.DEVICES.index(d) for d in ("mobile", "desktop", "tablet"))
PROSPECT_VISIT_RATE = 0.12  # visits a day of someone signing up within a week (not yet signed in)
STRANGER_VISIT_RATE = 0.03  # visits a day per anonymous visitor who never signs up
SESSION_ID_WIDTH = 10
EVENT_ID_WIDTH = 12


@dataclass(frozen=True)
class Visits:
    customer: np.ndarray  # customer index, -1 = anonymous
    visitor: np.ndarray  # anonymous visitor (device) number
    platform: np.ndarray
    device: np.ndarray
    steps: np.ndarray  # (visits, len(STEPS)) event counts
    focus_product: np.ndarray  # the product the visit is about
    order: np.ndarray  # index of the order (in the day's orders) placed, -1 = none


@dataclass(frozen=True)
class DayEvents:
    columns: dict[str, pa.Array]
    sessions: int


def visitor_numbers(population: Population, customer: np.ndarray, platform: np.ndarray) -> np.ndarray:
    """A customer's phone (app, mini program) is visitor customer+1, their web browser visitor 2n+customer+1.

    Numbers n+1..2n belong to anonymous visitors who never sign up.
    """
    return np.where(platform == WEB, 2 * population.size, 0) + customer + 1


def visit_day(
    rng: np.random.Generator,
    population: Population,
    catalogue: Catalogue,
    state: BuyingState,
    orders: DayOrders,
    day_index: int,
    day: date,
    first_session: int,
    first_event: int,
) -> DayEvents:
    visits = _concat(
        _purchase_visits(rng, population, orders),
        _browsing_visits(rng, population, catalogue, state, day_index, day),
    )
    return _expand(rng, visits, population, catalogue, orders, day_index, day, first_session, first_event)


def _purchase_visits(rng: np.random.Generator, population: Population, orders: DayOrders) -> Visits:
    count = orders.size
    lines = np.bincount(orders.line_order, minlength=count)
    first_line = np.cumsum(lines) - lines
    steps = np.zeros((count, len(STEPS)), dtype=np.int64)
    steps[:, SESSION_START] = 1
    steps[:, SEARCH] = rng.random(count) < 0.4
    steps[:, PAGE_VIEW] = rng.poisson(0.8, count)
    steps[:, PRODUCT_VIEW] = lines + rng.poisson(1.5, count)
    steps[:, REVIEW_VIEW] = rng.random(count) < 0.35
    steps[:, ADD_TO_CART] = lines
    steps[:, CHECKOUT] = 1
    steps[:, PURCHASE] = 1
    return Visits(
        customer=orders.customer,
        visitor=visitor_numbers(population, orders.customer, orders.platform),
        platform=orders.platform,
        device=_devices(rng, orders.platform, population.handheld_device[orders.customer]),
        steps=steps,
        focus_product=orders.line_product[first_line] if count else np.zeros(0, dtype=np.int64),
        order=np.arange(count),
    )


def _browsing_visits(
    rng: np.random.Generator,
    population: Population,
    catalogue: Catalogue,
    state: BuyingState,
    day_index: int,
    day: date,
) -> Visits:
    busy = demand_factor(day) ** 0.5
    n = population.size
    interest = np.minimum(0.5, (0.02 + 3 * population.purchase_rate) * busy * np.where(state.alive, 1.0, 0.3))
    registered = np.flatnonzero((population.signup_day < day_index) & (rng.random(n) < interest))
    soon = (population.signup_day > day_index) & (population.signup_day <= day_index + 7)
    prospects = np.flatnonzero(soon & (rng.random(n) < PROSPECT_VISIT_RATE))
    strangers = rng.integers(0, n, rng.poisson(n * STRANGER_VISIT_RATE * busy))

    known = np.concatenate([registered, prospects])
    platform = np.concatenate(
        [
            np.where(
                rng.random(len(known)) < 0.85, population.platform[known], rng.integers(0, 3, len(known))
            ),
            rng.choice(len(reference.PLATFORMS), size=len(strangers), p=reference.PLATFORM_SHARES),
        ]
    )
    handheld = np.concatenate(
        [population.handheld_device[known], np.where(rng.random(len(strangers)) < 0.9, MOBILE, TABLET)]
    )
    visitor = np.concatenate([visitor_numbers(population, known, platform[: len(known)]), strangers + n + 1])
    engagement = np.concatenate([np.ones(len(known)), np.full(len(strangers), 0.6)])
    return Visits(
        customer=np.concatenate([registered, np.full(len(prospects) + len(strangers), -1)]),
        visitor=visitor,
        platform=platform,
        device=_devices(rng, platform, handheld),
        steps=_browsing_steps(rng, engagement),
        focus_product=rng.choice(catalogue.size, size=len(visitor), p=catalogue.popularity_by_gender[2]),
        order=np.full(len(visitor), -1),
    )


def _browsing_steps(rng: np.random.Generator, engagement: np.ndarray) -> np.ndarray:
    count = len(engagement)
    steps = np.zeros((count, len(STEPS)), dtype=np.int64)
    steps[:, SESSION_START] = 1
    steps[:, SEARCH] = rng.random(count) < 0.35
    steps[:, PAGE_VIEW] = rng.poisson(1.2, count)
    steps[:, PRODUCT_VIEW] = rng.poisson(2.0 * engagement) + steps[:, SEARCH]
    viewed = steps[:, PRODUCT_VIEW] > 0
    steps[:, REVIEW_VIEW] = viewed & (rng.random(count) < 0.2)
    steps[:, ADD_TO_CART] = viewed & (rng.random(count) < 0.2 * engagement)
    steps[:, REMOVE_FROM_CART] = (steps[:, ADD_TO_CART] > 0) & (rng.random(count) < 0.3)
    steps[:, CHECKOUT] = (steps[:, ADD_TO_CART] > steps[:, REMOVE_FROM_CART]) & (rng.random(count) < 0.15)
    return steps


def _devices(rng: np.random.Generator, platform: np.ndarray, handheld: np.ndarray) -> np.ndarray:
    """The web is mostly used from computers, the app and mini program from the visitor's phone or tablet."""
    return np.where((platform == WEB) & (rng.random(len(platform)) < 0.8), DESKTOP, handheld)


def _concat(first: Visits, second: Visits) -> Visits:
    return Visits(
        **{
            field: np.concatenate([getattr(first, field), getattr(second, field)])
            for field in Visits.__dataclass_fields__
        }
    )


def _expand(
    rng: np.random.Generator,
    visits: Visits,
    population: Population,
    catalogue: Catalogue,
    orders: DayOrders,
    day_index: int,
    day: date,
    first_session: int,
    first_event: int,
) -> DayEvents:
    sessions, kinds = visits.steps.shape
    cell = np.repeat(np.arange(sessions * kinds), visits.steps.ravel())  # events in session, then step order
    session, step = cell // kinds, cell % kinds
    group_start = (
        np.flatnonzero(np.r_[True, cell[1:] != cell[:-1]]) if len(cell) else np.zeros(0, dtype=np.int64)
    )
    rank = np.arange(len(cell)) - np.repeat(group_start, np.diff(np.r_[group_start, len(cell)]))

    product = _event_products(rng, visits, catalogue, orders, session, step, rank)
    second, dwell = _event_times(rng, visits, population, orders, session, step, day_index, day)
    order = np.where(step == PURCHASE, visits.order[session], -1)

    start_second = np.full(sessions, 86400, dtype=np.int64)
    np.minimum.at(start_second, session, second)
    session_rank = np.empty(sessions, dtype=np.int64)
    session_rank[np.argsort(start_second, kind="stable")] = np.arange(sessions)
    by_session = np.argsort(session_rank[session], kind="stable")
    session, step, product, second, dwell, order = (
        a[by_session] for a in (session, step, product, second, dwell, order)
    )
    pages = np.asarray(STEP_PAGES)[step]
    pages = np.where(
        step == SESSION_START,
        np.asarray(LANDING_PAGES)[rng.integers(0, len(LANDING_PAGES), len(step))],
        pages,
    )
    pages = np.where(
        step == PAGE_VIEW, np.asarray(BROWSING_PAGES)[rng.integers(0, len(BROWSING_PAGES), len(step))], pages
    )
    has_product = np.isin(step, [PRODUCT_VIEW, REVIEW_VIEW, ADD_TO_CART, REMOVE_FROM_CART])
    is_search = step == SEARCH
    query = np.full(len(step), "", dtype=object)
    query[is_search] = catalogue.search_terms(product[is_search], rng)
    customer = visits.customer[session]
    columns = {
        "event_id": formatting.identifiers("E", first_event + np.arange(len(step)), EVENT_ID_WIDTH),
        "session_id": formatting.identifiers("S", first_session + session_rank[session], SESSION_ID_WIDTH),
        "customer_id": customer_ids(np.maximum(customer, 0), missing=customer < 0),
        "anonymous_id": anonymous_ids(visits.visitor[session]),
        "event_type": formatting.pick(STEPS, step),
        "occurred_at": formatting.timestamps(day, second),
        "page_type": formatting.text(pages),
        "product_id": product_ids(product, missing=~has_product),
        "search_query": formatting.text(query.astype(str), ~is_search),
        "order_id": order_ids(
            np.where(order >= 0, orders.order_number[np.maximum(order, 0)] if orders.size else 0, 0),
            missing=order < 0,
        ),
        "dwell_seconds": formatting.integers(dwell, missing=rng.random(len(step)) < 0.02),
        "device": formatting.pick(reference.DEVICES, visits.device[session]),
        "platform": formatting.pick(reference.PLATFORMS, visits.platform[session]),
    }
    return DayEvents(columns=columns, sessions=sessions)


def _event_products(
    rng: np.random.Generator,
    visits: Visits,
    catalogue: Catalogue,
    orders: DayOrders,
    session: np.ndarray,
    step: np.ndarray,
    rank: np.ndarray,
) -> np.ndarray:
    """Browsed products: the visit's focus product first, then others.

    A purchase visit views and carts the lines of its order.
    """
    product = rng.choice(catalogue.size, size=len(step), p=catalogue.popularity_by_gender[2])
    focused = ((step == PRODUCT_VIEW) & (rank == 0)) | np.isin(
        step, [SEARCH, REVIEW_VIEW, ADD_TO_CART, REMOVE_FROM_CART]
    )
    product = np.where(focused, visits.focus_product[session], product)
    if orders.size == 0:
        return product
    order = visits.order[session]
    lines = np.bincount(orders.line_order, minlength=orders.size)
    first_line = np.cumsum(lines) - lines
    ordered = (order >= 0) & np.isin(step, [PRODUCT_VIEW, ADD_TO_CART])
    ordered &= rank < lines[np.maximum(order, 0)]
    line = first_line[np.maximum(order, 0)] + np.minimum(rank, lines[np.maximum(order, 0)] - 1)
    return np.where(ordered, orders.line_product[line], product)


def _event_times(
    rng: np.random.Generator,
    visits: Visits,
    population: Population,
    orders: DayOrders,
    session: np.ndarray,
    step: np.ndarray,
    day_index: int,
    day: date,
) -> tuple[np.ndarray, np.ndarray]:
    """Seconds after midnight of each event and its dwell time (seconds until the visit's next event).

    A purchase visit ends with its purchase event exactly at the order's time; when it would start before
    midnight (or before the customer signed up) it is compressed to fit.
    """
    sessions = len(visits.customer)
    dwell = np.maximum(1, np.round(rng.lognormal(0.0, 0.8, len(step)) * MEAN_DWELL_SECONDS[step])).astype(
        np.int64
    )
    before = np.cumsum(dwell) - dwell
    first_event = np.searchsorted(session, np.arange(sessions))
    offset = before - before[first_event][session]  # seconds since the visit started
    length = np.bincount(session, weights=dwell, minlength=sessions).astype(np.int64)
    start = np.minimum(seconds_of_day(rng, sessions, day), np.maximum(0, 86399 - length))
    second = start[session] + offset

    buying = visits.order >= 0
    if buying.any():
        order_second = np.where(buying, orders.second[np.maximum(visits.order, 0)], 0)
        buyer = np.maximum(visits.customer, 0)
        earliest = np.where(population.signup_day[buyer] == day_index, population.signup_second[buyer], 0)
        purchase_offset = offset[first_event + visits.steps.sum(axis=1) - 1]  # purchase is the last event
        scale = np.minimum(1.0, (order_second - earliest) / np.maximum(purchase_offset, 1))
        to_go = np.ceil((purchase_offset[session] - offset) * scale[session]).astype(np.int64)
        bought = np.maximum(order_second[session] - to_go, earliest[session])
        second = np.where(buying[session], bought, second)
    last_of_session = np.r_[session[1:] != session[:-1], True] if len(step) else np.zeros(0, dtype=bool)
    next_gap = np.r_[np.diff(second), 0] if len(step) else np.zeros(0, dtype=np.int64)
    return second, np.where(last_of_session, dwell, next_gap)
