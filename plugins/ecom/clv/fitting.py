"""Fitting shared by the CLV models: positive parameters, estimated on the log scale, deterministically.

Small shops put BG/NBD and Gamma-Gamma on flat likelihood ridges (a shop whose customers spend alike
drives Gamma-Gamma's q to infinity; one whose customers buy alike does the same to BG/NBD's r and
alpha). There plain maximum likelihood has no finite answer, and where the optimiser stops depends on
the last bits of its start, so two runs on the same data published different parameters. So:

- The objective is order-free: the likelihood is summed with math.fsum (exactly rounded) over the
  distinct rows in sorted order, and the start is the caller's fixed point, computed the same way.
- Each log-parameter has a weak Normal prior centred on that start (standard deviation
  PRIOR_SD_LOG): the estimate is the posterior mode. With many customers the data dominate and the
  mode is the maximum-likelihood estimate; on a ridge the prior picks one finite point, the same in
  every run.
- A parameter the data do not pin down is reported as not identified: its 95% interval on the log
  scale (from the posterior's curvature at the mode) is wider than a factor e either way, so its
  value comes mostly from the prior.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

PRIOR_SD_LOG = 3.0
"""Standard deviation of each log-parameter's prior: a factor e^3 ≈ 20 either side of the start."""
IDENTIFIED_HALF_WIDTH_LOG = 1.0
"""A parameter is identified when its 95% interval is within a factor e^1 either side of the estimate."""
_Z95 = 1.959963984540054
_HESSIAN_STEP = 1e-3


@dataclass(frozen=True)
class Fit:
    """Fitted parameters (by name) and the diagnostics of the fit."""

    parameters: dict[str, float]
    log_likelihood: float
    customers_used: int
    converged: bool
    not_identified: tuple[str, ...] = ()


def sorted_sum(values: np.ndarray) -> float:
    """The exactly rounded sum, whatever the order of the values (math.fsum)."""
    return math.fsum(np.asarray(values, dtype=float).ravel().tolist())


def fit_positive_parameters(
    names: Sequence[str],
    log_likelihood: Callable[[np.ndarray], float],
    start: Sequence[float],
    customers_used: int,
) -> Fit:
    """Posterior mode of positive parameters under `log_likelihood(parameters)` (the data's total) and
    the weak log-Normal prior centred on `start`; see the module docstring."""
    if customers_used == 0:
        raise ValueError("cannot fit a CLV model on zero customers")
    centre = np.log(np.asarray(start, dtype=float))

    def data_objective(log_parameters: np.ndarray) -> float:
        value = -log_likelihood(np.exp(log_parameters))
        return float(value) if np.isfinite(value) else 1e300

    def objective(log_parameters: np.ndarray) -> float:
        prior = sorted_sum((log_parameters - centre) ** 2) / (2 * PRIOR_SD_LOG**2)
        return data_objective(log_parameters) + prior

    result = minimize(objective, centre, method="L-BFGS-B",
                      options={"maxiter": 5000, "ftol": 1e-14, "gtol": 1e-9})
    parameters = np.exp(result.x)
    curvature = _hessian(objective, result.x)
    return Fit(
        parameters=dict(zip(names, (float(p) for p in parameters), strict=True)),
        log_likelihood=-data_objective(result.x),
        customers_used=customers_used,
        converged=bool(result.success) and bool(np.all(np.isfinite(parameters))),
        not_identified=tuple(name for name, known in zip(names, _identified(curvature), strict=True)
                             if not known),
    )


def _hessian(function: Callable[[np.ndarray], float], at: np.ndarray) -> np.ndarray:
    """Central finite-difference Hessian of `function` at `at`."""
    size = len(at)
    step = np.eye(size) * _HESSIAN_STEP
    centre = function(at)
    hessian = np.empty((size, size))
    for i in range(size):
        for j in range(i, size):
            if i == j:
                value = (function(at + step[i]) - 2 * centre + function(at - step[i])) / _HESSIAN_STEP**2
            else:
                value = (function(at + step[i] + step[j]) - function(at + step[i] - step[j])
                         - function(at - step[i] + step[j]) + function(at - step[i] - step[j])) \
                    / (4 * _HESSIAN_STEP**2)
            hessian[i, j] = hessian[j, i] = value
    return hessian


def _identified(curvature: np.ndarray) -> list[bool]:
    """Per parameter: is its 95% normal-approximation interval (log scale, the other parameters
    integrated out) within ±IDENTIFIED_HALF_WIDTH_LOG? A curvature that is not positive definite
    (no proper mode) identifies nothing."""
    eigenvalues = np.linalg.eigvalsh(curvature)
    if not np.all(np.isfinite(curvature)) or eigenvalues.min() <= 0:
        return [False] * len(curvature)
    variances = np.diag(np.linalg.inv(curvature))
    return [bool(_Z95 * math.sqrt(v) <= IDENTIFIED_HALF_WIDTH_LOG) for v in variances]


def unique_rows(*columns: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """The distinct rows of the given columns, sorted, and how often each occurs (likelihoods sum per
    row, so the objective is the same whatever the input's row order)."""
    stacked = np.column_stack([np.asarray(c, dtype=float) for c in columns])
    distinct, counts = np.unique(stacked, axis=0, return_counts=True)
    return [distinct[:, i] for i in range(distinct.shape[1])], counts.astype(float)
