"""Reasons: the features that pushed a row's default risk up the most, in words, with the row's own values.

Hand-picked rows and hand-made contributions (log-odds per feature, as LightGBM's `pred_contrib` gives them),
so every expected string is written out here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from training.explain import reasons

FEATURES = [
    "days_past_due",
    "hist_last5_late30_count",
    "dispute_open",
    "credit_utilisation",
    "due_weekday",
    "hist_days_late_ewm",
]
ROWS = pd.DataFrame(
    {
        "days_past_due": [13.0, 13.0, 0.0, 40.0],
        "days_to_due": [-13.0, -13.0, 5.0, -40.0],
        "hist_last5_late30_count": [3.0, 3.0, 0.0, 2.0],
        "hist_last5_count": [5.0, 5.0, 5.0, 4.0],
        "dispute_open": [1.0, 1.0, 0.0, 1.0],
        "dispute_age_days": [12.0, 12.0, np.nan, 30.0],
        "credit_utilisation": [0.5, 0.5, 0.85, 0.9],
        "due_weekday": [4.0, 4.0, 2.0, 1.0],
        "hist_days_late_ewm": [8.0, 8.0, np.nan, 21.4],
    }
)
CONTRIBUTIONS = np.array(
    [
        # weekday first (never a reason), credit utilisation lowered the risk (not a reason)
        [0.8, 0.5, 0.1, -0.3, 0.9, 0.0],
        # nothing raised the risk
        [-0.8, -0.5, -0.1, -0.3, 0.0, -0.2],
        # not yet due; the strongest feature has no value (NaN): skipped; 0 late of 5 phrases to nothing
        [0.2, 0.3, 0.0, 0.4, 0.0, 0.9],
        # five features raised it: the three largest, largest first
        [0.3, 0.2, 0.6, 0.1, 0.0, 0.5],
    ]
)


def test_reasons_name_the_features_that_raised_the_risk_with_their_values():
    assert reasons(ROWS, CONTRIBUTIONS, FEATURES) == [
        "13 days past due; 3 of last 5 invoices paid > 30 days late; dispute open 12 days",
        "",
        "85% of credit limit used; due in 5 days",
        "dispute open 30 days; recent invoices paid 21 days late on average; 40 days past due",
    ]


def test_fewer_reasons_when_asked_and_none_for_no_rows():
    assert reasons(ROWS, CONTRIBUTIONS, FEATURES, top=1) == [
        "13 days past due",
        "",
        "85% of credit limit used",
        "dispute open 30 days",
    ]
    assert reasons(ROWS.iloc[:0], CONTRIBUTIONS[:0], FEATURES) == []


def test_a_feature_without_a_phrase_reads_as_its_catalog_meaning():
    rows = pd.DataFrame({"hist_days_late_std": [6.25]})
    assert reasons(rows, np.array([[0.4]]), ["hist_days_late_std"]) == [
        "spread (population standard deviation) of days late: 6.25"
    ]


def test_payment_run_pattern_features_are_never_a_reason():
    """A customer's payment-run habits (weekday shares, run gaps, next expected run) move the timing, but telling a
    collector "34% of runs on a Tuesday" explains nothing: those features are skipped even when they dominate."""
    names = ["hist_run_share_tue", "hist_run_gap_median", "days_to_next_expected_run", "days_past_due"]
    rows = pd.DataFrame(
        {
            "hist_run_share_tue": [0.34],
            "hist_run_gap_median": [14.0],
            "days_to_next_expected_run": [3.0],
            "days_past_due": [20.0],
            "days_to_due": [-20.0],
        }
    )
    assert reasons(rows, np.array([[2.0, 1.5, 1.0, 0.1]]), names) == ["20 days past due"]
