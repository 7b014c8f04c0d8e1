"""Expected cash by week with P10/P50/P90 bands, from per-invoice weekly payment probabilities.

The expectation is exact: sum of open amount x P(settled in week k). The bands come from simulating settlement
weeks with a Gaussian copula: invoices of one customer share a customer factor (a payment run, a cash squeeze moves
them together) and all invoices share a small portfolio factor. Treating invoices as independent makes bands far too
narrow. The two correlations are estimated from the ledger's own past at training time (`estimate_correlations` on
a backtest before the training cutoff, training.train.cash_correlations) and stored in the bundle
(`ScoringBundle.cash_correlations`); `CUSTOMER_CORRELATION` and `PORTFOLIO_CORRELATION` are only the fallback of
bundles trained before that, or on too little history.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import norm

from features.labels import HORIZON_WEEKS
from features.ledger.ledger import Ledger

CUSTOMER_CORRELATION = 0.6
PORTFOLIO_CORRELATION = 0.15
"""Fallback correlations (fixed constants, used when none were estimated)."""
DRAWS = 400
TARGET_COVERAGE = 0.8
"""Share of past weeks whose actual cash the P10-P90 band should hold."""
PORTFOLIO_GRID = (0.0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5)
"""Book correlations tried by `calibrate_portfolio`, smallest first."""
CALIBRATION_DRAWS = 200
MAX_CUSTOMER_CORRELATION = 0.9
MAX_PORTFOLIO_CORRELATION = 0.5


@dataclass(frozen=True)
class CashCorrelations:
    """Correlations of the copula's latent normals: invoices of one customer (customer + portfolio), of the book."""

    customer: float = CUSTOMER_CORRELATION
    portfolio: float = PORTFOLIO_CORRELATION
    method: str = "fixed constants"
    """How they were obtained (the fixed constants, or the estimator and what it saw)."""


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
    scores: pd.DataFrame,
    weeks: int = HORIZON_WEEKS,
    group_by: str | None = None,
    draws: int = DRAWS,
    seed: int = 0,
    correlations: CashCorrelations | None = None,
) -> pd.DataFrame:
    """week_start, week_end, expected_cash_base, p10/p50/p90_cash_base (optionally per group), plus the open book.

    `correlations`: the bundle's (`ScoringBundle.cash_correlations`); the fixed fallback when not given.

    Reconciles: sum of expected cash over the 13 weeks + expected 'later' = open amount, to the cent.
    """
    if weeks < 1 or weeks > HORIZON_WEEKS:
        raise ValueError(f"weeks must be between 1 and {HORIZON_WEEKS}")
    week_columns = [f"p_pay_week_{k}" for k in range(1, HORIZON_WEEKS + 1)]
    rho = correlations or CashCorrelations()
    groups = [(None, scores)] if group_by is None else list(scores.groupby(group_by, sort=True))
    frames = []
    for key, part in groups:
        proba = np.hstack([part[week_columns].to_numpy(), part[["p_pay_later"]].to_numpy()])
        amount = part["open_amount_base"].to_numpy(dtype=np.float64)
        expected = (proba[:, :HORIZON_WEEKS] * amount[:, None]).sum(axis=0)
        simulated = simulate_weekly_cash(
            proba,
            amount,
            part["customer_id"].to_numpy(),
            draws=draws,
            seed=seed,
            customer_correlation=rho.customer,
            portfolio_correlation=rho.portfolio,
        )
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


# ------------------------------------------------------------------------------ correlations from the ledger's past
def latent_scores(proba: np.ndarray, week_class: np.ndarray) -> np.ndarray:
    """E[z | observed week class] for the copula's latent normal z of each invoice (`simulate_weekly_cash` settles an
    invoice in class k when Phi(z) falls between the model's cumulative probabilities of classes k-1 and k)."""
    cdf = np.clip(np.cumsum(proba, axis=1), 0.0, 1.0)
    cdf[:, -1] = 1.0
    index = week_class.astype(int) - 1
    rows = np.arange(len(proba))
    upper = cdf[rows, index]
    lower = np.where(index > 0, cdf[rows, np.maximum(index - 1, 0)], 0.0)
    a, b = norm.ppf(np.clip(lower, 1e-12, 1.0)), norm.ppf(np.clip(upper, 0.0, 1.0 - 1e-12))
    a = np.where(lower <= 0.0, -np.inf, a)
    b = np.where(upper >= 1.0, np.inf, b)
    mass = np.maximum(upper - lower, 1e-12)
    return (norm.pdf(a) - norm.pdf(b)) / mass


def pair_moments(z: np.ndarray, date: np.ndarray, customer: np.ndarray) -> tuple[float, float]:
    """(mean z_i z_j over pairs of invoices of one customer on one as-of date, mean over pairs of invoices of two
    different customers on one as-of date)."""
    date_code = pd.factorize(date)[0]
    group_code = pd.factorize(pd.Series(date_code).astype(str) + "|" + pd.Series(customer).astype(str))[0]

    def pair_sums(code: np.ndarray) -> tuple[float, float]:
        total = np.bincount(code, weights=z)
        squares = np.bincount(code, weights=z * z)
        count = np.bincount(code).astype(np.float64)
        return float((total**2 - squares).sum()), float((count * (count - 1)).sum())

    within_sum, within_pairs = pair_sums(group_code)
    book_sum, book_pairs = pair_sums(date_code)
    within = within_sum / within_pairs if within_pairs > 0 else 0.0
    across_pairs = book_pairs - within_pairs
    across = (book_sum - within_sum) / across_pairs if across_pairs > 0 else 0.0
    return within, across


def simulate_classes(
    proba: np.ndarray, date: np.ndarray, customer: np.ndarray, correlations: CashCorrelations, rng: np.random.Generator
) -> np.ndarray:
    """One draw of week classes (1..14) from the copula: a factor per as-of date, one per (date, customer)."""
    date_code = pd.factorize(date)[0]
    group_code = pd.factorize(pd.Series(date_code).astype(str) + "|" + pd.Series(customer).astype(str))[0]
    own = max(1e-9, 1.0 - correlations.customer - correlations.portfolio)
    latent = (
        np.sqrt(correlations.portfolio) * rng.standard_normal(date_code.max() + 1)[date_code]
        + np.sqrt(correlations.customer) * rng.standard_normal(group_code.max() + 1)[group_code]
        + np.sqrt(own) * rng.standard_normal(len(proba))
    )
    cdf = np.cumsum(proba, axis=1)[:, :HORIZON_WEEKS]
    return 1 + (norm.cdf(latent)[:, None] > cdf).sum(axis=1)


def estimate_correlations(
    proba: np.ndarray,
    week_class: np.ndarray,
    date: np.ndarray,
    customer: np.ndarray,
    seed: int = 0,
    replicates: int = 4,
    rounds: int = 3,
) -> CashCorrelations:
    """The copula's customer and portfolio correlations that reproduce the observed co-movement of outcomes.

    `proba` (n, 14) are a model's predictions for invoices open on past as-of dates `date`, `week_class` (1..14) what
    happened. The moments: the mean product of latent scores (`latent_scores`) over pairs of invoices of one
    customer on one date, and over pairs of two customers on one date. Observed week classes only bound the latent
    normal, so the moments understate the correlations; the estimator is indirect inference: simulate classes
    from the same predictions at trial correlations, measure the same moments, and rescale (a few rounds, common
    random numbers). Clipped to [0, MAX_CUSTOMER_CORRELATION] and [0, MAX_PORTFOLIO_CORRELATION].
    """
    observed_within, observed_across = pair_moments(latent_scores(proba, week_class), date, customer)
    customer_rho, portfolio_rho = 0.3, 0.1
    for _ in range(rounds):
        trial = CashCorrelations(max(customer_rho, 0.05), max(portfolio_rho, 0.05))
        rng = np.random.default_rng(seed)
        moments = np.array(
            [
                pair_moments(latent_scores(proba, simulate_classes(proba, date, customer, trial, rng)), date, customer)
                for _ in range(replicates)
            ]
        ).mean(axis=0)
        within_scale = moments[0] / (trial.customer + trial.portfolio)
        across_scale = moments[1] / trial.portfolio
        portfolio_rho = observed_across / across_scale if across_scale > 0 else 0.0
        portfolio_rho = float(np.clip(portfolio_rho, 0.0, MAX_PORTFOLIO_CORRELATION))
        total = observed_within / within_scale if within_scale > 0 else portfolio_rho
        customer_rho = float(np.clip(total - portfolio_rho, 0.0, MAX_CUSTOMER_CORRELATION))
        customer_rho = min(customer_rho, 0.95 - portfolio_rho)
    dates = len(pd.unique(date))
    return CashCorrelations(
        round(customer_rho, 4),
        round(portfolio_rho, 4),
        f"estimated: indirect inference on {len(proba):,} outcomes of {dates} past as-of dates",
    )


def actual_weekly_cash(ledger: Ledger, rows: pd.DataFrame, as_of: pd.Timestamp) -> np.ndarray:
    """Payments the ledger holds on the invoices open at `as_of` (`rows`), per week after it, in base currency at
    `as_of` rates (13 values; weeks after the ledger's end hold what it knows)."""
    payments = ledger.payments[ledger.payments["invoice_id"].isin(rows["invoice_id"])]
    days = (payments["payment_date"] - as_of).dt.days.to_numpy()
    week = np.ceil(days / 7).astype(int)
    currency = rows.set_index("invoice_id")["currency"].reindex(payments["invoice_id"]).to_numpy()
    rate = ledger.fx_rate(pd.Series(currency, dtype="str"), pd.Series([as_of] * len(payments)))
    amount = payments["amount"].to_numpy() * rate
    return np.array([amount[week == k].sum() for k in range(1, HORIZON_WEEKS + 1)])


def calibrate_portfolio(
    books: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]],
    customer_correlation: float,
    target: float = TARGET_COVERAGE,
    draws: int = CALIBRATION_DRAWS,
) -> tuple[float, float]:
    """(the smallest PORTFOLIO_GRID correlation whose P10-P90 bands hold at least `target` of the past weeks' actual
    cash, that coverage); the largest of the grid when none does. `books`: (proba, open amount, customer, actual
    weekly cash) of the invoices open on each past as-of date. What the book factor stands for, errors every invoice
    shares (drift, a slow month), shows only in the book's cash, so it is fitted to the book's cash."""
    coverage = float("nan")
    for portfolio in PORTFOLIO_GRID:
        inside = []
        for proba, amount, customer, actual in books:
            simulated = simulate_weekly_cash(
                proba,
                amount,
                customer,
                draws=draws,
                customer_correlation=min(customer_correlation, 0.95 - portfolio),
                portfolio_correlation=portfolio,
            )
            low, high = np.percentile(simulated, 10, axis=0), np.percentile(simulated, 90, axis=0)
            inside.append((actual >= low) & (actual <= high))
        coverage = float(np.concatenate(inside).mean()) if inside else float("nan")
        if coverage >= target:
            return portfolio, coverage
    return PORTFOLIO_GRID[-1], coverage
