"""BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers the easy way").

While alive a customer buys at a Poisson rate λ ~ Gamma(r, α); after each purchase they drop out for
good with probability p ~ Beta(a, b). Inputs per customer, in one time unit (days here): frequency x
(repeat purchases), recency t_x (time of the last purchase since the first) and age T (time since the
first purchase).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import betaln, gammaln, hyp2f1

from ecom.clv.fitting import Fit, fit_positive_parameters, sorted_sum, unique_rows

PARAMETERS = ("r", "alpha", "a", "b")


@dataclass(frozen=True)
class BgNbd:
    r: float
    alpha: float
    a: float
    b: float

    def log_likelihood(self, frequency: np.ndarray, recency: np.ndarray, age: np.ndarray) -> np.ndarray:
        """Per-customer log-likelihood (FHL 2005, equation 6), computed in log space."""
        x, t_x, big_t = (np.asarray(v, dtype=float) for v in (frequency, recency, age))
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        common = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
        still_alive = betaln(a, b + x) - betaln(a, b) - (r + x) * np.log(alpha + big_t)
        repeat = x > 0
        dropped_out = np.full_like(x, -np.inf)
        dropped_out[repeat] = (
            betaln(a + 1, b + x[repeat] - 1) - betaln(a, b) - (r + x[repeat]) * np.log(alpha + t_x[repeat])
        )
        return common + np.logaddexp(still_alive, dropped_out)

    def p_alive(self, frequency: np.ndarray, recency: np.ndarray, age: np.ndarray) -> np.ndarray:
        """Probability the customer is still alive at age T (1 for customers without repeat purchases)."""
        x, t_x, big_t = (np.asarray(v, dtype=float) for v in (frequency, recency, age))
        return 1.0 / (1.0 + self._dropout_odds(x, t_x, big_t))

    def expected_purchases(
        self, horizon: float, frequency: np.ndarray, recency: np.ndarray, age: np.ndarray
    ) -> np.ndarray:
        """Expected purchases in the next `horizon` time units given the history (FHL 2005, eq. 10)."""
        x, t_x, big_t = (np.asarray(v, dtype=float) for v in (frequency, recency, age))
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        z = horizon / (alpha + big_t + horizon)
        hypergeometric = hyp2f1(r + x, b + x, a + b + x - 1, z)
        numerator = (a + b + x - 1) / (a - 1) * (
            1 - ((alpha + big_t) / (alpha + big_t + horizon)) ** (r + x) * hypergeometric
        )
        return numerator / (1.0 + self._dropout_odds(x, t_x, big_t))

    def _dropout_odds(self, x: np.ndarray, t_x: np.ndarray, big_t: np.ndarray) -> np.ndarray:
        odds = np.zeros_like(x)
        repeat = x > 0
        odds[repeat] = (
            self.a / (self.b + x[repeat] - 1)
            * ((self.alpha + big_t[repeat]) / (self.alpha + t_x[repeat])) ** (self.r + x[repeat])
        )
        return odds


def fit_bg_nbd(frequency: np.ndarray, recency: np.ndarray, age: np.ndarray) -> tuple[BgNbd, Fit]:
    """BG/NBD parameters for the customers' (x, t_x, T): the posterior mode under a weak prior, the
    same whatever the customers' order (ecom.clv.fitting)."""
    (x, t_x, big_t), weight = unique_rows(frequency, recency, age)

    def log_likelihood(parameters: np.ndarray) -> float:
        return sorted_sum(weight * BgNbd(*parameters).log_likelihood(x, t_x, big_t))

    customers = sorted_sum(weight)
    start = (1.0, max(sorted_sum(weight * big_t) / customers, 1.0), 1.0, 1.0)
    fit = fit_positive_parameters(PARAMETERS, log_likelihood, start, len(np.asarray(frequency)))
    return BgNbd(**fit.parameters), fit
