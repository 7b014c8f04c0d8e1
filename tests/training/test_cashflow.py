"""The cash bands' correlations estimated from outcomes (training.cashflow.estimate_correlations): on outcomes
drawn from the copula with known dependence, a book of strongly correlated customers and one of independent
invoices, the estimator recovers each (and ranks them)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.labels import HORIZON_WEEKS
from training.cashflow import CashCorrelations, estimate_correlations, latent_scores, simulate_classes
from training.models import hazards_to_distribution


def _book(seed: int = 1, dates: int = 12, customers: int = 200):
    """Predictions for invoices open on `dates` as-of dates: 1-6 invoices per customer, weekly hazards 5-40%."""
    rng = np.random.default_rng(seed)
    per_customer = rng.integers(1, 7, size=customers)
    customer = np.repeat(np.arange(customers), per_customer)
    date = np.repeat(np.arange(dates), len(customer))
    customer = np.tile(customer, dates)
    hazard = rng.uniform(0.05, 0.4, size=(len(customer), 1)) * np.ones((1, HORIZON_WEEKS))
    return hazards_to_distribution(hazard), date, customer


def _outcomes(proba, date, customer, truth: CashCorrelations, seed: int = 5) -> np.ndarray:
    return simulate_classes(proba, date, customer, truth, np.random.default_rng(seed))


@pytest.mark.parametrize(("customer_rho", "portfolio_rho"), [(0.0, 0.0), (0.3, 0.05), (0.6, 0.1)])
def test_estimator_recovers_the_correlations_outcomes_were_drawn_with(customer_rho, portfolio_rho):
    proba, date, customer = _book()
    week_class = _outcomes(proba, date, customer, CashCorrelations(customer_rho, portfolio_rho))
    estimated = estimate_correlations(proba, week_class, date, customer)
    assert estimated.customer == pytest.approx(customer_rho, abs=0.08)
    assert estimated.portfolio == pytest.approx(portfolio_rho, abs=0.06)
    assert estimated.method.startswith("estimated")


def test_correlated_customers_give_a_higher_customer_correlation_than_independent_invoices():
    proba, date, customer = _book(seed=2)
    together = _outcomes(proba, date, customer, CashCorrelations(0.7, 0.05))
    alone = _outcomes(proba, date, customer, CashCorrelations(0.0, 0.0))
    strongly = estimate_correlations(proba, together, date, customer)
    independent = estimate_correlations(proba, alone, date, customer)
    assert strongly.customer > independent.customer + 0.4
    assert independent.customer < 0.1 and independent.portfolio < 0.05


def test_latent_scores_are_the_mean_normal_of_the_observed_class():
    proba = np.full((1, HORIZON_WEEKS + 1), 1.0 / (HORIZON_WEEKS + 1))
    first, last = latent_scores(np.vstack([proba, proba]), np.array([1, HORIZON_WEEKS + 1]))
    assert first < -1.5 and last > 1.5 and first == pytest.approx(-last)
    # a class the model was sure of tells nothing: the latent mean is 0
    sure = np.zeros((1, HORIZON_WEEKS + 1))
    sure[0, 2] = 1.0
    assert latent_scores(sure, np.array([3]))[0] == pytest.approx(0.0, abs=1e-9)


def test_simulated_classes_follow_the_predictions_without_correlation():
    proba, date, customer = _book(seed=3, dates=4)
    classes = _outcomes(proba, date, customer, CashCorrelations(0.0, 0.0))
    observed = pd.Series(classes).value_counts(normalize=True).sort_index()
    expected = proba.mean(axis=0)
    np.testing.assert_allclose(observed.reindex(range(1, HORIZON_WEEKS + 2), fill_value=0.0), expected, atol=0.01)
