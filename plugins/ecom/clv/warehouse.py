"""CLV as the dbt Python models run it: fit on the BTYD summary, then score every customer.

Input: the portrait's BTYD summary (int_customer_btyd_summarized: customer_id, frequency, recency_days,
tenure_days, monetary_value, as_of_date). Too few customers to fit (fewer than `min_customers` for a
model) means no parameters and null predictions, never a guess.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from ecom.clv.bg_nbd import BgNbd, fit_bg_nbd
from ecom.clv.fitting import Fit
from ecom.clv.gamma_gamma import GammaGamma, fit_gamma_gamma

PARAMETER_COLUMNS = [
    "model", "parameter", "value", "customers_used", "log_likelihood", "converged", "identified",
    "not_identified_reason", "as_of_date",
]
FLAT_RIDGE = "flat_likelihood_ridge"
"""Why a parameter is not identified: the data leave it on a flat ridge (ecom.clv.fitting)."""
PREDICTION_COLUMNS = ["customer_id", "p_alive", "expected_purchases_90d", "expected_purchases_365d",
                      "expected_order_value", "predicted_clv_365d"]


def fit_parameters(summary: pd.DataFrame, min_customers: int) -> pd.DataFrame:
    """Long table of fitted parameters with the fit's diagnostics (one row per model and parameter)."""
    rows: list[dict] = []
    as_of = summary["as_of_date"].iloc[0] if len(summary) else None
    if len(summary) >= min_customers:
        _, fit = fit_bg_nbd(summary["frequency"], summary["recency_days"], summary["tenure_days"])
        rows += _parameter_rows("bg_nbd", fit, as_of)
    repeat = _gamma_gamma_customers(summary)
    if len(repeat) >= min_customers:
        _, fit = fit_gamma_gamma(repeat["frequency"], repeat["monetary_value"])
        rows += _parameter_rows("gamma_gamma", fit, as_of)
    return pd.DataFrame(rows, columns=PARAMETER_COLUMNS)


def predict(summary: pd.DataFrame, parameters: pd.DataFrame) -> pd.DataFrame:
    """Per customer: p_alive, expected purchases in 90 / 365 days, expected order value, 365-day CLV."""
    values = {(m, p): v for m, p, v in parameters[["model", "parameter", "value"]].itertuples(index=False)}
    frame = pd.DataFrame({"customer_id": summary["customer_id"].astype(str)})
    history = [summary[c].to_numpy(dtype=float) for c in ("frequency", "recency_days", "tenure_days")]
    monetary_value = summary["monetary_value"].to_numpy(dtype=float)
    if ("bg_nbd", "r") in values:
        bg_nbd = BgNbd(*(values[("bg_nbd", name)] for name in ("r", "alpha", "a", "b")))
        frame["p_alive"] = bg_nbd.p_alive(*history)
        frame["expected_purchases_90d"] = bg_nbd.expected_purchases(90, *history)
        frame["expected_purchases_365d"] = bg_nbd.expected_purchases(365, *history)
    else:
        frame["p_alive"] = frame["expected_purchases_90d"] = frame["expected_purchases_365d"] = np.nan
    if ("gamma_gamma", "p") in values:
        gamma_gamma = GammaGamma(*(values[("gamma_gamma", name)] for name in ("p", "q", "v")))
        positive = monetary_value > 0
        frequency = np.where(positive, history[0], 0.0)  # no positive repeat value: the population mean
        frame["expected_order_value"] = gamma_gamma.expected_order_value(
            frequency, np.where(positive, monetary_value, 0.0)
        )
    else:
        frame["expected_order_value"] = np.nan
    frame["predicted_clv_365d"] = frame["expected_purchases_365d"] * frame["expected_order_value"]
    return frame[PREDICTION_COLUMNS]


def _gamma_gamma_customers(summary: pd.DataFrame) -> pd.DataFrame:
    return summary[(summary["frequency"] >= 1) & (summary["monetary_value"].astype(float) > 0)]


def _parameter_rows(model: str, fit: Fit, as_of: date | None) -> list[dict]:
    return [
        {"model": model, "parameter": name, "value": value, "customers_used": fit.customers_used,
         "log_likelihood": fit.log_likelihood, "converged": fit.converged,
         "identified": name not in fit.not_identified,
         "not_identified_reason": FLAT_RIDGE if name in fit.not_identified else None, "as_of_date": as_of}
        for name, value in fit.parameters.items()
    ]

