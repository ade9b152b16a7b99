"""First-order Markov chain attribution, computed exactly with absorbing-chain algebra.

A journey is a sequence of states (channels, or channel-campaign pairs) that ends in a conversion or
not. The chain has a start state, one transient state per label seen, and two absorbing states:
conversion and null (the journey ended without converting). Transition probabilities are the observed
transition counts of all journeys, normalised per state. The conversion probability is the chance to
be absorbed in conversion from start; the removal effect of a label is the share of that probability
lost when the label's state leads straight to null. Everything is a linear solve: reruns on the same
journeys give the same numbers, unlike a simulation.
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

Label = Hashable


@dataclass(frozen=True)
class Journey:
    """A journey's states in time order, whether it ended in a conversion, and how many such journeys."""

    states: Sequence[Label]
    converted: bool
    count: int = 1


@dataclass(frozen=True)
class Chain:
    """Transient part of the chain: row/column 0 is start, row i > 0 is labels[i - 1].

    to_transient[i, j]: probability to move from transient state i to transient state j;
    to_conversion[i], to_null[i]: probability to be absorbed from i in conversion or null next.
    """

    labels: tuple[Label, ...]
    to_transient: np.ndarray
    to_conversion: np.ndarray
    to_null: np.ndarray


def build_chain(journeys: Iterable[Journey]) -> Chain:
    """The chain's transition probabilities from the journeys' transition counts (labels sorted by repr)."""
    journeys = [journey for journey in journeys if journey.states]
    labels = tuple(sorted({state for journey in journeys for state in journey.states}, key=repr))
    index = {label: position + 1 for position, label in enumerate(labels)}
    size = len(labels) + 1
    counts = np.zeros((size, size + 2))  # columns: transient states, then conversion, null
    conversion, null = size, size + 1
    for journey in journeys:
        path = [0] + [index[state] for state in journey.states]
        for source, target in itertools.pairwise(path):
            counts[source, target] += journey.count
        counts[path[-1], conversion if journey.converted else null] += journey.count
    totals = counts.sum(axis=1, keepdims=True)
    probabilities = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
    return Chain(
        labels=labels,
        to_transient=probabilities[:, :size],
        to_conversion=probabilities[:, conversion],
        to_null=probabilities[:, null],
    )


def conversion_probability(chain: Chain, removed: Label | None = None) -> float:
    """Probability to be absorbed in conversion from start; with `removed`, that state leads to null.

    Solves (I - Q) x = r, Q the transient-to-transient block and r the one-step conversion
    probabilities; x[0] is the answer (the fundamental-matrix identity B = (I - Q)^-1 R).
    """
    to_transient = chain.to_transient.copy()
    to_conversion = chain.to_conversion.copy()
    if removed is not None:
        row = chain.labels.index(removed) + 1
        to_transient[row, :] = 0.0
        to_conversion[row] = 0.0
    system = np.eye(len(to_conversion)) - to_transient
    return float(np.linalg.solve(system, to_conversion)[0])


def removal_effects(journeys: Iterable[Journey]) -> dict[Label, float]:
    """Per label, 1 - P(conversion without the label) / P(conversion); all 0 when nothing converts."""
    chain = build_chain(journeys)
    if not chain.labels:
        return {}
    base = conversion_probability(chain)
    if base <= 0.0:
        return dict.fromkeys(chain.labels, 0.0)
    # a removal never raises the probability; max() drops floating-point noise below 0
    return {label: max(0.0, 1.0 - conversion_probability(chain, label) / base) for label in chain.labels}


def credit_shares(effects: dict[Label, float]) -> dict[Label, float]:
    """Each label's removal effect over the sum of all removal effects (0 for all when that sum is 0)."""
    total = sum(effects.values())
    if total <= 0.0:
        return dict.fromkeys(effects, 0.0)
    return {label: effect / total for label, effect in effects.items()}
