"""The CLV fitters recover the parameters of data simulated from known BG/NBD and Gamma-Gamma models."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from ecom.clv.bg_nbd import BgNbd, fit_bg_nbd
from ecom.clv.gamma_gamma import fit_gamma_gamma
from ecom.clv.warehouse import fit_parameters, predict

TRUE_BG_NBD = {"r": 0.8, "alpha": 40.0, "a": 0.7, "b": 2.5}
TRUE_GAMMA_GAMMA = {"p": 6.0, "q": 4.0, "v": 30.0}


def simulate_bg_nbd(rng: np.random.Generator, customers: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x, t_x, T): repeat purchases at Exp(λ) gaps, dropping out after each repeat purchase with
    probability p (BG/NBD: a customer is alive at their first purchase)."""
    rate = rng.gamma(TRUE_BG_NBD["r"], 1 / TRUE_BG_NBD["alpha"], customers)
    dropout = rng.beta(TRUE_BG_NBD["a"], TRUE_BG_NBD["b"], customers)
    age = rng.uniform(180, 540, customers)
    frequency, recency, now = np.zeros(customers), np.zeros(customers), np.zeros(customers)
    buying = np.ones(customers, dtype=bool)
    while buying.any():
        now = np.where(buying, now + rng.exponential(1 / rate), now)
        buying &= now <= age
        frequency += buying
        recency = np.where(buying, now, recency)
        buying &= rng.random(customers) >= dropout
    return frequency, recency, age


def simulate_gamma_gamma(rng: np.random.Generator, frequency: np.ndarray) -> np.ndarray:
    """Mean of x Gamma(p, ν) order values with ν ~ Gamma(q, v): sum ~ Gamma(p x, ν)."""
    nu = rng.gamma(TRUE_GAMMA_GAMMA["q"], 1 / TRUE_GAMMA_GAMMA["v"], len(frequency))
    return rng.gamma(TRUE_GAMMA_GAMMA["p"] * frequency, 1 / nu) / frequency


def test_bg_nbd_recovers_simulated_parameters():
    frequency, recency, age = simulate_bg_nbd(np.random.default_rng(7), 8000)
    model, fit = fit_bg_nbd(frequency, recency, age)
    assert fit.converged and fit.customers_used == 8000
    for name, true_value in TRUE_BG_NBD.items():
        assert getattr(model, name) == pytest.approx(true_value, rel=0.2), name
    # the fitted model explains the data better than the truth only by chance-level amounts
    truth = BgNbd(**TRUE_BG_NBD).log_likelihood(frequency, recency, age).sum()
    assert 0 <= fit.log_likelihood - truth < 10


def test_gamma_gamma_recovers_simulated_parameters():
    rng = np.random.default_rng(8)
    frequency = rng.integers(1, 8, 6000).astype(float)
    model, fit = fit_gamma_gamma(frequency, simulate_gamma_gamma(rng, frequency))
    assert fit.converged and fit.customers_used == 6000
    for name, true_value in TRUE_GAMMA_GAMMA.items():
        assert getattr(model, name) == pytest.approx(true_value, rel=0.2), name
    # E[order value] for a new customer: p v / (q - 1)
    assert model.expected_order_value(np.array([0.0]), np.array([0.0]))[0] == pytest.approx(
        model.p * model.v / (model.q - 1)
    )


def test_p_alive_and_expected_purchases_by_hand():
    model = BgNbd(r=1.0, alpha=10.0, a=2.0, b=7.0)
    # x = 0: alive for sure; x = 2, t_x = 20, T = 50: odds a/(b+x-1) ((α+T)/(α+t_x))^(r+x) = 2/8 × 2^3 = 2
    assert model.p_alive([0, 2], [0, 20], [50, 50]) == pytest.approx([1.0, 1 / 3])
    # expected purchases grow with the horizon and are below the alive purchase rate × horizon
    short, long = (model.expected_purchases(h, [2], [40], [50])[0] for h in (30, 365))
    assert 0 < short < long
    # population check: x=0, T tiny, a huge b → no dropout, E[Y(t)] → r t / α
    no_dropout = BgNbd(r=2.0, alpha=20.0, a=1e-3, b=1e6)
    assert no_dropout.expected_purchases(10, [0], [0], [1e-9])[0] == pytest.approx(2 * 10 / 20, rel=1e-3)


def test_too_few_customers_give_no_parameters_and_null_predictions():
    summary = pd.DataFrame({"customer_id": ["c1"], "frequency": [1], "recency_days": [5],
                            "tenure_days": [9], "monetary_value": [10.0], "as_of_date": [date(2024, 3, 31)]})
    parameters = fit_parameters(summary, min_customers=2)
    assert parameters.empty
    assert predict(summary, parameters)[["p_alive", "predicted_clv_365d"]].isna().all().all()


def test_fit_parameters_publish_both_models_and_predictions_combine_them():
    rng = np.random.default_rng(3)
    frequency, recency, age = simulate_bg_nbd(rng, 2000)
    value = np.where(frequency > 0, simulate_gamma_gamma(rng, np.maximum(frequency, 1)), 0.0)
    summary = pd.DataFrame({"customer_id": [f"c{i}" for i in range(2000)], "frequency": frequency,
                            "recency_days": recency, "tenure_days": age, "monetary_value": value,
                            "as_of_date": date(2024, 3, 31)})
    parameters = fit_parameters(summary, min_customers=20)
    assert list(zip(parameters["model"], parameters["parameter"], strict=True)) == [
        ("bg_nbd", "r"), ("bg_nbd", "alpha"), ("bg_nbd", "a"), ("bg_nbd", "b"),
        ("gamma_gamma", "p"), ("gamma_gamma", "q"), ("gamma_gamma", "v"),
    ]
    assert parameters["converged"].all() and (parameters["as_of_date"] == date(2024, 3, 31)).all()
    gamma_gamma_rows = parameters[parameters["model"] == "gamma_gamma"]
    assert gamma_gamma_rows["customers_used"].iloc[0] == (frequency > 0).sum()
    predictions = predict(summary, parameters)
    assert predictions["p_alive"].between(0, 1).all()
    assert (predictions["expected_purchases_365d"] >= predictions["expected_purchases_90d"]).all()
    assert np.allclose(predictions["predicted_clv_365d"],
                       predictions["expected_purchases_365d"] * predictions["expected_order_value"])
