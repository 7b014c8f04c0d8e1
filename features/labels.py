"""Censoring-aware labels for snapshot rows: when the invoice was settled after T, and whether it defaulted.

A row whose outcome is not yet known at the end of the data is marked censored, never labelled "not paid".
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.build import positions_in
from features.days import NO_DAY, to_days
from features.ledger.ledger import Ledger

HORIZON_WEEKS = 13
LATER = HORIZON_WEEKS + 1
"""Week class 14: settled more than 13 weeks after T, or never (written off)."""


def week_of(days_after: np.ndarray) -> np.ndarray:
    """Week class of a settlement `days_after` days after T: days 1-7 -> 1, 8-14 -> 2, ..., > 91 -> 14."""
    weeks = np.ceil(np.asarray(days_after, dtype=np.float64) / 7.0)
    return np.where(weeks > HORIZON_WEEKS, LATER, np.maximum(weeks, 1))


def build_labels(ledger: Ledger, snapshots: pd.DataFrame) -> pd.DataFrame:
    """Labels for each snapshot row (invoice_id, as_of), using everything the ledger knows (up to known_until).

    Columns: days_to_settle (NaN unless settled by known_until), week_class (1..13, 14 = later or never; NaN if
    censored), timing_censored, observed_weeks (complete weeks after T covered by the data, at most 13),
    default (1/0, NaN if censored), default_censored (the window due + default_days is not complete),
    default_window_days (due + default_days - T: days from T to the end of the default window; <= 0 when the invoice
    is already in default at T), default_observed_days (days after T up to which it is known whether the invoice
    settled inside that window: the whole window once it has passed or once the invoice was written off, because a
    written-off invoice never settles; otherwise known_until - T, clipped to [0, window]).
    A snapshot whose window is still open is censored for `default`, but its observed days are not: a model can
    learn from them (training.models.DefaultModel).
    """
    status = ledger.settlement
    position = positions_in(status["invoice_id"], snapshots["invoice_id"])
    if (position < 0).any():
        missing = snapshots["invoice_id"].to_numpy()[position < 0]
        raise KeyError(f"{len(missing)} snapshot invoice(s) not in the ledger, e.g. {missing[0]!r}")
    t = to_days(snapshots["as_of"])
    known = to_days(pd.Series([ledger.known_until]))[0]
    settle = to_days(status["settle_date"])[position]
    write_off = to_days(status["write_off_date"])[position]
    default_day = to_days(status["default_date"])[position]
    due = to_days(status["due_date"])[position]

    settled_known = settle <= known
    written_off_known = write_off <= known
    days_to_settle = np.where(settled_known, settle - t, np.nan)
    observed_days = known - t
    observed_weeks = np.clip(observed_days // 7, 0, HORIZON_WEEKS)
    week = np.full(len(t), np.nan)
    in_horizon = settled_known & (settle - t <= 7 * HORIZON_WEEKS)
    week[in_horizon] = week_of(settle[in_horizon] - t[in_horizon])
    later_known = ~in_horizon & (written_off_known | (observed_days >= 7 * HORIZON_WEEKS))
    week[later_known] = LATER
    timing_censored = np.isnan(week)

    window_complete = due + ledger.default_days <= known
    defaulted = (default_day < NO_DAY) & (default_day <= known)
    default = np.where(window_complete, defaulted.astype(np.float64), np.nan)
    window_days = due + ledger.default_days - t
    decided = window_complete | (written_off_known & ~settled_known)
    observed_window = np.where(decided, window_days, np.clip(observed_days, 0, np.maximum(window_days, 0)))
    return pd.DataFrame(
        {
            "invoice_id": snapshots["invoice_id"].to_numpy(),
            "as_of": snapshots["as_of"].to_numpy(),
            "days_to_settle": days_to_settle,
            "week_class": week,
            "timing_censored": timing_censored,
            "observed_weeks": np.where(timing_censored, observed_weeks, HORIZON_WEEKS).astype(np.int64),
            "default": default,
            "default_censored": ~window_complete,
            "default_window_days": window_days.astype(np.int64),
            "default_observed_days": observed_window.astype(np.int64),
        }
    )
