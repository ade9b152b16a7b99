"""generate_shop: a realistic, reproducible demo shop written day by day into a landing folder."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

from ecom.contract import load_contract
from ecom.generate.calendar import window_days
from ecom.generate.catalogue import build_catalogue, catalogue_size, products_table
from ecom.generate.clickstream import visit_day
from ecom.generate.consents import consents_table, plan_consents
from ecom.generate.credit import RepaymentBook, late_risk
from ecom.generate.marketing import marketing_spend_table, touch_customers, touchpoints_table
from ecom.generate.orders import BuyingState, order_items_table, orders_table, place_orders
from ecom.generate.population import build_population, customer_table
from ecom.generate.reviews import ReviewQueue, reviews_table
from ecom.generate.social import social_table
from ecom.generate.summary import GenerateSummary
from ecom.generate.writer import LandingWriter, ensure_empty_landing

DEFAULT_END_DATE = date(2026, 6, 30)
# Independent random streams, so each part is reproducible on its own for a given seed and day.
POPULATION, CATALOGUE, TOUCHES, ORDERS, ORDER_ROWS, VISITS, REVIEWS = range(7)
CONSENTS, SOCIAL, CREDIT_RISK, CREDIT = range(7, 11)


@dataclass
class Counters:
    """Next identifier number of each table; identifiers run on across days."""

    order: int = 1
    line: int = 1
    touch: int = 1
    session: int = 1
    event: int = 1
    review: int = 1
    activity: int = 1


def random_stream(seed: int, stream: int, day_index: int = 0) -> np.random.Generator:
    return np.random.default_rng([seed, stream, day_index])


def generate_shop(
    out: Path,
    customers: int,
    days: int,
    seed: int,
    fmt: str = "csv",
    end_date: date | None = None,
) -> GenerateSummary:
    """Write `days` days of a shop with `customers` registered customers into `out`/<table>/.

    The same arguments always give byte-identical files. Memory holds the customers and products plus
    one day of everything else.
    """
    if customers < 1 or days < 1:
        raise ValueError(f"customers and days must be at least 1 (got customers={customers}, days={days})")
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer (got {seed})")
    started = time.perf_counter()
    contract = load_contract()
    writer = LandingWriter(out, fmt, contract)
    ensure_empty_landing(out, contract)
    window = window_days(end_date or DEFAULT_END_DATE, days)

    population = build_population(random_stream(seed, POPULATION), customers, window)
    catalogue = build_catalogue(random_stream(seed, CATALOGUE), catalogue_size(customers))
    writer.write("products", window[-1], products_table(catalogue))
    state = BuyingState.start(customers)
    review_queue = ReviewQueue()
    consent_changes = plan_consents(random_stream(seed, CONSENTS), population, days)
    repayments = RepaymentBook(late_risk(random_stream(seed, CREDIT_RISK), customers))
    next_id = Counters()
    signup_bounds = np.searchsorted(population.signup_day, np.arange(days + 1))
    progress_every = max(1, days // 10)

    for day_index, day in enumerate(window):
        touches = touch_customers(random_stream(seed, TOUCHES, day_index), population, state, day_index, day)
        orders = place_orders(
            random_stream(seed, ORDERS, day_index),
            population,
            catalogue,
            state,
            day_index,
            day,
            days - 1 - day_index,
            next_id.order,
            next_id.line,
        )
        events = visit_day(
            random_stream(seed, VISITS, day_index),
            population,
            catalogue,
            state,
            orders,
            day_index,
            day,
            next_id.session,
            next_id.event,
        )
        review_queue.schedule(random_stream(seed, REVIEWS, day_index), orders, day_index)
        reviews = review_queue.release(day_index)
        repayments.add_plans(random_stream(seed, CREDIT, day_index), orders, day_index)

        signups = np.arange(signup_bounds[day_index], signup_bounds[day_index + 1])
        social = social_table(
            random_stream(seed, SOCIAL, day_index),
            orders,
            signups,
            population.signup_second[signups],
            day,
            next_id.activity,
        )
        writer.write("customers", day, customer_table(population, signups, day))
        writer.write(
            "orders", day, orders_table(orders, population, day, random_stream(seed, ORDER_ROWS, day_index))
        )
        writer.write("order_items", day, order_items_table(orders))
        writer.write("events", day, events.columns)
        writer.write("touchpoints", day, touchpoints_table(touches, day, next_id.touch))
        writer.write("marketing_spend", day, marketing_spend_table(touches, day, customers))
        writer.write("reviews", day, reviews_table(reviews, day, next_id.review))
        writer.write("consents", day, consents_table(consent_changes, consent_changes.on_day(day_index), day))
        writer.write("social_activities", day, social)
        writer.write("repayments", day, repayments.export(day_index, window))

        next_id.order += orders.size
        next_id.line += orders.lines
        next_id.touch += touches.size
        next_id.session += events.sessions
        next_id.event += len(events.columns["event_id"])
        next_id.review += reviews.size
        next_id.activity += len(social["activity_id"])
        if (day_index + 1) % progress_every == 0 or day_index == days - 1:
            print(
                f"generate: {day} ({day_index + 1}/{days} days, {100 * (day_index + 1) // days}%), "
                f"{next_id.order - 1} orders, {next_id.event - 1} events so far",
                file=sys.stderr,
                flush=True,
            )

    return GenerateSummary(
        out=out,
        fmt=fmt,
        seed=seed,
        customers=customers,
        first_day=window[0],
        last_day=window[-1],
        files={t: writer.files[t] for t in contract.tables},
        rows={t: writer.rows[t] for t in contract.tables},
        seconds=time.perf_counter() - started,
    )
