"""The shop's rhythm: how busy each day is (weekdays, Double 11, 618) and each hour of a day."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

# Monday .. Sunday: weekends are busier.
WEEKDAY_FACTORS: tuple[float, ...] = (0.92, 0.95, 0.97, 1.0, 1.05, 1.12, 1.10)

# (month, day) -> multiplier on top of the weekday rhythm.
FESTIVAL_FACTORS: dict[tuple[int, int], float] = {
    (11, 10): 1.6,  # Double 11 pre-sale night
    (11, 11): 6.0,  # Double 11 ("Singles' Day")
    (11, 12): 1.5,  # Double 11 tail
    (12, 12): 2.0,  # Double 12
    (6, 18): 3.0,  # 618
    (6, 19): 1.3,
}
WARM_UP_WINDOWS: tuple[tuple[tuple[int, int], tuple[int, int], float], ...] = (
    ((11, 1), (11, 9), 1.15),  # Double 11 warm-up
    ((6, 1), (6, 17), 1.15),  # 618 warm-up
)

# Orders and visits per hour of an ordinary day (peaks at lunch and 20:00-22:00).
HOUR_WEIGHTS = np.array(
    [
        2.0,
        1.2,
        0.6,
        0.3,
        0.2,
        0.3,
        0.8,
        1.8,
        2.8,
        3.5,
        4.2,
        4.5,
        4.8,
        4.3,
        4.0,
        4.0,
        4.1,
        4.2,
        4.5,
        5.2,
        6.2,
        7.0,
        6.0,
        4.0,
    ]
)
# On Double 11 the rush starts at midnight.
DOUBLE_11_HOUR_WEIGHTS = HOUR_WEIGHTS * np.array([8.0, 3.0] + [1.0] * 18 + [1.5] * 4)


def is_double_11(day: date) -> bool:
    return (day.month, day.day) == (11, 11)


def in_window(day: date, window: tuple[tuple[int, int], tuple[int, int]] | None) -> bool:
    """Whether the day falls in a yearly (month, day) .. (month, day) window; None means all year."""
    return window is None or window[0] <= (day.month, day.day) <= window[1]


def demand_factor(day: date) -> float:
    """How busy a day is relative to an ordinary Thursday."""
    factor = WEEKDAY_FACTORS[day.weekday()] * FESTIVAL_FACTORS.get((day.month, day.day), 1.0)
    for first, last, warm_up in WARM_UP_WINDOWS:
        if in_window(day, (first, last)):
            factor *= warm_up
    return factor


def is_promotion_day(day: date) -> bool:
    """A festival or warm-up day: deeper discounts and more coupons."""
    return demand_factor(day) / WEEKDAY_FACTORS[day.weekday()] > 1.0


def window_days(end_date: date, days: int) -> list[date]:
    """The `days` calendar days ending at `end_date`, oldest first."""
    return [end_date - timedelta(days=days - 1 - i) for i in range(days)]


def seconds_of_day(rng: np.random.Generator, size: int, day: date) -> np.ndarray:
    """Random seconds after midnight following the day's hourly rhythm."""
    weights = DOUBLE_11_HOUR_WEIGHTS if is_double_11(day) else HOUR_WEIGHTS
    hours = rng.choice(24, size=size, p=weights / weights.sum())
    return hours * 3600 + rng.integers(0, 3600, size=size)
