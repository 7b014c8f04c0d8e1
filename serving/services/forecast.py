"""The cash forecast as a view over stored scores (the statistics live in training.cashflow)."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from serving.store.models import Customer
from serving.store.scores import read_scores
from training.cashflow import CashCorrelations, weekly_cash_forecast
from training.contract import FORECAST_GROUP_SOURCES, ForecastGroup


def with_customer_groups(scores: pd.DataFrame, customers: pd.DataFrame) -> pd.DataFrame:
    """Scores with the groupings that live on the customer (segment, collector) added ('' where unknown)."""
    by_id = customers.set_index("customer_id")
    out = scores.copy()
    for group, source in FORECAST_GROUP_SOURCES.items():
        out[group.value] = out["customer_id"].map(by_id[source]).fillna("").astype(str)
    return out


def cash_forecast(
    scores: pd.DataFrame,
    weeks: int = 13,
    group_by: ForecastGroup | None = None,
    correlations: CashCorrelations | None = None,
) -> pd.DataFrame:
    """Expected cash by week with P10/P50/P90 (base currency), optionally per ForecastGroup; `correlations` are
    the scoring bundle's (`ScoringBundle.cash_correlations`), the fixed fallback when not given.

    `scores` are stored score rows; grouping by segment or collector needs those columns on the rows
    (`with_customer_groups`).
    """
    column = None if group_by is None else ForecastGroup(group_by).value
    if column is not None and column not in scores.columns:
        raise ValueError(f"cannot group the forecast by '{column}': the scores have no such column")
    return weekly_cash_forecast(scores, weeks=weeks, group_by=column, correlations=correlations)


def stored_run_forecast(
    session: Session,
    run_id: int,
    weeks: int = 13,
    group_by: ForecastGroup | None = None,
    correlations: CashCorrelations | None = None,
) -> pd.DataFrame:
    """`cash_forecast` of a stored scoring run's scores, grouped by `group_by` (the customer's segment or collector
    joined from the store when the scores lack it): what GET /v1/forecast/cash and the web forecast page show."""
    scores = read_scores(session, run_id)
    if group_by is not None and group_by.value not in scores.columns:
        customers = pd.DataFrame(
            session.execute(select(Customer.customer_id, Customer.segment, Customer.collector_id)).all(),
            columns=["customer_id", "segment", "collector_id"],
        )
        scores = with_customer_groups(scores, customers)
    return cash_forecast(scores, weeks, group_by, correlations=correlations)
