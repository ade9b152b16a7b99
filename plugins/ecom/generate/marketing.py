"""Marketing touches (impressions and clicks per channel and campaign) and the daily spend they cost."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pyarrow as pa

from ecom.generate import formatting, reference
from ecom.generate.calendar import demand_factor, in_window, seconds_of_day
from ecom.generate.orders import BuyingState
from ecom.generate.population import Population, anonymous_ids, customer_ids

DIRECT = reference.CHANNELS.index("direct")
EMAIL_SMS = reference.CHANNELS.index("email_sms")
TOUCH_TYPES: tuple[str, ...] = ("impression", "click")
IMPRESSION, CLICK, UNLABELLED_CLICK = 0, 1, -1  # an empty touch_type means click
PRE_SIGNUP_DAYS = 14
PRE_SIGNUP_TOUCH_RATE = 0.07  # touches a day for a visitor who will sign up within PRE_SIGNUP_DAYS
CUSTOMER_TOUCH_RATE = 0.03  # touches a day for a registered customer
ANONYMOUS_TOUCH_RATE = 0.02  # touches a day per anonymous visitor who never signs up
# Channel mix of touches reaching registered customers (CRM and retargeting heavy).
CUSTOMER_CHANNEL_SHARES: tuple[float, ...] = (0.15, 0.12, 0.20, 0.10, 0.30, 0.05, 0.08)
# (campaign number, channel, (first, last) (month, day) it runs, or None = always on)
CAMPAIGNS: tuple[tuple[int, str, tuple[tuple[int, int], tuple[int, int]] | None], ...] = (
    (1, "search", None),
    (2, "search", None),
    (3, "social", None),
    (4, "feed_ads", None),
    (5, "feed_ads", None),
    (6, "kol_live", None),
    (7, "email_sms", None),
    (8, "affiliate", None),
    (11, "search", ((10, 20), (11, 11))),
    (12, "feed_ads", ((10, 20), (11, 12))),
    (13, "kol_live", ((11, 1), (11, 11))),
    (14, "email_sms", ((11, 9), (11, 11))),
    (18, "feed_ads", ((6, 1), (6, 18))),
    (19, "kol_live", ((6, 10), (6, 18))),
)
CAMPAIGN_ID_WIDTH = 4
# channel -> (cost of a click, cost of an impression, fixed daily fee per 1,000 customers), in cents
CHANNEL_COSTS: dict[str, tuple[int, int, int]] = {
    "search": (350, 2, 3000),
    "social": (150, 3, 4000),
    "feed_ads": (120, 4, 5000),
    "kol_live": (400, 5, 8000),
    "email_sms": (10, 5, 500),
    "affiliate": (200, 0, 0),
}
TOUCHPOINT_ID_WIDTH = 10


@dataclass(frozen=True)
class DayTouches:
    customer: np.ndarray  # customer index, -1 = not known (not signed in)
    visitor: np.ndarray  # anonymous visitor number, 0 = none (e.g. an e-mail)
    channel: np.ndarray  # codes into reference.CHANNELS
    campaign: np.ndarray  # campaign number, 0 = none
    second: np.ndarray
    touch_type: np.ndarray  # IMPRESSION, CLICK or UNLABELLED_CLICK

    @property
    def size(self) -> int:
        return len(self.second)


def touch_customers(
    rng: np.random.Generator,
    population: Population,
    state: BuyingState,
    day_index: int,
    day: date,
) -> DayTouches:
    """The day's touches; clicks of registered customers raise their chance to buy in the next days."""
    busy = demand_factor(day) ** 0.5
    n = population.size
    soon = (population.signup_day > day_index) & (population.signup_day <= day_index + PRE_SIGNUP_DAYS)
    prospects = np.flatnonzero(soon & (rng.random(n) < PRE_SIGNUP_TOUCH_RATE * busy))
    signing_up = np.flatnonzero(population.signup_day == day_index)
    registered = np.flatnonzero(
        (population.signup_day < day_index) & (rng.random(n) < CUSTOMER_TOUCH_RATE * busy)
    )
    strangers = rng.integers(0, n, rng.poisson(n * ANONYMOUS_TOUCH_RATE * busy)) + n + 1

    acquisition = population.acquisition_channel
    prospect_channel = np.where(
        rng.random(len(prospects)) < 0.6,
        acquisition[prospects],
        _channels(rng, len(prospects)),
    )
    customer_channel = rng.choice(len(reference.CHANNELS), size=len(registered), p=CUSTOMER_CHANNEL_SHARES)
    lead_time = rng.integers(30, 900, len(signing_up))
    parts = [
        (
            np.full(len(prospects), -1),
            prospects + 1,
            prospect_channel,
            seconds_of_day(rng, len(prospects), day),
            _touch_types(rng, len(prospects)),
        ),
        (
            np.full(len(signing_up), -1),
            signing_up + 1,
            acquisition[signing_up],
            np.maximum(population.signup_second[signing_up] - lead_time, 0),
            np.full(len(signing_up), CLICK),
        ),
        (
            registered,
            np.where(customer_channel == EMAIL_SMS, 0, registered + 1),
            customer_channel,
            seconds_of_day(rng, len(registered), day),
            _touch_types(rng, len(registered)),
        ),
        (
            np.full(len(strangers), -1),
            strangers,
            _channels(rng, len(strangers)),
            seconds_of_day(rng, len(strangers), day),
            _touch_types(rng, len(strangers), click_share=0.2),
        ),
    ]
    customer, visitor, channel, second, touch_type = (
        np.concatenate(column) for column in zip(*parts, strict=True)
    )
    touch_type = np.where(channel == DIRECT, CLICK, touch_type)  # a direct visit is always a click
    by_time = np.argsort(second, kind="stable")
    touches = DayTouches(
        customer=customer[by_time],
        visitor=visitor[by_time],
        channel=channel[by_time],
        campaign=_campaigns(rng, channel[by_time], day),
        second=second[by_time],
        touch_type=touch_type[by_time],
    )
    clicked = (touches.customer >= 0) & (touches.touch_type != IMPRESSION)
    state.last_click_day[touches.customer[clicked]] = day_index
    return touches


def _channels(rng: np.random.Generator, size: int) -> np.ndarray:
    return rng.choice(len(reference.CHANNELS), size=size, p=reference.ACQUISITION_CHANNEL_SHARES)


def _touch_types(rng: np.random.Generator, size: int, click_share: float = 0.4) -> np.ndarray:
    draw = rng.random(size)
    return np.where(
        draw < click_share * 0.9, CLICK, np.where(draw < click_share, UNLABELLED_CLICK, IMPRESSION)
    )


def active_campaigns(day: date) -> list[tuple[int, str]]:
    return [
        (number, channel)
        for number, channel, window in CAMPAIGNS
        if in_window(day, window)
    ]


def _campaigns(rng: np.random.Generator, channel: np.ndarray, day: date) -> np.ndarray:
    """A running campaign of the touch's channel (festival campaigns get most touches); direct has none."""
    campaign = np.zeros(len(channel), dtype=np.int64)
    running = active_campaigns(day)
    for code, name in enumerate(reference.CHANNELS):
        numbers = np.array([number for number, channel_name in running if channel_name == name])
        rows = np.flatnonzero(channel == code)
        if len(numbers) == 0 or len(rows) == 0:
            continue
        weights = np.where(numbers > 10, 3.0, 1.0)
        campaign[rows] = rng.choice(numbers, size=len(rows), p=weights / weights.sum())
    return campaign


def campaign_ids(numbers: np.ndarray) -> pa.Array:
    return formatting.identifiers("C", numbers, CAMPAIGN_ID_WIDTH, missing=numbers == 0)


def touchpoints_table(touches: DayTouches, day: date, first_touch_number: int) -> dict[str, pa.Array]:
    return {
        "touchpoint_id": formatting.identifiers(
            "T", first_touch_number + np.arange(touches.size), TOUCHPOINT_ID_WIDTH
        ),
        "customer_id": customer_ids(np.maximum(touches.customer, 0), missing=touches.customer < 0),
        "anonymous_id": anonymous_ids(touches.visitor, missing=touches.visitor == 0),
        "channel": formatting.pick(reference.CHANNELS, touches.channel),
        "campaign_id": campaign_ids(touches.campaign),
        "occurred_at": formatting.timestamps(day, touches.second),
        "touch_type": formatting.pick(
            TOUCH_TYPES, touches.touch_type, missing=touches.touch_type == UNLABELLED_CLICK
        ),
    }


def marketing_spend_table(touches: DayTouches, day: date, customers: int) -> dict[str, pa.Array]:
    """Spend per running campaign: a daily fee (scaled to the shop's size) plus the cost of its touches."""
    campaigns, spend = [], []
    for number, channel in active_campaigns(day):
        click_cost, impression_cost, daily_fee = CHANNEL_COSTS[channel]
        mine = touches.campaign == number
        clicks = int((mine & (touches.touch_type != IMPRESSION)).sum())
        impressions = int((mine & (touches.touch_type == IMPRESSION)).sum())
        cents = clicks * click_cost + impressions * impression_cost + daily_fee * customers // 1000
        if cents > 0:
            campaigns.append(number)
            spend.append(cents)
    numbers = np.array(campaigns, dtype=np.int64)
    channel_of = {number: channel for number, channel, _ in CAMPAIGNS}
    return {
        "spend_date": formatting.text(np.full(len(numbers), day.isoformat())),
        "channel": formatting.text(np.array([channel_of[n] for n in numbers], dtype=str)),
        "campaign_id": campaign_ids(numbers),
        "spend": formatting.money(np.array(spend, dtype=np.int64)),
    }
