"""Labels: week classes after T, defaults, and censoring at the end of the data (hand-made ledgers)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.build import build_features
from features.labels import HORIZON_WEEKS, LATER, build_labels, week_of
from features.ledger.ledger import Ledger
from tests.support.ledgers import DUE, ISSUED, SETTLED_AFTER, T, after, make_ledger, week_ledger


def labels_at(ledger: Ledger, as_of) -> pd.DataFrame:
    """Labels of the snapshot rows (the invoices open at the end of each as-of day), keyed by invoice id."""
    labels = build_labels(ledger, build_features(ledger, as_of))
    return labels.set_index("invoice_id")


def test_week_boundaries():
    labels = labels_at(week_ledger(), T)
    for invoice, (days_after, week) in SETTLED_AFTER.items():
        row = labels.loc[invoice]
        assert row["week_class"] == week, invoice
        assert row["days_to_settle"] == days_after, invoice
        assert not row["timing_censored"] and row["observed_weeks"] == HORIZON_WEEKS, invoice
    # never paid (200 days observed) and written off: 'later or never', known, not censored
    for invoice in ("NEVER", "WROTE_OFF"):
        row = labels.loc[invoice]
        assert row["week_class"] == LATER and np.isnan(row["days_to_settle"]) and not row["timing_censored"]


def test_week_of_is_ceil_of_days_over_seven():
    assert week_of(np.array([1, 7, 8, 91, 92, 400])).tolist() == [1, 1, 2, 13, 14, 14]


def test_open_at_the_end_of_the_data_is_censored_not_unpaid():
    known = after(T, 30)
    ledger = make_ledger(
        [("OPEN", ISSUED, DUE), ("PAID_LATER", ISSUED, DUE), ("PAID_29", ISSUED, DUE), ("PAID_30", ISSUED, DUE)],
        payments=[
            ("PAID_LATER", after(T, 45)),  # after the end of the data: not a known fact
            ("PAID_29", after(T, 29)),
            ("PAID_30", after(T, 30)),
        ],
        known_until=known,
    )
    labels = labels_at(ledger, T)
    for invoice in ("OPEN", "PAID_LATER"):
        row = labels.loc[invoice]
        assert row["timing_censored"], invoice
        assert np.isnan(row["week_class"]) and np.isnan(row["days_to_settle"]), invoice
        assert row["observed_weeks"] == 30 // 7 == 4, invoice  # floor((known_until - T) / 7)
    # settled within the observed part of the data (29 and 30 days after T: week 5) is known
    assert labels.loc["PAID_29", "week_class"] == 5 and not labels.loc["PAID_29", "timing_censored"]
    assert labels.loc["PAID_30", "week_class"] == 5 and labels.loc["PAID_30", "days_to_settle"] == 30


@pytest.mark.parametrize(
    ("days_observed", "censored", "observed_weeks"),
    [(0, True, 0), (6, True, 0), (7, True, 1), (90, True, 12), (91, False, 13), (200, False, 13)],
)
def test_observed_weeks_of_an_open_invoice(days_observed, censored, observed_weeks):
    ledger = make_ledger(
        [("OPEN", ISSUED, DUE), ("OTHER", "2024-01-01", "2024-01-31")],
        payments=[("OTHER", "2024-01-10")],
        known_until=after(T, days_observed),
    )
    row = labels_at(ledger, T).loc["OPEN"]
    assert row["timing_censored"] == censored
    assert row["observed_weeks"] == observed_weeks
    assert np.isnan(row["week_class"]) if censored else row["week_class"] == LATER


def test_a_settlement_in_an_incomplete_week_is_still_known():
    """Known until T + 10: week 2 is not complete, but a settlement on T + 9 is a fact."""
    ledger = make_ledger([("I", ISSUED, DUE)], payments=[("I", after(T, 9))], known_until=after(T, 10))
    row = labels_at(ledger, T).loc["I"]
    assert row["week_class"] == 2 and not row["timing_censored"]


# --------------------------------------------------------------------------- default
D = "2024-01-31"  # due date of the default cases; D + 90 = 2024-04-30


def default_ledger(known_until: str, default_days: int = 90) -> Ledger:
    return make_ledger(
        [
            ("UNPAID", "2024-01-01", D),
            ("PAID_ON_90", "2024-01-01", D),
            ("PAID_ON_91", "2024-01-01", D),
            ("PAID_EARLY", "2024-01-01", D),
            ("WRITTEN_OFF", "2024-01-01", D),
            ("RECENT", "2024-02-01", "2024-03-02"),
        ],
        payments=[("PAID_ON_90", after(D, 90)), ("PAID_ON_91", after(D, 91)), ("PAID_EARLY", after(D, 15))],
        write_offs=[("WRITTEN_OFF", after(D, 20))],
        known_until=known_until,
        default_days=default_days,
    )


def test_default_by_write_off_and_by_90_days_past_due():
    assert after(D, 90) == "2024-04-30"
    labels = labels_at(default_ledger(known_until="2024-04-30"), "2024-02-10")
    expected = {
        "UNPAID": 1.0,  # unsettled at the end of due + 90 (exactly the end of the data)
        "PAID_ON_90": 0.0,  # settled on due + 90: in time
        "PAID_ON_91": 1.0,  # not settled by due + 90 (its payment is after the end of the data anyway)
        "PAID_EARLY": 0.0,
        "WRITTEN_OFF": 1.0,
    }
    for invoice, default in expected.items():
        assert labels.loc[invoice, "default"] == default, invoice
        assert not labels.loc[invoice, "default_censored"], invoice
    # due 2024-03-02: due + 90 = 2024-05-31 is after the end of the data -> censored, not "did not default"
    assert labels.loc["RECENT", "default_censored"] and np.isnan(labels.loc["RECENT", "default"])


def test_settled_after_the_horizon_is_a_default_when_the_payment_is_known():
    labels = labels_at(default_ledger(known_until="2024-06-30"), "2024-02-10")
    assert labels.loc["PAID_ON_91", "default"] == 1.0 and labels.loc["PAID_ON_90", "default"] == 0.0
    assert labels.loc["RECENT", "default"] == 1.0  # never paid, 2024-05-31 <= known until


def test_default_censored_when_due_plus_90_is_after_the_end_of_the_data():
    labels = labels_at(default_ledger(known_until="2024-04-29"), "2024-02-10")  # one day short of D + 90
    for invoice in ("UNPAID", "PAID_ON_90", "PAID_ON_91", "RECENT"):
        assert labels.loc[invoice, "default_censored"], invoice
        assert np.isnan(labels.loc[invoice, "default"]), invoice


def test_an_open_default_window_is_observed_up_to_the_end_of_the_data():
    """T = 2024-02-10 is 10 days after D: the window ends 80 days after T. Known until 2024-03-31, 50 days after T."""
    labels = labels_at(default_ledger(known_until="2024-03-31"), "2024-02-10")
    window = labels["default_window_days"]
    observed = labels["default_observed_days"]
    assert window["UNPAID"] == 80 and window["RECENT"] == 21 + 90  # RECENT is due 2024-03-02
    for invoice in ("UNPAID", "PAID_ON_90", "PAID_ON_91", "RECENT"):  # still open, or settled after the data ends
        assert labels.loc[invoice, "default_censored"] and observed[invoice] == 50, invoice
    assert observed["PAID_EARLY"] == 50 and labels.loc["PAID_EARLY", "days_to_settle"] == 5  # settled in its window
    # written off on D + 20: it will never settle, so its whole window is known (a default), though default is NaN
    assert observed["WRITTEN_OFF"] == window["WRITTEN_OFF"] == 80 and labels.loc["WRITTEN_OFF", "default_censored"]


def test_a_passed_default_window_is_observed_to_its_end():
    labels = labels_at(default_ledger(known_until="2024-06-30"), "2024-02-10")
    np.testing.assert_array_equal(labels["default_observed_days"], labels["default_window_days"])
    late = labels_at(default_ledger(known_until="2024-06-30"), after(D, 95)).loc["UNPAID"]  # open past due + 90
    assert late["default_window_days"] == late["default_observed_days"] == -5 and late["default"] == 1.0


def test_the_default_horizon_is_configurable():
    """Ledger(default_days=60): D + 60 = 2024-03-31."""
    ledger = make_ledger(
        [
            ("UNPAID", "2024-01-01", D),
            ("PAID_ON_60", "2024-01-01", D),
            ("PAID_ON_61", "2024-01-01", D),
            ("RECENT", "2024-02-01", "2024-03-02"),
        ],
        payments=[("PAID_ON_60", after(D, 60)), ("PAID_ON_61", after(D, 61))],
        known_until=after(D, 61),
        default_days=60,
    )
    assert ledger.default_days == 60
    labels = labels_at(ledger, "2024-02-10")
    assert labels.loc["UNPAID", "default"] == 1.0
    assert labels.loc["PAID_ON_60", "default"] == 0.0
    assert labels.loc["PAID_ON_61", "default"] == 1.0
    assert labels.loc["RECENT", "default_censored"]  # 2024-03-02 + 60 = 2024-05-01 > 2024-04-01
    # the same facts under the 90-day backstop: the window is not complete yet
    ninety = make_ledger([("UNPAID", "2024-01-01", D)], known_until=after(D, 61))
    assert labels_at(ninety, "2024-02-10").loc["UNPAID", "default_censored"]


def test_labels_keep_the_snapshot_order_and_columns():
    ledger = week_ledger()
    snapshots = build_features(ledger, [T, pd.Timestamp("2024-03-20")])
    labels = build_labels(ledger, snapshots)
    assert list(labels.columns) == [
        "invoice_id",
        "as_of",
        "days_to_settle",
        "week_class",
        "timing_censored",
        "observed_weeks",
        "default",
        "default_censored",
        "default_window_days",
        "default_observed_days",
    ]
    assert labels["invoice_id"].tolist() == snapshots["invoice_id"].tolist()
    assert (labels["as_of"].to_numpy() == snapshots["as_of"].to_numpy()).all()
    # the same invoice at a later T: days and week counted from that T
    later = labels[labels["as_of"] == pd.Timestamp("2024-03-20")].set_index("invoice_id")
    assert later.loc["S85", "days_to_settle"] == 85 - 19 and later.loc["S85", "week_class"] == 10  # ceil(66 / 7)
