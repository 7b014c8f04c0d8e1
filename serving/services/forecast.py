"""The cash forecast as a view over stored scores (the statistics live in training.cashflow)."""

from __future__ import annotations

import pandas as pd

from training.cashflow import weekly_cash_forecast


def cash_forecast(scores: pd.DataFrame, weeks: int = 13, group_by: str | None = None) -> pd.DataFrame:
    """Expected cash by week with P10/P50/P90 (base currency), optionally per currency, segment or collector.

    `scores` are stored score rows; grouping by segment or collector needs those columns on the rows.
    """
    if group_by is not None and group_by not in scores.columns:
        raise ValueError(f"cannot group the forecast by '{group_by}': the scores have no such column")
    return weekly_cash_forecast(scores, weeks=weeks, group_by=group_by)
