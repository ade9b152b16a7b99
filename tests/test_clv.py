"""The CLV fitters recover the parameters of data simulated from known BG/NBD and Gamma-Gamma models,
match the models' densities integrated independently, and give one answer per data set: the same in
any row order, and a stable, flagged one on a small shop's flat likelihood ridge."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats

from ecom.clv.bg_nbd import BgNbd, fit_bg_nbd
from ecom.clv.fitting import PRIOR_SD_LOG
from ecom.clv.gamma_gamma import GammaGamma, fit_gamma_gamma
from ecom.clv.warehouse import FLAT_RIDGE, fit_parameters, predict

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
    assert fit.converged and fit.customers_used == 8000 and fit.not_identified == ()
    for name, true_value in TRUE_BG_NBD.items():
        assert getattr(model, name) == pytest.approx(true_value, rel=0.2), name
    # the fitted model explains the data better than the truth only by chance-level amounts
    truth = BgNbd(**TRUE_BG_NBD).log_likelihood(frequency, recency, age).sum()
    assert 0 <= fit.log_likelihood - truth < 10


def test_gamma_gamma_recovers_simulated_parameters():
    rng = np.random.default_rng(8)
    frequency = rng.integers(1, 8, 6000).astype(float)
    model, fit = fit_gamma_gamma(frequency, simulate_gamma_gamma(rng, frequency))
    assert fit.converged and fit.customers_used == 6000 and fit.not_identified == ()
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


def small_shop(seed: int = 3, customers: int = 60) -> pd.DataFrame:
    """A BTYD summary of a small shop whose customers all spend alike (order values Gamma(3, scale 40)
    whoever buys): Gamma-Gamma's q has no finite maximum-likelihood value, the flat ridge of issue 13."""
    rng = np.random.default_rng(seed)
    frequency = rng.integers(0, 4, customers).astype(float)
    age = rng.integers(30, 120, customers).astype(float)
    recency = np.where(frequency > 0, np.floor(rng.uniform(0.2, 1, customers) * age), 0.0)
    orders = np.maximum(frequency, 1)
    value = np.where(frequency > 0, np.round(rng.gamma(3.0 * orders, 40.0) / orders, 2), 0.0)
    return pd.DataFrame({"customer_id": [f"c{i:03d}" for i in range(customers)], "frequency": frequency,
                         "recency_days": recency, "tenure_days": age, "monetary_value": value,
                         "as_of_date": date(2026, 6, 30)})


def test_gamma_gamma_log_likelihood_is_the_mixture_density_integrated_by_hand():
    model = GammaGamma(p=2.0, q=3.0, v=50.0)
    for x, m in [(1, 20.0), (3, 41.5)]:
        # m̄ | ν ~ Gamma(shape p x, rate ν x); ν ~ Gamma(shape q, rate v)
        density, _ = integrate.quad(lambda nu, x=x, m=m: stats.gamma.pdf(m, 2.0 * x, scale=1 / (nu * x))
                                    * stats.gamma.pdf(nu, 3.0, scale=1 / 50.0), 0, np.inf)
        assert model.log_likelihood([x], [m])[0] == pytest.approx(math.log(density), rel=1e-9)
    # one customer, x = 1, m̄ = 20: lgamma(5) - lgamma(2) - lgamma(3) + 3 ln 50 + ln 20 - 5 ln 70
    by_hand = (math.lgamma(5) - math.lgamma(2) - math.lgamma(3)
               + 3 * math.log(50) + math.log(20) - 5 * math.log(70))
    assert model.log_likelihood([1], [20.0])[0] == pytest.approx(by_hand, rel=1e-12)


def test_expected_order_value_is_the_posterior_mean_of_p_over_nu():
    model = GammaGamma(p=2.0, q=3.0, v=50.0)
    x, m = 3, 41.5

    def posterior(nu: float) -> float:
        return stats.gamma.pdf(m, 2.0 * x, scale=1 / (nu * x)) * stats.gamma.pdf(nu, 3.0, scale=1 / 50.0)

    evidence, _ = integrate.quad(posterior, 0, np.inf)
    mean, _ = integrate.quad(lambda nu: 2.0 / nu * posterior(nu), 0, np.inf)
    assert model.expected_order_value([x], [m])[0] == pytest.approx(mean / evidence, rel=1e-9)


def test_a_small_shop_gets_the_same_parameters_and_predictions_in_any_row_order():
    summary = small_shop()
    parameters = fit_parameters(summary, min_customers=20)
    predictions = predict(summary, parameters).sort_values("customer_id", ignore_index=True)
    for order in (summary.index[::-1], np.random.default_rng(0).permutation(summary.index)):
        shuffled = summary.loc[order].reset_index(drop=True)
        again = fit_parameters(shuffled, min_customers=20)
        pd.testing.assert_frame_equal(again, parameters, check_exact=True)
        pd.testing.assert_frame_equal(
            predict(shuffled, again).sort_values("customer_id", ignore_index=True), predictions,
            check_exact=True)


def test_a_small_shop_fit_is_well_posed_and_its_flat_ridge_is_reported():
    summary = small_shop()
    parameters = fit_parameters(summary, min_customers=20).set_index(["model", "parameter"])
    # a cent's millionth more on one customer's mean moves no parameter by more than the optimiser's
    # tolerance (plain maximum likelihood, stopping anywhere on the ridge, moved q by 0.25%)
    nudged = summary.copy()
    repeat = nudged.index[nudged["frequency"] > 0][0]
    nudged.loc[repeat, "monetary_value"] += 1e-8
    again = fit_parameters(nudged, min_customers=20).set_index(["model", "parameter"])
    assert np.allclose(again["value"], parameters["value"], rtol=1e-3, atol=0)
    gamma_gamma = parameters.loc["gamma_gamma"]
    assert gamma_gamma["converged"].all()
    assert gamma_gamma.loc[["q", "v"], "identified"].tolist() == [False, False]
    assert gamma_gamma.loc[["q", "v"], "not_identified_reason"].tolist() == [FLAT_RIDGE, FLAT_RIDGE]
    assert gamma_gamma.loc["p", "identified"] and pd.isna(gamma_gamma.loc["p", "not_identified_reason"])


def test_the_estimate_is_the_posterior_mode_under_the_documented_prior():
    """At the estimate, the data log-likelihood's slope in each log-parameter equals the weak prior's
    pull back to the start (1, 2, mean value): (log θ − log θ0) / PRIOR_SD_LOG²."""
    summary = small_shop()
    repeat = summary[summary["frequency"] > 0]
    x, m = repeat["frequency"].to_numpy(), repeat["monetary_value"].to_numpy()
    model, _ = fit_gamma_gamma(x, m)
    estimate = np.log([model.p, model.q, model.v])
    start = np.log([1.0, 2.0, m.mean()])
    step = 1e-5
    for i in range(3):
        up, down = estimate.copy(), estimate.copy()
        up[i] += step
        down[i] -= step
        slope = (GammaGamma(*np.exp(up)).log_likelihood(x, m).sum()
                 - GammaGamma(*np.exp(down)).log_likelihood(x, m).sum()) / (2 * step)
        # to the optimiser's tolerance; the pull is 0.1-0.2 here, and 0 for plain maximum likelihood
        assert slope == pytest.approx((estimate[i] - start[i]) / PRIOR_SD_LOG**2, abs=1e-3)
