"""Expected cash by week with P10/P50/P90 bands, from per-invoice weekly payment probabilities.

The expectation is exact: sum of open amount x P(settled in week k). The bands come from simulating settlement
weeks with a Gaussian copula: invoices of one customer share a customer factor (a payment run, a cash squeeze moves
them together) and all invoices share a small portfolio factor. Treating invoices as independent makes bands far too
narrow; `CUSTOMER_CORRELATION` was chosen so that backtest coverage of the P10-P90 band is near 80%.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import norm

from features.labels import HORIZON_WEEKS

CUSTOMER_CORRELATION = 0.6
PORTFOLIO_CORRELATION = 0.15
DRAWS = 400


def simulate_weekly_cash(
    proba: np.ndarray,
    amount: np.ndarray,
    customer: np.ndarray,
    draws: int = DRAWS,
    seed: int = 0,
    customer_correlation: float = CUSTOMER_CORRELATION,
    portfolio_correlation: float = PORTFOLIO_CORRELATION,
    chunk: int = 50,
) -> np.ndarray:
    """(draws, 13) simulated cash per week (base currency)."""
    rng = np.random.default_rng(seed)
    n = len(amount)
    cash = np.zeros((draws, HORIZON_WEEKS))
    if n == 0:
        return cash
    cdf = np.cumsum(proba, axis=1)[:, :HORIZON_WEEKS]
    customer_code = pd.factorize(customer)[0]
    n_customers = customer_code.max() + 1
    own = max(1e-9, 1.0 - customer_correlation - portfolio_correlation)
    for start in range(0, draws, chunk):
        size = min(chunk, draws - start)
        portfolio = rng.standard_normal((size, 1))
        by_customer = rng.standard_normal((size, n_customers))[:, customer_code]
        noise = rng.standard_normal((size, n))
        latent = (
            np.sqrt(portfolio_correlation) * portfolio
            + np.sqrt(customer_correlation) * by_customer
            + np.sqrt(own) * noise
        )
        u = norm.cdf(latent)  # (size, n) uniform marginals, correlated within customer
        week = (u[:, :, None] > cdf[None, :, :]).sum(axis=2)  # 0..12 = weeks 1..13, 13 = later
        for k in range(HORIZON_WEEKS):
            cash[start : start + size, k] = ((week == k) * amount[None, :]).sum(axis=1)
    return cash


def weekly_cash_forecast(
    scores: pd.DataFrame, weeks: int = HORIZON_WEEKS, group_by: str | None = None, draws: int = DRAWS, seed: int = 0
) -> pd.DataFrame:
    """week_start, week_end, expected_cash_base, p10/p50/p90_cash_base (optionally per group), plus the open book.

    Reconciles: sum of expected cash over the 13 weeks + expected 'later' = open amount, to the cent.
    """
    if weeks < 1 or weeks > HORIZON_WEEKS:
        raise ValueError(f"weeks must be between 1 and {HORIZON_WEEKS}")
    week_columns = [f"p_pay_week_{k}" for k in range(1, HORIZON_WEEKS + 1)]
    groups = [(None, scores)] if group_by is None else list(scores.groupby(group_by, sort=True))
    frames = []
    for key, part in groups:
        proba = np.hstack([part[week_columns].to_numpy(), part[["p_pay_later"]].to_numpy()])
        amount = part["open_amount_base"].to_numpy(dtype=np.float64)
        expected = (proba[:, :HORIZON_WEEKS] * amount[:, None]).sum(axis=0)
        simulated = simulate_weekly_cash(proba, amount, part["customer_id"].to_numpy(), draws=draws, seed=seed)
        as_of = pd.Timestamp(scores["as_of"].iloc[0]) if len(scores) else pd.Timestamp("today").normalize()
        frame = pd.DataFrame(
            {
                "week": np.arange(1, HORIZON_WEEKS + 1),
                "week_start": [as_of + pd.Timedelta(days=7 * k + 1) for k in range(HORIZON_WEEKS)],
                "week_end": [as_of + pd.Timedelta(days=7 * (k + 1)) for k in range(HORIZON_WEEKS)],
                "expected_cash_base": expected.round(2),
                "p10_cash_base": np.percentile(simulated, 10, axis=0).round(2),
                "p50_cash_base": np.percentile(simulated, 50, axis=0).round(2),
                "p90_cash_base": np.percentile(simulated, 90, axis=0).round(2),
            }
        ).iloc[:weeks]
        open_book = round(float(amount.sum()), 2)
        # what is not expected within the weeks shown, so that shown weeks + later = the open book to the cent
        frame["expected_later_base"] = round(open_book - float(frame["expected_cash_base"].sum()), 2)
        frame["open_amount_base"] = open_book
        if group_by is not None:
            frame.insert(0, group_by, key)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)
