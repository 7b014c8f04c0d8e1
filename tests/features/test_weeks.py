"""Hazard week rows: how many rows each snapshot expands into, where the event is, and the calendar of each week."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.build import build_features
from features.labels import HORIZON_WEEKS, LATER, build_labels
from features.ledger.ledger import Ledger
from features.weeks import WEEK_FEATURES, expand_weeks
from tests.support.ledgers import SETTLED_AFTER, T, after, make_ledger, week_ledger


def expanded(snapshots: pd.DataFrame, labels: pd.DataFrame | None = None) -> pd.DataFrame:
    position, features, event = expand_weeks(snapshots, labels)
    out = features.copy()
    out.insert(0, "invoice_id", snapshots["invoice_id"].to_numpy()[position])
    out.insert(1, "as_of", snapshots["as_of"].to_numpy()[position])
    if event is not None:
        out["event"] = event
    return out


def test_training_rows_end_at_the_settlement_week_with_one_event():
    ledger = week_ledger()
    snapshots = build_features(ledger, T)
    weeks = expanded(snapshots, build_labels(ledger, snapshots))
    for invoice, (_, week) in SETTLED_AFTER.items():
        rows = weeks[weeks["invoice_id"] == invoice]
        if week == LATER:  # settled after week 13: every week survived, no event
            assert rows["week"].tolist() == list(range(1, HORIZON_WEEKS + 1)), invoice
            assert rows["event"].sum() == 0, invoice
        else:
            assert rows["week"].tolist() == list(range(1, week + 1)), invoice
            assert rows["event"].tolist() == [0.0] * (week - 1) + [1.0], invoice
    for invoice in ("NEVER", "WROTE_OFF"):  # never settled: 13 weeks, no event
        rows = weeks[weeks["invoice_id"] == invoice]
        assert len(rows) == HORIZON_WEEKS and rows["event"].sum() == 0
    expected_total = sum(min(week, HORIZON_WEEKS) for _, week in SETTLED_AFTER.values()) + 2 * HORIZON_WEEKS
    assert len(weeks) == expected_total


def test_censored_rows_cover_only_the_weeks_observed():
    ledger = make_ledger(
        [("OPEN", "2024-02-01", "2024-03-02"), ("LATE", "2024-02-01", "2024-03-02")],
        payments=[("LATE", after(T, 40))],
        known_until=after(T, 30),
    )  # 30 days: 4 full weeks
    snapshots = build_features(ledger, T)
    labels = build_labels(ledger, snapshots)
    assert labels["timing_censored"].all() and (labels["observed_weeks"] == 4).all()
    weeks = expanded(snapshots, labels)
    for invoice in ("OPEN", "LATE"):
        rows = weeks[weeks["invoice_id"] == invoice]
        assert rows["week"].tolist() == [1, 2, 3, 4] and rows["event"].sum() == 0


def test_a_row_censored_at_t_adds_no_week():
    ledger = make_ledger([("OPEN", "2024-02-01", "2024-03-02")], known_until=after(T, 6))
    snapshots = build_features(ledger, T)
    position, features, event = expand_weeks(snapshots, build_labels(ledger, snapshots))
    assert len(position) == len(features) == len(event) == 0
    assert list(features.columns) == WEEK_FEATURES


def test_scoring_rows_get_13_weeks_each():
    ledger = week_ledger()
    snapshots = build_features(ledger, [T, pd.Timestamp("2024-03-08")])
    position, features, event = expand_weeks(snapshots)
    assert event is None
    assert len(features) == HORIZON_WEEKS * len(snapshots)
    assert np.bincount(position).tolist() == [HORIZON_WEEKS] * len(snapshots)
    assert features["week"].tolist() == list(range(1, HORIZON_WEEKS + 1)) * len(snapshots)
    assert list(features.columns) == WEEK_FEATURES
    assert expand_weeks(snapshots, weeks=4)[1]["week"].max() == 4


# --------------------------------------------------------------------------- the calendar of each week
CALENDAR_T = "2024-03-24"  # a Sunday. Week k = days T + 7(k-1) + 1 .. T + 7k:
# week 1 = 03-25..03-31 (holds 03-31: a month and quarter end), 2 = 04-01..04-07, 3 = 04-08..04-14,
# 4 = 04-15..04-21 (the 15th), 5 = 04-22..04-28, 6 = 04-29..05-05 (04-30), 7 = 05-06..05-12,
# 8 = 05-13..05-19 (05-15), 9 = 05-20..05-26, 10 = 05-27..06-02 (05-31), 11 = 06-03..06-09,
# 12 = 06-10..06-16 (06-15), 13 = 06-17..06-23. The quarter end 06-30 is in week 15: outside the horizon.
MONTH_END_WEEKS = {1, 6, 10}
QUARTER_END_WEEKS = {1}
MID_MONTH_WEEKS = {4, 8, 12}


def calendar_ledger() -> Ledger:
    """C1 paid H1 on 2024-02-29 (a month end, not in a quarter's last 5 days), 10 days late; F is open at T,
    due 2024-04-10 (week 3), with a promise made on 03-20 to pay on 04-02 (week 2)."""
    tables = {
        "customers": pd.DataFrame([{"customer_id": "C1"}]),
        "invoices": pd.DataFrame(
            [
                {
                    "invoice_id": "H1",
                    "customer_id": "C1",
                    "invoice_date": "2024-01-20",
                    "due_date": "2024-02-19",
                    "amount": "100.00",
                    "currency": "USD",
                },
                {
                    "invoice_id": "F",
                    "customer_id": "C1",
                    "invoice_date": "2024-03-11",
                    "due_date": "2024-04-10",
                    "amount": "100.00",
                    "currency": "USD",
                },
            ]
        ),
        "payments": pd.DataFrame(
            [{"payment_id": "P1", "invoice_id": "H1", "payment_date": "2024-02-29", "amount": "100.00"}]
        ),
        "promises": pd.DataFrame(
            [
                {
                    "promise_id": "R1",
                    "invoice_id": "F",
                    "created_date": "2024-03-20",
                    "promised_date": "2024-04-02",
                    "amount": "",
                }
            ]
        ),
    }
    return Ledger.from_tables(tables)


@pytest.fixture(scope="module")
def calendar_weeks() -> pd.DataFrame:
    snapshots = build_features(calendar_ledger(), CALENDAR_T)
    assert snapshots["invoice_id"].tolist() == ["F"]
    return expand_weeks(snapshots)[1].set_index("week")


def test_month_quarter_and_mid_month_weeks(calendar_weeks):
    weeks = range(1, HORIZON_WEEKS + 1)
    assert calendar_weeks["month_end_in_week"].tolist() == [float(k in MONTH_END_WEEKS) for k in weeks]
    assert calendar_weeks["quarter_end_in_week"].tolist() == [float(k in QUARTER_END_WEEKS) for k in weeks]
    assert calendar_weeks["mid_month_in_week"].tolist() == [float(k in MID_MONTH_WEEKS) for k in weeks]


def test_due_and_promise_weeks(calendar_weeks):
    weeks = calendar_weeks
    assert weeks["due_in_week"].tolist() == [float(k == 3) for k in range(1, 14)]
    # end of week k is 03-24 + 7k; due 04-10 is 17 days after T
    assert weeks["days_past_due_at_week_end"].tolist() == [7 * k - 17 for k in range(1, 14)]
    assert weeks["promise_in_week"].tolist() == [float(k == 2) for k in range(1, 14)]
    # middle of week 2 is 04-04, two days after the promised 04-02
    assert weeks.loc[2, "days_from_promise"] == 2.0
    assert weeks.loc[1, "days_from_promise"] == -5.0


def test_history_and_habit_weeks(calendar_weeks):
    weeks = calendar_weeks
    # due 04-10 + the customer's recent days late (one invoice, 10 days late) = Saturday 04-20, paid the business day
    # before: Friday 04-19, week 4 (middle 04-18)
    assert weeks["history_expected_in_week"].tolist() == [float(k == 4) for k in range(1, 14)]
    assert weeks.loc[4, "days_from_history_expected"] == -1.0
    # the only payment was on a month end (02-29): habit 1 in month-end weeks; quarter-end and mid-month habit 0
    assert weeks["month_end_habit_in_week"].tolist() == [float(k in MONTH_END_WEEKS) for k in range(1, 14)]
    assert weeks["quarter_end_habit_in_week"].sum() == 0
    assert weeks["mid_month_habit_in_week"].sum() == 0


def test_the_as_of_day_itself_is_not_in_week_one():
    """March 2024 (and Q1) ends on Sunday 03-31; its last business day is Friday 03-29.

    T = 03-29: week 1 is 03-30..04-05, which holds the calendar month end but not the business one: neither."""
    snapshots = build_features(calendar_ledger(), "2024-03-29")
    weeks = expand_weeks(snapshots)[1]
    assert weeks.loc[0, "month_end_in_week"] == 0 and weeks.loc[0, "quarter_end_in_week"] == 0
    # and T = 2024-03-28: week 1 = 03-29..04-04 holds it
    weeks = expand_weeks(build_features(calendar_ledger(), "2024-03-28"))[1]
    assert weeks.loc[0, "month_end_in_week"] == 1 and weeks.loc[0, "quarter_end_in_week"] == 1


def test_cold_start_habits_are_empty_not_zero():
    ledger = make_ledger([("OPEN", "2024-02-01", "2024-03-02")], known_until=after(T, 200))
    weeks = expand_weeks(build_features(ledger, T))[1]
    assert weeks["month_end_habit_in_week"].isna().all()
    assert weeks["history_expected_in_week"].eq(0).all() and weeks["days_from_history_expected"].isna().all()


# --------------------------------------------------------------------------- learned payment-day patterns
PATTERN_T = "2024-08-23"  # a Friday. Week 1 = Sat 08-24 .. Fri 08-30: it holds August's last business day (Fri 08-30);
# the calendar month end, Sat 08-31, is in week 2 (08-31 .. 09-06), which holds no business month end.
TUESDAYS = [str(d.date()) for d in pd.date_range("2024-06-04", "2024-08-20", freq="7D")]  # 12 Tuesdays
# MEND (Germany) pays on the last business day of each month: 03-28 because Good Friday 03-29 is a holiday there
MONTH_ENDS = ["2024-01-31", "2024-02-29", "2024-03-28", "2024-04-30", "2024-05-31", "2024-06-28", "2024-07-31"]


def pattern_ledger() -> Ledger:
    """TUE (US) pays an invoice every Tuesday, MEND (DE) one on every month's last business day, on time; each has
    one invoice open at T, due Saturday 08-31."""
    invoices, payments = [], []
    for customer, paid in (("TUE", TUESDAYS), ("MEND", MONTH_ENDS)):
        for k, date in enumerate([*paid, None]):
            due = date or "2024-08-31"
            invoice_id = f"{customer}{k}"
            issued = str((pd.Timestamp(due) - pd.Timedelta(days=30)).date())
            invoices.append(
                {
                    "invoice_id": invoice_id,
                    "customer_id": customer,
                    "invoice_date": issued,
                    "due_date": due,
                    "amount": "100.00",
                    "currency": "USD",
                }
            )
            if date:
                payments.append(
                    {"payment_id": f"P{invoice_id}", "invoice_id": invoice_id, "payment_date": date, "amount": "100.00"}
                )
    tables = {
        "customers": pd.DataFrame([{"customer_id": "TUE", "country": "US"}, {"customer_id": "MEND", "country": "DE"}]),
        "invoices": pd.DataFrame(invoices),
        "payments": pd.DataFrame(payments),
    }
    return Ledger.from_tables(tables)


@pytest.fixture(scope="module")
def pattern_rows() -> pd.DataFrame:
    return build_features(pattern_ledger(), PATTERN_T).set_index("customer_id")


def test_a_tuesday_payer_learns_tuesdays_and_a_weekly_gap(pattern_rows):
    tue = pattern_rows.loc["TUE"]
    assert tue["hist_run_count"] == 12
    assert tue["hist_run_share_tue"] == 1
    others = ["hist_run_share_mon", "hist_run_share_wed", "hist_run_share_thu", "hist_run_share_fri"]
    assert (tue[[*others, "hist_run_share_sat", "hist_run_share_sun"]] == 0).all()
    assert tue["hist_run_gap_median"] == 7 and tue["hist_run_gap_cv"] == 0
    assert tue["hist_month_end_run_share"] == 0
    # last run Tue 08-20, T three days later: next expected Tue 08-27
    assert tue["days_to_next_expected_run"] == 4


def test_a_month_end_payer_learns_the_last_business_day_of_its_country(pattern_rows):
    mend = pattern_rows.loc["MEND"]
    assert mend["hist_run_count"] == 7
    assert mend["hist_month_end_run_share"] == 1  # 03-28 counts: the last German business day of March
    assert mend["hist_quarter_end_run_share"] == 2 / 7  # 03-28 and 06-28 (Sunday 06-30)
    # gaps 29, 28, 33, 31, 28, 33: median 30; the last run 07-31 + 30 = Fri 08-30, 7 days after T
    assert mend["hist_run_gap_median"] == 30
    assert mend["days_to_next_expected_run"] == 30 - 23


def test_the_week_holding_the_business_month_end_not_the_calendar_one(pattern_rows):
    snapshots = build_features(pattern_ledger(), PATTERN_T)
    position, weeks, _ = expand_weeks(snapshots)
    weeks["customer_id"] = snapshots["customer_id"].to_numpy()[position]
    for customer in ("TUE", "MEND"):
        mine = weeks[weeks["customer_id"] == customer].set_index("week")
        # the month-end run of Fri 08-30 is in week 1; the calendar month end (Sat 08-31) would put it in week 2
        assert mine.loc[1, "month_end_in_week"] == 1 and mine.loc[2, "month_end_in_week"] == 0, customer
        # due Sat 08-31, paid the business day before: week 1
        assert mine["due_in_week"].tolist() == [1.0] + [0.0] * 12, customer
        # the end of September (Mon 09-30, a quarter end) is in week 6 (09-28 .. 10-04)
        assert mine.loc[6, "quarter_end_in_week"] == 1 and mine["quarter_end_in_week"].sum() == 1, customer
    tue = weeks[weeks["customer_id"] == "TUE"].set_index("week")
    mend = weeks[weeks["customer_id"] == "MEND"].set_index("week")
    assert mend.loc[1, "month_end_habit_in_week"] == 1 and mend.loc[2, "month_end_habit_in_week"] == 0
    assert tue.loc[1, "month_end_habit_in_week"] == 0
    # the next expected run: Tue 08-27 and Fri 08-30, both in week 1
    assert tue["expected_run_in_week"].tolist() == [1.0] + [0.0] * 12
    assert mend["expected_run_in_week"].tolist() == [1.0] + [0.0] * 12
    # a Tuesday payer's weekday pattern: one Tuesday a week, every week (no Tuesday holiday in the US here)
    assert (tue["weekday_habit_in_week"] == 1).all()
    # week 2 (08-31 .. 09-06) holds US Labor Day (Mon 09-02): 4 business days for TUE, 5 for MEND in Germany
    assert tue.loc[2, "business_days_in_week"] == 4 and mend.loc[2, "business_days_in_week"] == 5
    # week 6 (09-28 .. 10-04) holds German Unity Day (Thu 10-03)
    assert mend.loc[6, "business_days_in_week"] == 4 and tue.loc[6, "business_days_in_week"] == 5
