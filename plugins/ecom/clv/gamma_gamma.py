"""Gamma-Gamma spend model (Fader, Hardie & Lee 2005, "RFM and CLV"; Colombo & Jiang 1999).

A customer's order values are Gamma(p, ν) with ν ~ Gamma(q, v) across customers, independent of how
often they buy. Fitted on repeat customers (x ≥ 1) with a positive mean repeat order value m̄.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import gammaln

from ecom.clv.fitting import Fit, fit_positive_parameters, sorted_sum, unique_rows

PARAMETERS = ("p", "q", "v")


@dataclass(frozen=True)
class GammaGamma:
    p: float
    q: float
    v: float

    def log_likelihood(self, frequency: np.ndarray, mean_value: np.ndarray) -> np.ndarray:
        """Per-customer log-likelihood of the mean order value m̄ over x orders."""
        x, m = np.asarray(frequency, dtype=float), np.asarray(mean_value, dtype=float)
        p, q, v = self.p, self.q, self.v
        return (
            gammaln(p * x + q) - gammaln(p * x) - gammaln(q) + q * np.log(v)
            + (p * x - 1) * np.log(m) + p * x * np.log(x) - (p * x + q) * np.log(v + m * x)
        )

    def expected_order_value(self, frequency: np.ndarray, mean_value: np.ndarray) -> np.ndarray:
        """E[order value | x, m̄] = p (v + x m̄) / (p x + q − 1); x = 0 gives the mean p v / (q − 1)."""
        x, m = np.asarray(frequency, dtype=float), np.asarray(mean_value, dtype=float)
        return self.p * (self.v + x * m) / (self.p * x + self.q - 1)


def fit_gamma_gamma(frequency: np.ndarray, mean_value: np.ndarray) -> tuple[GammaGamma, Fit]:
    """Gamma-Gamma parameters (posterior mode under a weak prior, the same whatever the customers'
    order: ecom.clv.fitting); customers need x ≥ 1 and m̄ > 0."""
    x, m = np.asarray(frequency, dtype=float), np.asarray(mean_value, dtype=float)
    if np.any(x < 1) or np.any(m <= 0):
        raise ValueError("Gamma-Gamma needs repeat customers (frequency >= 1) with a positive mean value")
    (x_rows, m_rows), weight = unique_rows(x, m)

    def log_likelihood(parameters: np.ndarray) -> float:
        return sorted_sum(weight * GammaGamma(*parameters).log_likelihood(x_rows, m_rows))

    mean_value = sorted_sum(weight * m_rows) / sorted_sum(weight)
    fit = fit_positive_parameters(PARAMETERS, log_likelihood, (1.0, 2.0, mean_value), len(x))
    return GammaGamma(**fit.parameters), fit
