"""The customer base: who signs up when, their demographics, personal data and latent buying behaviour.

Buying follows the BG/NBD story: while "alive" a customer buys at a personal Poisson rate drawn from a
Gamma distribution, and after every purchase drops out for good with a personal probability drawn from a
Beta distribution. Customers are small (one row each), so the whole base is held in memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pyarrow as pa

from ecom.generate import formatting, reference
from ecom.generate.calendar import demand_factor, seconds_of_day

PURCHASE_RATE_SHAPE = 0.5  # Gamma shape r of the daily purchase rate (small: very unequal customers)
PURCHASE_RATE_SCALE = 0.04  # Gamma scale: mean rate 0.02 purchases a day (about 7 a year)
DROPOUT_ALPHA, DROPOUT_BETA = 1.0, 2.5  # Beta(a, b): mean 29% chance to drop out after a purchase
NEVER_BUYS_SHARE = 0.25  # registered but never orders
SAME_DAY_FIRST_ORDER_SHARE = 0.45
FIRST_ORDER_DELAY_P = 0.15  # geometric delay (days) for the others
CUSTOMER_ID_WIDTH = 6
ANONYMOUS_ID_WIDTH = 8


@dataclass(frozen=True)
class Population:
    signup_day: np.ndarray  # index of the signup day in the window
    signup_second: np.ndarray  # seconds after midnight of the signup day
    first_order_day: np.ndarray  # index of the day of the first order; -1 = never buys
    purchase_rate: np.ndarray  # orders a day while alive (before seasonality)
    dropout_prob: np.ndarray  # chance of dropping out after each purchase
    gender: np.ndarray  # codes into reference.GENDERS
    platform: np.ndarray  # favourite platform, codes into reference.PLATFORMS
    handheld_device: np.ndarray  # device used on app/mini program: codes into reference.DEVICES
    acquisition_channel: np.ndarray
    personal: dict[str, np.ndarray]  # name, phone, email, address (strings)
    demographics: dict[str, np.ndarray]  # city_index, birth_date and which values are missing

    @property
    def size(self) -> int:
        return len(self.signup_day)


def customer_numbers(indices: np.ndarray) -> np.ndarray:
    """Customer index 0 is customer '000001'."""
    return np.asarray(indices) + 1


def customer_ids(indices: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    return formatting.identifiers("", customer_numbers(indices), CUSTOMER_ID_WIDTH, missing)


def anonymous_ids(visitor_numbers: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    """Device identifiers; a customer's device is visitor number = customer number."""
    return formatting.identifiers("A", visitor_numbers, ANONYMOUS_ID_WIDTH, missing)


def build_population(rng: np.random.Generator, customers: int, window: list[date]) -> Population:
    weights = np.array([demand_factor(d) for d in window]) ** 0.7
    signup_day = np.sort(rng.choice(len(window), size=customers, p=weights / weights.sum()))
    signup_second = np.concatenate(
        [
            np.sort(seconds_of_day(rng, int(count), window[day]))
            for day, count in enumerate(np.bincount(signup_day, minlength=len(window)))
        ]
    )
    delay = np.where(
        rng.random(customers) < SAME_DAY_FIRST_ORDER_SHARE, 0, rng.geometric(FIRST_ORDER_DELAY_P, customers)
    )
    first_order_day = signup_day + delay
    first_order_day[(rng.random(customers) < NEVER_BUYS_SHARE) | (first_order_day >= len(window))] = -1
    gender = rng.choice(len(reference.GENDERS), size=customers, p=reference.GENDER_SHARES)
    platform = rng.choice(len(reference.PLATFORMS), size=customers, p=reference.PLATFORM_SHARES)
    city = rng.choice(len(reference.CITIES), size=customers, p=_city_shares())
    return Population(
        signup_day=signup_day,
        signup_second=signup_second,
        first_order_day=first_order_day,
        purchase_rate=rng.gamma(PURCHASE_RATE_SHAPE, PURCHASE_RATE_SCALE, customers),
        dropout_prob=rng.beta(DROPOUT_ALPHA, DROPOUT_BETA, customers),
        gender=gender,
        platform=platform,
        handheld_device=np.where(rng.random(customers) < 0.92, 0, 2),
        acquisition_channel=rng.choice(
            len(reference.CHANNELS),
            size=customers,
            p=reference.ACQUISITION_CHANNEL_SHARES,
        ),
        personal=_personal_data(rng, customers, city),
        demographics=_demographics(rng, customers, window[0], city),
    )


def _personal_data(rng: np.random.Generator, n: int, city: np.ndarray) -> dict[str, np.ndarray]:
    surname = rng.integers(0, len(reference.SURNAMES), n)
    given = np.asarray(reference.GIVEN_NAME_CHARACTERS)
    given_name = np.where(
        rng.random(n) < 0.7,
        np.strings.add(given[rng.integers(0, len(given), n)], given[rng.integers(0, len(given), n)]),
        given[rng.integers(0, len(given), n)],
    )
    name = np.strings.add(np.asarray([s for s, _ in reference.SURNAMES])[surname], given_name)
    prefixes = np.asarray(reference.MOBILE_PREFIXES)[rng.integers(0, len(reference.MOBILE_PREFIXES), n)]
    phone = np.strings.add(prefixes, np.strings.zfill(rng.integers(0, 10**8, n).astype(str), 8))
    pinyin = np.asarray([p for _, p in reference.SURNAMES])[surname]
    domains = np.asarray(reference.EMAIL_DOMAINS)[rng.integers(0, len(reference.EMAIL_DOMAINS), n)]
    email = np.strings.add(
        np.strings.add(pinyin, rng.integers(1, 99999, n).astype(str)), np.strings.add("@", domains)
    )
    street = np.strings.add(
        np.asarray(reference.DISTRICTS)[rng.integers(0, len(reference.DISTRICTS), n)],
        np.asarray(reference.STREETS)[rng.integers(0, len(reference.STREETS), n)],
    )
    number = np.strings.add(rng.integers(1, 400, n).astype(str), "号")
    room = np.strings.add(
        np.strings.add(rng.integers(1, 30, n).astype(str), "栋"), rng.integers(101, 2805, n).astype(str)
    )
    province_city = np.strings.add(
        np.strings.add(np.asarray([c[1] for c in reference.CITIES])[city], " "),
        np.strings.add(np.asarray([c[0] for c in reference.CITIES])[city], " "),
    )
    address = np.strings.add(
        province_city,
        np.strings.add(np.strings.add(street, number), np.strings.add(room, "室")),
    )
    return {"name": name, "phone": phone, "email": email, "address": address}


def _city_shares() -> np.ndarray:
    shares = np.array([c[3] for c in reference.CITIES])
    return shares / shares.sum()


def _demographics(
    rng: np.random.Generator, n: int, first_day: date, city: np.ndarray
) -> dict[str, np.ndarray]:
    age_days = (rng.gamma(6.0, 1.3, n) + 18.0) * 365.25
    birth = np.datetime64(first_day, "D") - np.minimum(age_days, 75 * 365.25).astype("timedelta64[D]")
    return {
        "city_index": city,
        "birth_date": birth,
        "birth_date_missing": rng.random(n) < 0.10,
        "city_missing": rng.random(n) < 0.04,
        "name_missing": rng.random(n) < 0.03,
        "phone_missing": rng.random(n) < 0.06,
        "email_missing": rng.random(n) < 0.35,
        "address_missing": rng.random(n) < 0.15,
    }


def customer_table(population: Population, indices: np.ndarray, day: date) -> dict[str, pa.Array]:
    """The CRM export rows of the customers in `indices`, who all signed up on `day`."""
    personal = {key: values[indices] for key, values in population.personal.items()}
    demo = {key: values[indices] for key, values in population.demographics.items()}
    city = demo["city_index"]
    city_missing = demo["city_missing"]
    return {
        "customer_id": customer_ids(indices),
        "signup_at": formatting.timestamps(day, population.signup_second[indices]),
        "name": formatting.text(personal["name"], demo["name_missing"]),
        "phone": formatting.text(personal["phone"], demo["phone_missing"]),
        "email": formatting.text(personal["email"], demo["email_missing"]),
        "address": formatting.text(personal["address"], demo["address_missing"]),
        "gender": formatting.pick(reference.GENDERS, population.gender[indices]),
        "birth_date": formatting.dates(demo["birth_date"], demo["birth_date_missing"]),
        "city": formatting.pick(tuple(c[0] for c in reference.CITIES), city, city_missing),
        "city_tier": formatting.integers(np.array([c[2] for c in reference.CITIES])[city], city_missing),
        "province": formatting.pick(tuple(c[1] for c in reference.CITIES), city, city_missing),
        "acquisition_channel": formatting.pick(reference.CHANNELS, population.acquisition_channel[indices]),
    }
