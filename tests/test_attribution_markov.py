"""Markov-chain attribution (ecom.attribution.markov) on hand-made journeys.

Removal effects are checked against values computed by hand and against a direct computation on the
full transition matrix (absorbing states included), built here from the journeys independently.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from ecom.attribution.markov import (
    Journey,
    build_chain,
    conversion_probability,
    credit_shares,
    removal_effects,
)

# start -> A 2/3, start -> B 1/3; A -> B 1/2, A -> null 1/2; B -> conversion 1.
# P(conversion) = 2/3 * 1/2 + 1/3 = 2/3. Without A: 1/3 (RE 1/2). Without B: 0 (RE 1).
HAND_MADE = [Journey(("A", "B"), True), Journey(("A",), False), Journey(("B",), True)]

# Repeats, self-loops, a cycle and weighted journeys.
TANGLED = [
    Journey(("search", "social", "search"), True, count=3),
    Journey(("social", "social"), False, count=5),
    Journey(("email", "search", "email"), True, count=2),
    Journey(("search",), False, count=4),
    Journey(("social", "email", "social", "email"), False),
    Journey(("email",), True),
]


def direct_conversion_probability(journeys: list[Journey], removed: str | None = None) -> float:
    """Hitting probability of conversion from start, solved on the full (labels + 3)-state matrix."""
    labels = sorted({state for journey in journeys for state in journey.states})
    states = ["start", *labels, "conversion", "null"]
    position = {state: i for i, state in enumerate(states)}
    counts = np.zeros((len(states), len(states)))
    for journey in journeys:
        path = ["start", *journey.states, "conversion" if journey.converted else "null"]
        for source, target in itertools.pairwise(path):
            counts[position[source], position[target]] += journey.count
    full = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    full[position["conversion"], position["conversion"]] = 1.0
    full[position["null"], position["null"]] = 1.0
    if removed is not None:
        full[position[removed], :] = 0.0
        full[position[removed], position["null"]] = 1.0
    # h = P h on transient states, h(conversion) = 1, h(null) = 0
    system = np.eye(len(states)) - full
    right = np.zeros(len(states))
    for absorbing, value in (("conversion", 1.0), ("null", 0.0)):
        system[position[absorbing], :] = 0.0
        system[position[absorbing], position[absorbing]] = 1.0
        right[position[absorbing]] = value
    return float(np.linalg.solve(system, right)[position["start"]])


def test_hand_computed_conversion_probability_and_removal_effects() -> None:
    chain = build_chain(HAND_MADE)
    assert chain.labels == ("A", "B")
    assert conversion_probability(chain) == pytest.approx(2 / 3)
    assert conversion_probability(chain, "A") == pytest.approx(1 / 3)
    assert conversion_probability(chain, "B") == pytest.approx(0.0)
    effects = removal_effects(HAND_MADE)
    assert effects == pytest.approx({"A": 0.5, "B": 1.0})
    # 2 conversions x removal effect / sum of removal effects
    assert {label: 2 * share for label, share in credit_shares(effects).items()} == pytest.approx(
        {"A": 2 / 3, "B": 4 / 3}
    )


@pytest.mark.parametrize("journeys", [HAND_MADE, TANGLED], ids=["hand_made", "tangled"])
def test_removal_effects_match_the_full_transition_matrix(journeys: list[Journey]) -> None:
    base = direct_conversion_probability(journeys)
    assert conversion_probability(build_chain(journeys)) == pytest.approx(base, abs=1e-12)
    expected = {
        label: 1 - direct_conversion_probability(journeys, label) / base
        for label in {state for journey in journeys for state in journey.states}
    }
    assert removal_effects(journeys) == pytest.approx(expected, abs=1e-12)


def test_tangled_removal_effects_are_all_distinct_and_reruns_are_identical() -> None:
    effects = removal_effects(TANGLED)
    assert len(set(effects.values())) == 3 and all(0 < effect <= 1 for effect in effects.values())
    assert removal_effects(list(reversed(TANGLED))) == effects


def test_campaign_labels_may_be_tuples_with_missing_campaigns() -> None:
    journeys = [Journey((("search", "k1"), ("social", None)), True), Journey((("social", None),), False)]
    # start -> (search,k1) 1/2 -> (social) ; (social) -> conversion 1/2, null 1/2
    # P = 1/2 * 1/2 + 1/2 * 1/2 = 1/2; without (search,k1): 1/4 (RE 1/2); without (social): 0 (RE 1)
    assert removal_effects(journeys) == pytest.approx({("search", "k1"): 0.5, ("social", None): 1.0})


def test_no_conversion_gives_zero_effects_and_zero_shares() -> None:
    effects = removal_effects([Journey(("A", "B"), False), Journey(("B",), False)])
    assert effects == {"A": 0.0, "B": 0.0}
    assert credit_shares(effects) == {"A": 0.0, "B": 0.0}
    assert removal_effects([]) == {}
