"""Maximum-likelihood fitting shared by the CLV models: positive parameters optimised on the log scale."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize


@dataclass(frozen=True)
class Fit:
    """Fitted parameters (by name) and the diagnostics of the fit."""

    parameters: dict[str, float]
    log_likelihood: float
    customers_used: int
    converged: bool


def fit_positive_parameters(
    names: Sequence[str],
    negative_log_likelihood: Callable[[np.ndarray], float],
    start: Sequence[float],
    customers_used: int,
) -> Fit:
    """Minimise `negative_log_likelihood(parameters)` over positive parameters, starting from `start`."""
    if customers_used == 0:
        raise ValueError("cannot fit a CLV model on zero customers")

    def objective(log_parameters: np.ndarray) -> float:
        value = negative_log_likelihood(np.exp(log_parameters))
        return float(value) if np.isfinite(value) else 1e300

    result = minimize(objective, np.log(np.asarray(start, dtype=float)), method="L-BFGS-B",
                      options={"maxiter": 2000})
    parameters = np.exp(result.x)
    return Fit(
        parameters=dict(zip(names, (float(p) for p in parameters), strict=True)),
        log_likelihood=-float(result.fun),
        customers_used=customers_used,
        converged=bool(result.success) and bool(np.all(np.isfinite(parameters))),
    )


def unique_rows(*columns: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """The distinct rows of the given columns and how often each occurs (likelihoods sum per row)."""
    stacked = np.column_stack([np.asarray(c, dtype=float) for c in columns])
    distinct, counts = np.unique(stacked, axis=0, return_counts=True)
    return [distinct[:, i] for i in range(distinct.shape[1])], counts.astype(float)
