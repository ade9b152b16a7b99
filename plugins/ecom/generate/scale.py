"""Named shop sizes for `ecom generate --scale`: a year of history at three sizes (benchmarks, load tests)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scale:
    customers: int
    days: int


SCALES: dict[str, Scale] = {
    "small": Scale(customers=10_000, days=365),
    "medium": Scale(customers=200_000, days=365),
    "large": Scale(customers=1_000_000, days=365),
}


def scale_named(name: str) -> Scale:
    try:
        return SCALES[name]
    except KeyError:
        raise ValueError(f"unknown scale {name!r}: expected one of {', '.join(SCALES)}") from None
